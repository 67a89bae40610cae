"""Console accounts: login and logout (session cookie), who am I, password change; for the admin:
accounts, the audit log and the settings in force.

  POST  /api/staff/login              {"username", "password"} -> cookie + who; throttled per IP and per name
  POST  /api/staff/logout
  GET   /api/staff/me                 who is logged in, with role and the console's sections
  POST  /api/staff/password           {"current", "new"} (also with a one-time password)
  GET   /api/staff/accounts           admin
  POST  /api/staff/accounts           admin: {"username", "display_name", "role"} -> one-time password
  PATCH /api/staff/accounts/{id}      admin: {"role"}, {"active"}, {"reset_password": true}
  GET   /api/staff/audit              admin: who did what, filters and paging
  GET   /api/staff/settings           admin: the settings that govern the console (no secrets)
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response, status
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from bot import accounts, audit
from bot.accounts import ADMIN, ROLE_LABELS, AccountError
from bot.auth import SESSION_COOKIE, StaffPrincipal, require_admin, require_login, staff_of
from bot.courses.schemas import _no_control
from bot.models import StaffAccount
from bot.ratelimit import FAILED_LOGIN, client_ip, too_many

router = APIRouter(tags=["staff accounts"])

BAD_LOGIN = "用户名或密码不正确。"
TOO_MANY = "登录失败次数过多，请在 {minutes} 分钟后再试。"
ACCOUNT_NOT_FOUND = "没有找到这个账号。"
NOT_YOURSELF = "不能停用自己的账号或取消自己的管理员角色（避免没有人能管理账号）。"
AccountId = Annotated[int, Path(ge=1, le=2**31 - 1)]
SECTIONS = {  # what the console shows to each area, in its order
    accounts.SUPPORT: ["search", "unanswered", "feedback", "handoffs"],
    accounts.SALES: ["enrollments", "leads"],
    ADMIN: ["accounts", "audit", "settings"],
}


class LoginRequest(BaseModel):
    username: str = Field(..., max_length=64)
    password: str = Field(..., max_length=256)

    _text = field_validator("username", "password")(_no_control)


class PasswordChange(BaseModel):
    current: str = Field(..., max_length=256)
    new: str = Field(..., max_length=256)

    _text = field_validator("current", "new")(_no_control)


class NewAccount(BaseModel):
    username: str = Field(..., max_length=64)
    display_name: str = Field(..., max_length=60)
    role: str = Field(..., max_length=16)

    _text = field_validator("username", "display_name", "role")(_no_control)


class AccountChange(BaseModel):
    role: str | None = Field(None, max_length=16)
    active: bool | None = None
    reset_password: bool = False


def _unprocessable(message: str) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=message)


def _who(principal: StaffPrincipal) -> dict[str, Any]:
    sections = [s for area, names in SECTIONS.items() if principal.can(area) for s in names]
    return {
        "username": principal.username,
        "display_name": principal.display_name,
        "role": principal.role,
        "role_label": principal.role_label,
        "must_change_password": principal.must_change_password,
        "sections": sections,
        "sees_phones": principal.sees_phones,
        "can_export": principal.can(ADMIN),
    }


def _account_principal(account: StaffAccount, ip: str) -> StaffPrincipal:
    return StaffPrincipal(
        account_id=account.id,
        username=account.username,
        display_name=account.display_name,
        role=account.role,
        ip=ip,
        must_change_password=account.must_change_password,
    )


def account_out(account: StaffAccount) -> dict[str, Any]:
    return {
        "id": account.id,
        "username": account.username,
        "display_name": account.display_name,
        "role": account.role,
        "role_label": ROLE_LABELS[account.role],
        "active": account.active,
        "must_change_password": account.must_change_password,
        "created_at": account.created_at.isoformat(timespec="seconds"),
        "last_login_at": account.last_login_at.isoformat(timespec="seconds") if account.last_login_at else None,
    }


def _set_session_cookie(request: Request, response: Response, token: str) -> None:
    """HttpOnly (no script reads it), SameSite=Strict (no other site sends it), Secure over HTTPS."""
    hours = request.app.state.settings.staff_session_hours
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(hours * 3600),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )


@router.post(
    "/api/staff/login",
    responses={
        401: {"description": "wrong name or password"},
        429: {"description": "too many failed logins from this IP or for this name"},
    },
)
async def login(body: LoginRequest, request: Request, response: Response) -> dict[str, Any]:
    settings, limiter = request.app.state.settings, request.app.state.rate_limiter
    ip, name = client_ip(request), body.username.strip().lower()[:64]
    keys = (ip, "account:" + name)
    for key in keys:
        wait = await limiter.exhausted(FAILED_LOGIN, key)
        if wait:
            raise too_many(wait, TOO_MANY.format(minutes=max(1, round(wait / 60))))

    def check() -> tuple[str, StaffPrincipal] | None:
        with request.app.state.db.transaction() as session:
            account = accounts.authenticate(session, name, body.password)
            if account is None:
                audit.record(
                    session, audit.Anonymous(name or "（空）", ip), "login_failed", detail="用户名或密码不正确"
                )
                return None
            token = accounts.start_session(session, account, timedelta(hours=settings.staff_session_hours))
            principal = _account_principal(account, ip)
            audit.record(session, principal, "login")
            return token, principal

    found = await run_in_threadpool(check)
    if found is None:
        for key in keys:
            await limiter.spend(FAILED_LOGIN, key)
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail=BAD_LOGIN)
    token, principal = found
    _set_session_cookie(request, response, token)
    return _who(principal)


@router.post("/api/staff/logout")
async def logout(request: Request, response: Response) -> dict[str, Any]:
    principal = await staff_of(request)
    token = request.cookies.get(SESSION_COOKIE)

    def end() -> None:
        with request.app.state.db.transaction() as session:
            accounts.end_session(session, token)
            if principal is not None and principal.account_id is not None:
                audit.record(session, principal, "logout")

    if token:
        await run_in_threadpool(end)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return {"ok": True}


@router.get("/api/staff/me")
def me(principal: Annotated[StaffPrincipal, Depends(require_login)]) -> dict[str, Any]:
    return {"ok": True, **_who(principal)}


@router.post("/api/staff/password")
def change_password(
    body: PasswordChange,
    request: Request,
    response: Response,
    principal: Annotated[StaffPrincipal, Depends(require_login)],
) -> dict[str, Any]:
    if principal.account_id is None:
        raise _unprocessable("集成令牌没有密码可改。")
    settings = request.app.state.settings
    with request.app.state.db.transaction() as session:
        account = session.get(StaffAccount, principal.account_id)
        try:
            accounts.change_password(session, account, body.current, body.new)
        except AccountError as exc:
            raise _unprocessable(str(exc)) from None
        audit.record(session, principal, "password_changed", "account", account.username)
        # The change ended every session of the account; this browser goes on with a new one.
        token = accounts.start_session(session, account, timedelta(hours=settings.staff_session_hours))
        who = _who(_account_principal(account, principal.ip))
    _set_session_cookie(request, response, token)
    return who | {"message": "密码已修改。"}


# -- admin --------------------------------------------------------------------------------------


@router.get("/api/staff/accounts")
def list_accounts(request: Request, _: Annotated[StaffPrincipal, Depends(require_admin)]) -> dict[str, Any]:
    with request.app.state.db.transaction(write=False) as session:
        rows = session.scalars(select(StaffAccount).order_by(StaffAccount.active.desc(), StaffAccount.username)).all()
        return {
            "items": [account_out(a) for a in rows],
            "roles": [{"id": role, "label": ROLE_LABELS[role]} for role in accounts.STAFF_ROLES],
        }


@router.post("/api/staff/accounts", status_code=status.HTTP_201_CREATED)
def create_account(
    body: NewAccount, request: Request, principal: Annotated[StaffPrincipal, Depends(require_admin)]
) -> dict[str, Any]:
    with request.app.state.db.transaction() as session:
        try:
            account, password = accounts.create_account(session, body.username, body.display_name, body.role)
        except AccountError as exc:
            raise _unprocessable(str(exc)) from None
        audit.record(
            session,
            principal,
            "account_created",
            "account",
            account.username,
            f"{account.display_name}，{ROLE_LABELS[account.role]}",
        )
        return account_out(account) | {"one_time_password": password}


@router.patch("/api/staff/accounts/{account_id}")
def change_account(
    account_id: AccountId,
    body: AccountChange,
    request: Request,
    principal: Annotated[StaffPrincipal, Depends(require_admin)],
) -> dict[str, Any]:
    with request.app.state.db.transaction() as session:
        account = session.get(StaffAccount, account_id)
        if account is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail=ACCOUNT_NOT_FOUND)
        if account.id == principal.account_id and (body.active is False or (body.role and body.role != ADMIN)):
            raise HTTPException(status.HTTP_409_CONFLICT, detail=NOT_YOURSELF)
        changes, out = [], {}
        try:
            if body.role is not None and body.role != account.role:
                accounts.set_role(account, body.role)
                changes.append(f"角色改为{ROLE_LABELS[account.role]}")
        except AccountError as exc:
            raise _unprocessable(str(exc)) from None
        if body.active is not None and body.active != account.active:
            accounts.set_active(session, account, body.active)
            changes.append("启用" if account.active else "停用")
        if changes:
            audit.record(session, principal, "account_changed", "account", account.username, "，".join(changes))
        if body.reset_password:
            out["one_time_password"] = accounts.reset_password(session, account)
            audit.record(session, principal, "password_reset", "account", account.username)
        return account_out(account) | out


@router.get("/api/staff/audit")
def list_audit(
    request: Request,
    _: Annotated[StaffPrincipal, Depends(require_admin)],
    actor: str | None = Query(None, max_length=64),
    action: str | None = Query(None, max_length=32),
    target_kind: str | None = Query(None, max_length=16),
    target_id: str | None = Query(None, max_length=64),
    date_from: date | None = None,
    date_to: date | None = None,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=1_000_000),
) -> dict[str, Any]:
    with request.app.state.db.transaction(write=False) as session:
        rows, total = audit.entries(
            session,
            actor=actor,
            action=action,
            target_kind=target_kind,
            target_id=target_id,
            date_from=date_from,
            date_to=date_to,
            limit=limit,
            offset=offset,
        )
        return {
            "total": total,
            "items": [audit.entry_out(e) for e in rows],
            "actions": [{"id": k, "label": v} for k, v in audit.ACTIONS.items()],
        }


@router.get("/api/staff/settings")
def console_settings(request: Request, _: Annotated[StaffPrincipal, Depends(require_admin)]) -> dict[str, Any]:
    """What governs the console and the data it shows, as configured (secrets only as set / not set)."""
    s = request.app.state.settings
    return {
        "items": [
            {"name": "STAFF_SESSION_HOURS", "label": "登录有效期（小时）", "value": s.staff_session_hours},
            {
                "name": "STAFF_SESSION_IDLE_MINUTES",
                "label": "无操作自动退出（分钟）",
                "value": s.staff_session_idle_minutes,
            },
            {"name": "STAFF_LOGIN_MAX_FAILURES", "label": "登录失败次数上限", "value": s.staff_login_max_failures},
            {
                "name": "STAFF_LOGIN_WINDOW_SECONDS",
                "label": "登录失败计数时长（秒）",
                "value": s.staff_login_window_seconds,
            },
            {"name": "STAFF_TOKEN", "label": "集成令牌", "value": "已配置" if s.staff_token else "未配置"},
            {"name": "RETENTION_DAYS", "label": "个人数据保留天数", "value": s.retention_days},
            {
                "name": "WECHAT_APPID",
                "label": "微信公众号",
                "value": "已配置" if s.wechat_appid and s.wechat_secret else "未配置",
            },
            {"name": "ENVIRONMENT", "label": "运行环境", "value": s.environment},
        ],
        "note": "设置来自服务器的环境变量或 .env 文件，修改后重启服务生效。",
    }
