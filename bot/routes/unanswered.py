"""Questions the assistant could not answer, for 客服 staff: grouped by meaning, with counts, first
and last time asked and the nearest FAQ item, and exported as data/faq/ items.

  GET /api/staff/unanswered                 {"groups": [{"id", "questions", "count", "first_seen",
                                            "last_seen", "sender", "nearest"}]}
  GET /api/staff/unanswered/export?ids=...  YAML in the data/faq/ format: with faq_id, the groups'
                                            questions as variants of that item; without, a draft
                                            item per group whose answer staff write

Grouping (bot/unanswered.py) uses the knowledge engine's reading of each question, stored when it
was declined; a row without one is read here once and the reading stored. Without the knowledge
index the groups fall back to token overlap and show no nearest item.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import PlainTextResponse

from bot import faq_export, unanswered_store
from bot.auth import require_support
from bot.unanswered import Group, group_by_meaning, group_by_words, reading_of
from knowledge.engine import Engine, IndexUnavailable, shared_engine

log = logging.getLogger(__name__)
router = APIRouter(tags=["staff"], dependencies=[Depends(require_support)])

Limit = Annotated[int, Query(ge=1, le=20000, description="how many distinct questions, the most recently asked")]


def _engine(request: Request) -> Engine | None:
    try:
        return shared_engine(request.app.state.settings.index_dir)
    except IndexUnavailable as exc:
        log.warning("unanswered questions grouped by words only: %s", exc)
        return None


def _groups(request: Request, limit: int) -> tuple[list[Group], Engine | None]:
    db = request.app.state.db
    engine = _engine(request)
    rows = unanswered_store.recent_rows(db, limit, engine.retriever.lexicon if engine else None)
    if engine is None:
        return group_by_words(rows), None
    unread = {row.id: row for row in rows if not row.reading}
    if unread:
        readings = {row_id: reading_of(engine.answer(row.question).hits) for row_id, row in unread.items()}
        for row_id, reading in readings.items():
            unread[row_id].reading = reading
        try:
            unanswered_store.save_readings(db, readings)
        except Exception as exc:  # noqa: BLE001 - read again next time; the list still goes out
            log.warning("could not store the readings of unanswered questions: %s", exc.__class__.__name__)
    return group_by_meaning(rows, engine.retriever.bm25_units.token_weight), engine


def _nearest(group: Group, engine: Engine | None) -> dict | None:
    found = group.nearest_faq() if engine is not None else None
    question = engine.faq_question(found[0]) if found else None
    if question is None:  # no FAQ item among the readings, or one removed since
        return None
    return {"faq_id": found[0], "question": question, "score": round(found[1], 3)}


@router.get("/api/staff/unanswered")
def list_unanswered(request: Request, limit: Limit = 2000) -> dict:
    """Declined or only-suggested questions, grouped by what they ask, most asked first. A group's
    id stays the same while questions join it."""
    groups, engine = _groups(request, limit)
    return {
        "groups": [
            {
                "id": g.id,
                "questions": g.questions,
                "count": g.count,
                "first_seen": g.first_seen.isoformat(),
                "last_seen": g.last_seen.isoformat(),
                "sender": g.sender,
                "nearest": _nearest(g, engine),
            }
            for g in groups
        ]
    }


@router.get(
    "/api/staff/unanswered/export",
    response_class=PlainTextResponse,
    responses={404: {"description": "an unknown group id or FAQ item"}},
)
def export_unanswered(
    request: Request,
    ids: Annotated[str, Query(description="group ids from GET /api/staff/unanswered, comma-separated")] = "",
    faq_id: Annotated[
        str | None, Query(description="an existing FAQ item: export the questions as its variants")
    ] = None,
    limit: Limit = 2000,
) -> PlainTextResponse:
    """The chosen groups as a data/faq/ file: variants of `faq_id`, or one draft item per group."""
    wanted = list(dict.fromkeys(i.strip() for i in ids.split(",") if i.strip()))
    if not wanted:
        raise HTTPException(422, detail="请用 ids 指定要导出的问题组（多个用逗号分隔）。")
    source = None
    if faq_id and faq_id.strip():  # the console sends an empty field when no item is chosen
        source = faq_export.find_item(faq_id.strip())
        if source is None:
            raise HTTPException(404, detail=f"没有编号为 {faq_id} 的 FAQ 条目，请从 data/faq/ 里选一个已有条目。")
    groups, engine = _groups(request, limit)
    by_id = {g.id: g for g in groups}
    unknown = [i for i in wanted if i not in by_id]
    if unknown:
        raise HTTPException(404, detail=f"找不到问题组 {'、'.join(unknown)}：列表可能已经更新，请刷新后重新选择。")
    chosen = [by_id[i] for i in wanted]
    if source is not None:
        text, filename = faq_export.as_variants(source, chosen), f"{source.item.id}_variants.yml"
    else:
        nearest = {g.id: (n["faq_id"], n["score"]) for g in chosen if (n := _nearest(g, engine))}
        text, filename = faq_export.as_drafts(chosen, nearest), "faq_drafts.yml"
    return PlainTextResponse(
        text,
        media_type="text/yaml; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
