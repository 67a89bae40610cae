"""Who is calling: staff (`Authorization: Bearer <STAFF_TOKEN>`), the action server
(`X-Action-Server-Token: <ACTION_SERVER_TOKEN>`) or a public client (no credential).

No credential works by default: both tokens are empty unless configured (bot/settings.py refuses
ones shorter than 24 characters). Without STAFF_TOKEN the staff endpoints answer 503. A request that
presents a credential that does not match is a 401, and counts as a failed login of its client IP:
after STAFF_LOGIN_MAX_FAILURES within STAFF_LOGIN_WINDOW_SECONDS, every credential from that IP
(the right one too, so a guess cannot be confirmed) gets 429 with Retry-After until the window
slides. Tokens are compared in constant time (digests of equal length); they are never logged.
"""
from __future__ import annotations

import enum
import hashlib
import hmac
import logging

from fastapi import HTTPException, Request, status

from bot.ratelimit import FAILED_LOGIN, client_ip, too_many

log = logging.getLogger(__name__)

ACTION_SERVER_HEADER = "X-Action-Server-Token"
STAFF_ONLY = "此操作仅限工作人员：请在请求头中提供有效的 Authorization: Bearer <STAFF_TOKEN>。"
STAFF_DISABLED = "员工后台未启用：服务器没有配置 STAFF_TOKEN（至少24个字符），请联系管理员配置后重启服务。"
ACTION_SERVER_ONLY = "动作服务器凭证 X-Action-Server-Token 无效。"
TOO_MANY_FAILURES = "登录失败次数过多，请在 {minutes} 分钟后再试。"


class Caller(enum.Enum):
    PUBLIC = "public"
    STAFF = "staff"
    ACTION_SERVER = "action_server"


def _bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _same(given: str, expected: str) -> bool:
    """Constant time, also in the length: the digests compared always have 32 bytes."""
    return bool(expected) and hmac.compare_digest(hashlib.sha256(given.encode()).digest(),
                                                  hashlib.sha256(expected.encode()).digest())


def is_staff(request: Request) -> bool:
    """True when the request carries the staff token (for endpoints open to owners and staff)."""
    token = _bearer_token(request)
    return token is not None and _same(token, request.app.state.settings.staff_token)


async def identify(request: Request) -> Caller:
    """The caller of this request, once per request; 401 / 429 for a credential that does not match."""
    known = getattr(request.state, "caller", None)
    if known is not None:
        return known
    settings = request.app.state.settings
    bearer = _bearer_token(request) if settings.staff_token else None  # no staff token: nothing to guess
    action = request.headers.get(ACTION_SERVER_HEADER, "").strip() or None
    if bearer is None and action is None:
        request.state.caller = Caller.PUBLIC
        return Caller.PUBLIC

    limiter = request.app.state.rate_limiter
    ip = client_ip(request)
    wait = await limiter.exhausted(FAILED_LOGIN, ip)
    if wait:
        raise too_many(wait, TOO_MANY_FAILURES.format(minutes=max(1, round(wait / 60))))
    if bearer is not None and _same(bearer, settings.staff_token):
        caller = Caller.STAFF
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


async def require_staff(request: Request) -> None:
    """FastAPI dependency for staff-only endpoints: `dependencies=[Depends(require_staff)]`."""
    if not request.app.state.settings.staff_token:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=STAFF_DISABLED)
    if await identify(request) is not Caller.STAFF:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail=STAFF_ONLY, headers={"WWW-Authenticate": "Bearer"})
