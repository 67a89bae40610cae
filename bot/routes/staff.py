"""The staff console (/staff) and its staff-only APIs: feedback, hand-offs, unanswered questions,
transcripts. Enrollments and leads have their own staff endpoints in routes/courses.py."""
from __future__ import annotations

from pathlib import Path

import yaml
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import FileResponse, PlainTextResponse
from sqlalchemy import select

from bot.auth import require_staff
from bot.models import Feedback, Handoff, Unanswered
from bot.rasa_client import RasaUnavailable
from bot.transcripts import transcript
from bot.unanswered import group_questions

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
router = APIRouter(tags=["staff"])
staff_only = [Depends(require_staff)]


@router.get("/staff", include_in_schema=False)
def console() -> FileResponse:
    return FileResponse(STATIC_DIR / "staff.html", media_type="text/html; charset=utf-8")


@router.get("/staff.js", include_in_schema=False)
def console_script() -> FileResponse:
    return FileResponse(STATIC_DIR / "staff.js", media_type="application/javascript; charset=utf-8")


@router.get("/api/staff/me", dependencies=staff_only)
def me() -> dict:
    return {"ok": True}


def _iso(value) -> str:
    return value.isoformat() if value else ""


@router.get("/api/staff/feedback", dependencies=staff_only)
def list_feedback(request: Request, limit: int = Query(200, ge=1, le=1000)) -> dict:
    with request.app.state.db.transaction(write=False) as session:
        rows = session.scalars(select(Feedback).order_by(Feedback.created_at.desc()).limit(limit)).all()
        return {"items": [
            {"id": f.id, "sender": f.sender, "channel": f.channel, "rating": f.rating, "question": f.question,
             "answer": f.answer, "faq_id": f.faq_id, "comment": f.comment, "created_at": _iso(f.created_at)}
            for f in rows]}


@router.get("/api/staff/handoffs", dependencies=staff_only)
def list_handoffs(request: Request, limit: int = Query(200, ge=1, le=1000)) -> dict:
    with request.app.state.db.transaction(write=False) as session:
        rows = session.scalars(select(Handoff).order_by(Handoff.created_at.desc()).limit(limit)).all()
        return {"items": [
            {"id": h.id, "sender": h.sender, "channel": h.channel, "reason": h.reason, "status": h.status,
             "created_at": _iso(h.created_at)} for h in rows]}


def _unanswered_groups(request: Request, limit: int):
    # One row per distinct question, with its count and tokens (bot/unanswered_store.py): `limit`
    # distinct questions, most recently asked first, grouped without normalising them again.
    with request.app.state.db.transaction(write=False) as session:
        rows = session.execute(select(Unanswered.question, Unanswered.last_seen, Unanswered.sender,
                                      Unanswered.asks, Unanswered.tokens)
                               .order_by(Unanswered.last_seen.desc(), Unanswered.id.desc()).limit(limit)).all()
    return group_questions([tuple(r) for r in rows])


@router.get("/api/staff/unanswered", dependencies=staff_only)
def list_unanswered(request: Request, limit: int = Query(2000, ge=1, le=20000)) -> dict:
    """Declined or only-suggested questions, similar ones grouped, most frequent first (`limit`: how
    many distinct questions, the most recently asked)."""
    return {"groups": [
        {"questions": g.questions, "count": g.count, "last_seen": _iso(g.last_seen), "sender": g.sender}
        for g in _unanswered_groups(request, limit)]}


@router.get("/api/staff/unanswered/export", dependencies=staff_only, response_class=PlainTextResponse)
def export_unanswered(request: Request, limit: int = Query(2000, ge=1, le=20000)) -> PlainTextResponse:
    """Candidate FAQ variants as YAML: staff pick the FAQ item (or write a new one) for each group."""
    candidates = [{"count": g.count, "variants": g.questions, "faq_id": None}
                  for g in _unanswered_groups(request, limit)]
    text = ("# Candidate FAQ variants from questions the assistant could not answer.\n"
            "# For each group set faq_id to an existing item of data/faq/ (or write a new item),\n"
            "# copy the variants there, then run `make train`.\n"
            + yaml.safe_dump({"candidates": candidates}, allow_unicode=True, sort_keys=False))
    return PlainTextResponse(text, media_type="text/yaml; charset=utf-8",
                             headers={"Content-Disposition": 'attachment; filename="candidate_variants.yml"'})


# `:path`: a sender may contain "/" (the console sends it percent-encoded), and it is still one id.
@router.get("/api/staff/conversations/{sender:path}", dependencies=staff_only)
async def conversation(sender: str, request: Request) -> dict:
    try:
        turns = await transcript(request.app.state.rasa, sender)
    except RasaUnavailable:
        raise HTTPException(503, detail="暂时无法读取会话记录（Rasa 不可用），请稍后再试。")
    return {"sender": sender, "turns": turns}
