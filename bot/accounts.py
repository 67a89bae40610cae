"""Staff accounts: one per person, with one role; argon2id password hashes (pwdlib); sessions.

Roles and what each may use (`AREAS`):
- support (客服): knowledge lookup, unanswered questions, feedback, the hand-off queue, transcripts;
- sales (课程顾问): leads and enrollments with their conversations;
- admin (管理员): everything, plus accounts, exports, the audit log and the settings.
The machine credential STAFF_TOKEN (integrations, bot/auth.py) is not an account: it may use the
support and sales APIs, never the admin ones.

A session is a random token in an HttpOnly cookie; the table keeps only its sha256, so a copy of the
database opens no session. It ends `staff_session_hours` after login, or after
`staff_session_idle_minutes` without a request, or at logout, a password change or a reset.

No HTTP here and no commit: the caller owns the transaction (bot/routes/accounts.py).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bot.models import STAFF_ROLES, StaffAccount, StaffSession, utcnow

SUPPORT, SALES, ADMIN = STAFF_ROLES
INTEGRATION = "integration"  # the STAFF_TOKEN machine credential
ROLE_LABELS = {SUPPORT: "客服", SALES: "课程顾问", ADMIN: "管理员", INTEGRATION: "集成令牌"}
AREAS = {
    SUPPORT: frozenset({SUPPORT}),
    SALES: frozenset({SALES}),
    ADMIN: frozenset({SUPPORT, SALES, ADMIN}),
    INTEGRATION: frozenset({SUPPORT, SALES}),
}
# Who reads full phone numbers: the consultants who call them back, and integrations (e.g. a CRM).
SEES_PHONES = frozenset({SALES, INTEGRATION})

MIN_PASSWORD_CHARS = 10
USERNAME = re.compile(r"^[a-z][a-z0-9_.-]{1,31}$")
# One-time passwords are read out or copied once: no 0/O, 1/l/I.
_OTP_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_OTP_CHARS = 14
# A session's last request is written at most this often (not on every request).
TOUCH_EVERY = timedelta(seconds=60)

USERNAME_HINT = "用户名请用2-32个小写英文字母、数字或 . _ -，以字母开头，例如 wangfang。"
NAME_HINT = "姓名请填写1-30个字。"
ROLE_HINT = "角色只能是 support（客服）、sales（课程顾问）或 admin（管理员）。"
PASSWORD_HINT = f"新密码至少{MIN_PASSWORD_CHARS}个字符，且不能与用户名相同。"
USERNAME_TAKEN = "用户名“{username}”已被使用，请换一个。"
WRONG_PASSWORD = "当前密码不正确。"
SAME_PASSWORD = "新密码不能与当前密码相同。"

_hasher = PasswordHash((Argon2Hasher(),))
_dummy_hash: str | None = None


class AccountError(ValueError):
    """A request an admin or a user can fix; the message says how, in Chinese."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _verify(password: str, stored: str) -> bool:
    try:
        return _hasher.verify(password, stored)
    except Exception:  # noqa: BLE001 - a damaged hash opens nothing
        return False


def one_time_password() -> str:
    return "".join(secrets.choice(_OTP_ALPHABET) for _ in range(_OTP_CHARS))


def normalize_username(value: str) -> str:
    username = str(value or "").strip().lower()
    if not USERNAME.match(username):
        raise AccountError(USERNAME_HINT)
    return username


def _check_new_password(password: str, username: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS or password.strip().lower() == username:
        raise AccountError(PASSWORD_HINT)


def _check_role(role: str) -> str:
    if role not in STAFF_ROLES:
        raise AccountError(ROLE_HINT)
    return role


def _check_name(name: str) -> str:
    name = re.sub(r"\s+", " ", str(name or "")).strip()
    if not 1 <= len(name) <= 30 or any(ord(c) < 32 for c in name):
        raise AccountError(NAME_HINT)
    return name


def count_accounts(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(StaffAccount)) or 0)


def find(session: Session, username: str) -> StaffAccount | None:
    return session.scalar(select(StaffAccount).where(StaffAccount.username == str(username or "").strip().lower()))


