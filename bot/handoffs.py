"""The hand-off queue: a conversation waits for a person (open), one person takes it (taken), and it
ends (closed). Taking it tells the user that a person will answer; what that person says after
is stored the same way (HandoffMessage): the widget fetches it, WeChat users get it through the
customer-service message API (routes/handoffs.py sends it).

No HTTP here and no commit: the caller owns the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.models import HANDOFF_STATUSES, Handoff, HandoffMessage, StaffAccount, utcnow

STATUS_LABELS = {"open": "等待接待", "taken": "已接手", "closed": "已结束"}
TAKEN_NOTICE = "人工客服{name}已接手您的问题，会在这里回复您，请稍候。"
CLOSED_NOTICE = "本次人工服务已结束。如还有问题，可以继续提问，或再次回复“转人工”。"
MAX_REPLY_CHARS = 600  # one WeChat text message holds about this much comfortably


class QueueConflict(Exception):
    """The hand-off is not in a state that allows this; `detail` says why, in Chinese."""

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


@dataclass(frozen=True)
class Who:
    account_id: int | None
    display_name: str


def counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(Handoff.status, func.count()).group_by(Handoff.status)).all()
    found = {status: int(n) for status, n in rows}
    return {status: found.get(status, 0) for status in HANDOFF_STATUSES}


def queue(
    session: Session, status: str | None, limit: int, offset: int
) -> tuple[list[tuple[Handoff, str | None]], int]:
    """(hand-off, who took it) rows: the waiting ones oldest first (who waits longest is next),
    the others newest first."""
    query = select(Handoff, StaffAccount.display_name).outerjoin(StaffAccount, Handoff.taken_by_id == StaffAccount.id)
    if status:
        query = query.where(Handoff.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    order = (
        (Handoff.created_at.asc(), Handoff.id.asc())
        if status == "open"
        else (Handoff.created_at.desc(), Handoff.id.desc())
    )
    rows = session.execute(query.order_by(*order).limit(limit).offset(offset)).all()
    return [(h, name) for h, name in rows], int(total or 0)


def _say(session: Session, handoff: Handoff, text: str, who: Who | None) -> HandoffMessage:
    message = HandoffMessage(
        handoff_id=handoff.id,
        sender=handoff.sender or "",
        text=text,
        author_id=who.account_id if who else None,
        delivered=False,
    )
    session.add(message)
    session.flush()
    return message


def take(session: Session, handoff: Handoff, who: Who, now: datetime | None = None) -> HandoffMessage:
    """open -> taken by `who`, with the notice to the user. Taking one's own again changes nothing."""
    if handoff.status == "closed":
        raise QueueConflict("这个转人工请求已经结束，不能再接手。")
    if handoff.status == "taken":
        if handoff.taken_by_id == who.account_id:
            raise QueueConflict("您已经接手了这个请求。")
        taker = session.get(StaffAccount, handoff.taken_by_id) if handoff.taken_by_id else None
        raise QueueConflict(f"这个请求已被{taker.display_name if taker else '其他同事'}接手。")
    handoff.status, handoff.taken_by_id, handoff.taken_at = "taken", who.account_id, now or utcnow()
    return _say(session, handoff, TAKEN_NOTICE.format(name=who.display_name), who)


def close(session: Session, handoff: Handoff, who: Who, now: datetime | None = None) -> HandoffMessage | None:
    """-> closed; the user is told when a person had taken it (an untaken one closes quietly)."""
    if handoff.status == "closed":
        raise QueueConflict("这个转人工请求已经结束。")
    was_taken = handoff.status == "taken"
    handoff.status, handoff.closed_at = "closed", now or utcnow()
    if handoff.taken_by_id is None:
        handoff.taken_by_id = who.account_id
    return _say(session, handoff, CLOSED_NOTICE, who) if was_taken else None


def reply(session: Session, handoff: Handoff, who: Who, text: str) -> HandoffMessage:
    text = text.strip()
    if not text:
        raise QueueConflict("回复内容不能为空。")
    if len(text) > MAX_REPLY_CHARS:
        raise QueueConflict(f"回复太长了（超过{MAX_REPLY_CHARS}字），请分成几条发送。")
    if handoff.status != "taken":
        raise QueueConflict(
            "请先接手这个请求，再回复用户。" if handoff.status == "open" else "这个转人工请求已经结束。"
        )
    return _say(session, handoff, text, who)


def latest_for(session: Session, sender: str) -> Handoff | None:
    return session.scalar(
        select(Handoff).where(Handoff.sender == sender).order_by(Handoff.created_at.desc(), Handoff.id.desc()).limit(1)
    )


def messages_for(session: Session, sender: str, after: int, limit: int = 50) -> list[HandoffMessage]:
    return list(
        session.scalars(
            select(HandoffMessage)
            .where(HandoffMessage.sender == sender, HandoffMessage.id > after)
            .order_by(HandoffMessage.id)
            .limit(limit)
        )
    )
