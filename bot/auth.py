"""Who is calling: a staff member logged in to the console (session cookie), an integration with
the machine credential (`Authorization: Bearer <STAFF_TOKEN>`), the action server
(`X-Action-Server-Token: <ACTION_SERVER_TOKEN>`) or a public client (no credential).

No credential works by default: both tokens are empty unless configured (bot/settings.py refuses
ones shorter than 24 characters), and there is no account until an admin is created
(`python -m bot.admin`). With neither, the staff endpoints answer 503. A request that presents a
token that does not match is a 401, and counts as a failed login of its client IP: after
STAFF_LOGIN_MAX_FAILURES within STAFF_LOGIN_WINDOW_SECONDS, every credential from that IP (the
right one too, so a guess cannot be confirmed) gets 429 with Retry-After until the window slides.
Password logins are throttled the same way per IP and per account name (bot/routes/accounts.py).
Tokens are compared in constant time (digests of equal length); they are never logged.

Staff endpoints declare the area they belong to (`require(SUPPORT)`, ...); bot/accounts.py says
which roles may use which area. The dependency returns the `StaffPrincipal`, for the audit log.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import timedelta

from fastapi import HTTPException, Request, status
from starlette.concurrency import run_in_threadpool

from bot import accounts
from bot.accounts import ADMIN, AREAS, INTEGRATION, ROLE_LABELS, SALES, SEES_PHONES, SUPPORT
from bot.ratelimit import FAILED_LOGIN, client_ip, too_many

log = logging.getLogger(__name__)

ACTION_SERVER_HEADER = "X-Action-Server-Token"
SESSION_COOKIE = "jzs_staff_session"
STAFF_ONLY = (
    "此操作仅限工作人员：请登录员工后台（/staff），或在请求头中提供有效的 Authorization: Bearer <STAFF_TOKEN>。"
)
STAFF_DISABLED = (
    "员工后台未启用：服务器既没有配置 STAFF_TOKEN（至少24个字符），也还没有员工账号。"
    "请运行 make admin（python -m bot.admin）创建第一个管理员账号。"
)
ACTION_SERVER_ONLY = "动作服务器凭证 X-Action-Server-Token 无效。"
TOO_MANY_FAILURES = "登录失败次数过多，请在 {minutes} 分钟后再试。"
WRONG_AREA = "您的角色（{role}）不能使用这部分功能。"
CHANGE_PASSWORD_FIRST = "请先修改初始密码，再使用员工后台。"

__all__ = [
    "ADMIN",
    "SALES",
    "SUPPORT",
    "Caller",
    "StaffPrincipal",
    "identify",
    "require",
    "require_staff",
    "require_support",
    "require_sales",
    "require_admin",
    "staff_of",
]


class Caller(enum.Enum):
    PUBLIC = "public"
    STAFF = "staff"
    ACTION_SERVER = "action_server"


@dataclass(frozen=True)
class StaffPrincipal:
    """A staff caller: a person's account, or the integration token (account_id None)."""

    account_id: int | None
    username: str
    display_name: str
    role: str
    ip: str | None = None
    must_change_password: bool = False
    session_id: str | None = None

    def can(self, area: str) -> bool:
        return area in AREAS.get(self.role, ())

    @property
    def sees_phones(self) -> bool:
        return self.role in SEES_PHONES

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)


def _bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _same(given: str, expected: str) -> bool:
    """Constant time, also in the length: the digests compared always have 32 bytes."""
    return bool(expected) and hmac.compare_digest(
        hashlib.sha256(given.encode()).digest(), hashlib.sha256(expected.encode()).digest()
    )


def _integration(request: Request) -> StaffPrincipal:
    return StaffPrincipal(
        account_id=None, username="STAFF_TOKEN", display_name="集成令牌", role=INTEGRATION, ip=client_ip(request)
    )


