"""The staff console (/staff) and the 客服 APIs: feedback, transcripts.
Logins and accounts: routes/accounts.py; hand-offs: routes/handoffs.py; enrollments and leads:
routes/pipeline.py; unanswered questions: routes/unanswered.py."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import FileResponse
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from bot import audit
from bot.auth import StaffPrincipal, require_support
from bot.models import Feedback
from bot.rasa_client import RasaUnavailable
from bot.transcripts import transcript
from masking import mask_pii

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
router = APIRouter(tags=["staff"])


@router.get("/staff", include_in_schema=False)
def console() -> FileResponse:
    return FileResponse(STATIC_DIR / "staff.html", media_type="text/html; charset=utf-8")


@router.get("/staff.js", include_in_schema=False)
def console_script() -> FileResponse:
    return FileResponse(STATIC_DIR / "staff.js", media_type="application/javascript; charset=utf-8")


def _iso(value) -> str:
    return value.isoformat() if value else ""


@router.get("/api/staff/feedback", dependencies=[Depends(require_support)])
def list_feedback(request: Request, limit: int = Query(200, ge=1, le=1000)) -> dict:
    with request.app.state.db.transaction(write=False) as session:
        rows = session.scalars(select(Feedback).order_by(Feedback.created_at.desc()).limit(limit)).all()
        return {
            "items": [
                {
                    "id": f.id,
                    "sender": f.sender,
                    "channel": f.channel,
                    "rating": f.rating,
                    "question": f.question,
                    "answer": f.answer,
                    "faq_id": f.faq_id,
                    "comment": f.comment,
                    "created_at": _iso(f.created_at),
                }
                for f in rows
            ]
        }


# `:path`: a sender may contain "/" (the console sends it percent-encoded), and it is still one id.
@router.get("/api/staff/conversations/{sender:path}")
async def conversation(
    sender: str, request: Request, principal: Annotated[StaffPrincipal, Depends(require_support)]
) -> dict:
    """One conversation's turns; phone and ID numbers masked for roles that do not call users back."""
    try:
        turns = await transcript(request.app.state.rasa, sender)
    except RasaUnavailable:
        raise HTTPException(503, detail="暂时无法读取会话记录（Rasa 不可用），请稍后再试。") from None
    if not principal.sees_phones:
        turns = [t | {"text": mask_pii(t["text"])} for t in turns]
    await run_in_threadpool(_audit_read, request, principal, sender, len(turns))
    return {"sender": sender, "turns": turns}


def _audit_read(request: Request, principal: StaffPrincipal, sender: str, turns: int) -> None:
    with request.app.state.db.transaction() as session:
        audit.record(session, principal, "conversation_read", "conversation", sender, f"{turns} 条消息")
