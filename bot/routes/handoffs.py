"""The hand-off queue for 客服, and what the user of a hand-off hears from the person who took it.

  GET  /api/staff/handoffs?status=open|taken|closed   the queue, with counts, who took each, waits
  POST /api/staff/handoffs/{id}/take                  take it: the user is told a person will answer
  POST /api/staff/handoffs/{id}/reply  {"text"}       say something to the user
  POST /api/staff/handoffs/{id}/close
  GET  /api/handoffs/updates?sender=...&after=<id>    public, for the widget: the status of the
                                                      sender's latest hand-off and new messages

WeChat users get every message through the customer-service message API at once (the widget
fetches its own). A message WeChat refused is kept and shown to staff as not delivered; the
hand-off is taken all the same.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import update
from starlette.concurrency import run_in_threadpool

from bot import audit, handoffs, replies
from bot.auth import StaffPrincipal, require_support
from bot.courses.schemas import _no_control
from bot.handoffs import QueueConflict, Who
from bot.models import Handoff, HandoffMessage, StaffAccount, utcnow
from bot.routes.chat import SENDER_PATTERN
from bot.senders import is_wechat_sender
from bot.wechat.conversation import SENDER_PREFIX
from bot.wechat.delivery import DeliveryError

log = logging.getLogger(__name__)
router = APIRouter(tags=["handoffs"])

NOT_FOUND = "没有找到这个转人工请求。"
HandoffId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Support = Annotated[StaffPrincipal, Depends(require_support)]


class ReplyRequest(BaseModel):
    text: str = Field(..., max_length=2000)

    _text = field_validator("text")(_no_control)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def handoff_out(h: Handoff, taken_by: str | None, now: datetime) -> dict[str, Any]:
    # Waiting: until a person took it (or, never taken, until it closed or now).
    waited_until = h.taken_at or h.closed_at or now
    return {
        "id": h.id,
        "sender": h.sender,
        "channel": h.channel,
        "reason": h.reason,
        "status": h.status,
        "status_label": handoffs.STATUS_LABELS.get(h.status, h.status),
        "created_at": _iso(h.created_at),
        "taken_by": taken_by,
        "taken_at": _iso(h.taken_at),
        "closed_at": _iso(h.closed_at),
        "waited_seconds": max(0, int((waited_until - h.created_at).total_seconds())),
    }


@router.get("/api/staff/handoffs")
def list_handoffs(
    request: Request,
    _: Support,
    status_: Annotated[Literal["open", "taken", "closed"] | None, Query(alias="status")] = None,
    limit: int = Query(200, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=1_000_000),
) -> dict[str, Any]:
    now = utcnow()
    with request.app.state.db.transaction(write=False) as session:
        rows, total = handoffs.queue(session, status_, limit, offset)
        return {
            "total": total,
            "counts": handoffs.counts(session),
            "items": [handoff_out(h, name, now) for h, name in rows],
        }


async def _deliver(request: Request, message_id: int, sender: str, text: str) -> tuple[bool, str | None]:
    """WeChat: send now. (delivered, problem in words for staff); web messages wait for the widget."""
    if not is_wechat_sender(sender):
        return False, None
    from bot.routes.wechat import customer_service  # the WeChat route owns the client and its token

    try:
        await customer_service(request.app).send_text(sender[len(SENDER_PREFIX) :], text)
    except DeliveryError as exc:
        log.warning("hand-off message %s not delivered to WeChat: %s", message_id, exc)
        return False, "微信客服消息没有发送成功（用户超过48小时未互动，或公众号未配置），请通过其他方式联系用户。"

    def mark() -> None:
        with request.app.state.db.transaction() as session:
            row = session.get(HandoffMessage, message_id)
            if row is not None:
                row.delivered = True

    await run_in_threadpool(mark)
    return True, None


async def _act(
    request: Request, principal: StaffPrincipal, handoff_id: int, action: str, text: str | None = None
) -> dict[str, Any]:
    who = Who(principal.account_id, principal.display_name)

    def change() -> tuple[dict[str, Any], HandoffMessage | None]:
        with request.app.state.db.transaction() as session:
            handoff = session.get(Handoff, handoff_id)
            if handoff is None:
                raise HTTPException(status.HTTP_404_NOT_FOUND, detail=NOT_FOUND)
            try:
                if action == "handoff_taken":
                    message = handoffs.take(session, handoff, who)
                elif action == "handoff_closed":
                    message = handoffs.close(session, handoff, who)
                else:
                    message = handoffs.reply(session, handoff, who, text or "")
            except QueueConflict as exc:
                raise HTTPException(status.HTTP_409_CONFLICT, detail=exc.detail) from None
            audit.record(
                session,
                principal,
                action,
                "handoff",
                handoff.id,
                f"{len(text or '')} 字" if action == "handoff_reply" else f"会话 {handoff.sender or '-'}",
            )
            session.flush()
            taker = session.get(StaffAccount, handoff.taken_by_id) if handoff.taken_by_id else None
            out = handoff_out(handoff, taker.display_name if taker else None, utcnow())
            return out, message

    out, message = await run_in_threadpool(change)
    if message is not None:
        delivered, problem = await _deliver(request, message.id, message.sender, message.text)
        out["message"] = {
            "text": message.text,
            "delivered": delivered,
            "problem": problem,
            "channel": "wechat" if is_wechat_sender(message.sender) else "web",
        }
    return out


@router.post("/api/staff/handoffs/{handoff_id}/take")
async def take_handoff(handoff_id: HandoffId, request: Request, principal: Support) -> dict[str, Any]:
    return await _act(request, principal, handoff_id, "handoff_taken")


@router.post("/api/staff/handoffs/{handoff_id}/reply")
async def reply_handoff(
    handoff_id: HandoffId, body: ReplyRequest, request: Request, principal: Support
) -> dict[str, Any]:
    return await _act(request, principal, handoff_id, "handoff_reply", body.text)


@router.post("/api/staff/handoffs/{handoff_id}/close")
async def close_handoff(handoff_id: HandoffId, request: Request, principal: Support) -> dict[str, Any]:
    return await _act(request, principal, handoff_id, "handoff_closed")


@router.get("/api/handoffs/updates")
def handoff_updates(
    request: Request,
    sender: str = Query(..., min_length=1, max_length=128, pattern=SENDER_PATTERN),
    after: int = Query(0, ge=0, le=2**31 - 1),
) -> dict[str, Any]:
    """For the widget: its latest hand-off's status and the messages after `after` (ids)."""
    if is_wechat_sender(sender):  # WeChat users get theirs pushed; nobody reads them here
        raise RequestValidationError(
            [
                {
                    "loc": ("query", "sender"),
                    "type": "value_error",
                    "msg": "reserved sender",
                    "ctx": {"reason": replies.RESERVED_SENDER},
                }
            ]
        )
    db = request.app.state.db
    with db.transaction(write=False) as session:  # polled every few seconds: read only, as a rule
        latest = handoffs.latest_for(session, sender)
        found = handoffs.messages_for(session, sender, after) if latest is not None else []
        out = {
            "status": latest.status if latest else None,
            "status_label": handoffs.STATUS_LABELS.get(latest.status) if latest else None,
            "messages": [{"id": m.id, "text": m.text, "at": _iso(m.created_at)} for m in found],
        }
        unseen = [m.id for m in found if not m.delivered]
    if unseen:  # staff see that the widget has shown them
        with db.transaction() as session:
            session.execute(update(HandoffMessage).where(HandoffMessage.id.in_(unseen)).values(delivered=True))
    return out