def _session_principal(request: Request, token: str) -> StaffPrincipal | None:
    idle = timedelta(minutes=request.app.state.settings.staff_session_idle_minutes)
    db = request.app.state.db
    with db.transaction(write=False) as session:  # most requests: a live session, nothing to write
        found = accounts.peek_session(session, token, idle)
    if found is None:
        with db.transaction() as session:
            found = accounts.session_account(session, token, idle)
    if found is None:
        return None
    account, row = found
    return StaffPrincipal(
        account_id=account.id,
        username=account.username,
        display_name=account.display_name,
        role=account.role,
        ip=client_ip(request),
        must_change_password=account.must_change_password,
        session_id=row.id,
    )


async def identify(request: Request) -> Caller:
    """The caller of this request, once per request; 401 / 429 for a token that does not match.
    A session cookie that is no longer valid makes a public caller (the widget on the same site
    must keep working); staff endpoints then answer 401."""
    known = getattr(request.state, "caller", None)
    if known is not None:
        return known
    settings = request.app.state.settings
    bearer = _bearer_token(request) if settings.staff_token else None  # no staff token: nothing to guess
    action = request.headers.get(ACTION_SERVER_HEADER, "").strip() or None
    if bearer is None and action is None:
        cookie = request.cookies.get(SESSION_COOKIE)
        principal = await run_in_threadpool(_session_principal, request, cookie) if cookie else None
        request.state.staff = principal
        request.state.caller = Caller.STAFF if principal else Caller.PUBLIC
        return request.state.caller

    limiter = request.app.state.rate_limiter
    ip = client_ip(request)
    wait = await limiter.exhausted(FAILED_LOGIN, ip)
    if wait:
        raise too_many(wait, TOO_MANY_FAILURES.format(minutes=max(1, round(wait / 60))))
    if bearer is not None and _same(bearer, settings.staff_token):
        caller = Caller.STAFF
        request.state.staff = _integration(request)
    elif action is not None and bearer is None and _same(action, settings.action_server_token):
        caller = Caller.ACTION_SERVER
    else:
        await limiter.spend(FAILED_LOGIN, ip)
        log.warning("refused a %s credential from %s", "staff" if bearer is not None else "action-server", ip)
        if bearer is not None:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail=STAFF_ONLY, headers={"WWW-Authenticate": "Bearer"})
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail=ACTION_SERVER_ONLY)
    request.state.caller = caller
    return caller


def _accounts_exist(request: Request) -> bool:
    """Remembered once true: accounts are deactivated, never deleted."""
    if getattr(request.app.state, "staff_accounts_exist", False):
        return True
    with request.app.state.db.transaction(write=False) as session:
        exist = accounts.count_accounts(session) > 0
    request.app.state.staff_accounts_exist = exist
    return exist


async def staff_of(request: Request) -> StaffPrincipal | None:
    """The staff caller of this request, or None (for endpoints open to owners and staff)."""
    if await identify(request) is not Caller.STAFF:
        return None
    return request.state.staff


async def _logged_in(request: Request, allow_initial_password: bool = False) -> StaffPrincipal:
    principal = await staff_of(request)
    if principal is None:
        if not request.app.state.settings.staff_token and not await run_in_threadpool(_accounts_exist, request):
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=STAFF_DISABLED)
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail=STAFF_ONLY, headers={"WWW-Authenticate": "Bearer"})
    if principal.must_change_password and not allow_initial_password:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=CHANGE_PASSWORD_FIRST)
    return principal


def require(area: str | None):
    """A dependency for the staff endpoints of `area` (None: any staff caller); returns the caller."""

    async def dependency(request: Request) -> StaffPrincipal:
        principal = await _logged_in(request)
        if area is not None and not principal.can(area):
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail=WRONG_AREA.format(role=principal.role_label))
        return principal

    return dependency


async def require_login(request: Request) -> StaffPrincipal:
    """Any logged-in caller, also one who must still replace a one-time password (who am I, change it)."""
    return await _logged_in(request, allow_initial_password=True)


require_staff = require(None)
require_support = require(SUPPORT)
require_sales = require(SALES)
require_admin = require(ADMIN)