def create_account(
    session: Session, username: str, display_name: str, role: str, password: str | None = None
) -> tuple[StaffAccount, str]:
    """(account, its password). Without `password`, a one-time password the person must replace
    at first login; with one (at least MIN_PASSWORD_CHARS), the person keeps it."""
    username = normalize_username(username)
    display_name, role = _check_name(display_name), _check_role(role)
    if find(session, username) is not None:
        raise AccountError(USERNAME_TAKEN.format(username=username))
    one_time = password is None
    password = one_time_password() if one_time else password
    _check_new_password(password, username)
    account = StaffAccount(
        username=username,
        display_name=display_name,
        role=role,
        password_hash=hash_password(password),
        active=True,
        must_change_password=one_time,
    )
    session.add(account)
    session.flush()
    return account, password


def authenticate(session: Session, username: str, password: str) -> StaffAccount | None:
    """The active account with this name and password, else None. An unknown name costs the same
    hash as a known one, so the time taken does not tell which names exist."""
    global _dummy_hash
    account = find(session, username) if username else None
    if account is None or not account.active:
        _dummy_hash = _dummy_hash or hash_password(one_time_password())
        _verify(password, _dummy_hash)
        return None
    return account if _verify(password, account.password_hash) else None


def change_password(session: Session, account: StaffAccount, current: str, new: str) -> None:
    if not _verify(current, account.password_hash):
        raise AccountError(WRONG_PASSWORD)
    if new == current:
        raise AccountError(SAME_PASSWORD)
    _check_new_password(new, account.username)
    account.password_hash = hash_password(new)
    account.must_change_password = False
    end_sessions(session, account.id)


def reset_password(session: Session, account: StaffAccount) -> str:
    """A new one-time password; the account's sessions end (a lost or shared password stops working)."""
    password = one_time_password()
    account.password_hash = hash_password(password)
    account.must_change_password = True
    end_sessions(session, account.id)
    return password


def set_role(account: StaffAccount, role: str) -> None:
    account.role = _check_role(role)


def set_active(session: Session, account: StaffAccount, active: bool) -> None:
    account.active = bool(active)
    if not account.active:
        end_sessions(session, account.id)


# -- sessions -----------------------------------------------------------------------------------


def token_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(session: Session, account: StaffAccount, lifetime: timedelta, now: datetime | None = None) -> str:
    """A new session for `account`; returns the token for the cookie (stored only as its hash)."""
    now = now or utcnow()
    session.execute(delete(StaffSession).where(StaffSession.account_id == account.id, StaffSession.expires_at <= now))
    token = secrets.token_urlsafe(32)
    session.add(
        StaffSession(
            id=token_id(token), account_id=account.id, created_at=now, expires_at=now + lifetime, last_seen_at=now
        )
    )
    account.last_login_at = now
    return token


def _live(session: Session, token: str, idle: timedelta, now: datetime):
    """(session row or None, its account if the session is live)."""
    row = session.get(StaffSession, token_id(token))
    if row is None:
        return None, None
    account = session.get(StaffAccount, row.account_id)
    if account is None or not account.active or row.expires_at <= now or row.last_seen_at + idle <= now:
        return row, None
    return row, account


def peek_session(
    session: Session, token: str, idle: timedelta, now: datetime | None = None
) -> tuple[StaffAccount, StaffSession] | None:
    """A live session that needs no write (its last request recorded recently), read only; None
    otherwise: then `session_account` in a write transaction decides."""
    now = now or utcnow()
    row, account = _live(session, token, idle, now)
    if account is None or now - row.last_seen_at >= TOUCH_EVERY:
        return None
    return account, row


def session_account(
    session: Session, token: str, idle: timedelta, now: datetime | None = None
) -> tuple[StaffAccount, StaffSession] | None:
    """The account of a live session (touching its last request), or None: unknown, expired, idle
    too long, or the account deactivated (an ended session's row is deleted)."""
    now = now or utcnow()
    row, account = _live(session, token, idle, now)
    if account is None:
        if row is not None:
            session.delete(row)
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
    return account, row


def end_session(session: Session, token: str) -> None:
    session.execute(delete(StaffSession).where(StaffSession.id == token_id(token)))


def end_sessions(session: Session, account_id: int) -> None:
    session.execute(delete(StaffSession).where(StaffSession.account_id == account_id))
