"""The audit log: who read which personal data and who changed what, for the admin to see.

Every staff endpoint that returns personal data (enrollments, leads, transcripts, exports) or
changes something (statuses, assignees, notes, hand-offs, accounts, logins) writes one entry in the
same transaction as its work: a change is never stored without its entry, nor an entry without it.
Details are short words for a person; phone and ID numbers in them are masked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.courses.sales import CHINA, newest_first_page, within_china_days
from bot.models import AuditEntry
from masking import mask_pii

# action -> what the console shows
ACTIONS = {
    "login": "登录",
    "login_failed": "登录失败",
    "logout": "退出登录",
    "password_changed": "修改密码",
    "account_created": "创建账号",
    "account_changed": "修改账号",
    "password_reset": "重置密码",
    "enrollments_read": "查看报名列表",
    "enrollment_read": "查看报名详情",
    "leads_read": "查看回访线索列表",
    "lead_read": "查看线索详情",
    "conversation_read": "查看会话记录",
    "export": "导出CSV",
    "status_changed": "修改状态",
    "assignee_changed": "修改负责人",
    "note_added": "添加备注",
    "handoff_taken": "接手转人工",
    "handoff_closed": "结束转人工",
    "handoff_reply": "回复用户",
}
TARGETS = {
    "enrollment": "报名",
    "lead": "线索",
    "conversation": "会话",
    "account": "账号",
    "handoff": "转人工",
    "enrollments": "报名列表",
    "leads": "线索列表",
}
DETAIL_CHARS = 500


class Actor(Protocol):
    account_id: int | None
    username: str
    ip: str | None


@dataclass(frozen=True)
class Anonymous:
    """Someone not logged in (a failed login): the name they typed, cut short."""

    username: str
    ip: str | None = None
    account_id: int | None = None


def record(
    session: Session,
    actor: Actor,
    action: str,
    target_kind: str | None = None,
    target_id: object = None,
    detail: str | None = None,
) -> AuditEntry:
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    entry = AuditEntry(
        account_id=actor.account_id,
        actor=actor.username[:64],
        action=action,
        target_kind=target_kind,
        target_id=None if target_id is None else str(target_id)[:64],
        detail=mask_pii(detail)[:DETAIL_CHARS] if detail else None,
        ip=(actor.ip or None),
    )
    session.add(entry)
    return entry


def entries(
    session: Session,
    *,
    actor: str | None = None,
    action: str | None = None,
    target_kind: str | None = None,
    target_id: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[AuditEntry], int]:
    """Newest first, with the total for paging."""
    query = select(AuditEntry)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if action:
        query = query.where(AuditEntry.action == action)
    if target_kind:
        query = query.where(AuditEntry.target_kind == target_kind)
    if target_id:
        query = query.where(AuditEntry.target_id == target_id)
    query = within_china_days(query, AuditEntry.created_at, date_from, date_to)
    return newest_first_page(session, query, AuditEntry, limit, offset)


def entry_out(entry: AuditEntry) -> dict:
    return {
        "id": entry.id,
        "at": entry.created_at.astimezone(CHINA).isoformat(timespec="seconds"),
        "actor": entry.actor,
        "action": entry.action,
        "action_label": ACTIONS.get(entry.action, entry.action),
        "target_kind": entry.target_kind,
        "target_label": TARGETS.get(entry.target_kind or "", entry.target_kind or ""),
        "target_id": entry.target_id,
        "detail": entry.detail or "",
        "ip": entry.ip or "",
    }
