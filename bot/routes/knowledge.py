"""Knowledge search API (the chat actions and the staff console call these).

  GET  /api/knowledge/search?q=...&k=5   ranked hits (FAQ items and document sections) with their
                                         scores and sources, plus the decision for the question
  POST /api/knowledge/answer             {"question", optional "context_question", optional "faq_id"}
                                         -> answer (with the source to cite, and the next questions
                                         when only moderately sure) or decline (with the reason
                                         when the material lacks what is asked), and the FAQ's
                                         standard question, a good context_question for the next turn

The engine (knowledge.engine) is loaded lazily, once per index folder, from
`settings.index_dir`; when `make train` points the index at a new version, the next request
loads it. A missing or stale index is a 503 whose `detail` says in Chinese what to do. Search
runs in FastAPI's thread pool (plain `def` endpoints), so encoding never blocks the event loop.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, BeforeValidator, Field
from pydantic_core import PydanticCustomError

from bot import replies, unanswered_store
from bot.senders import refuse_wechat_senders
from bot.unanswered import reading_of
from knowledge.engine import Decision, Engine, Hit, IndexUnavailable, shared_engine

log = logging.getLogger(__name__)
router = APIRouter(tags=["knowledge"], dependencies=[Depends(refuse_wechat_senders)])  # wx: is WeChat's

MAX_QUESTION_CHARS = 1000
INDEX_UNAVAILABLE = replies.INDEX_UNAVAILABLE


def _text(max_chars: int, required: bool, what: str):
    def check(value: Any) -> Any:
        if value is None and not required:
            return None
        if not isinstance(value, str):
            raise PydanticCustomError("knowledge_text", "{reason}", {"reason": f"{what}必须是文本。"})
        if required and not value.strip():
            raise PydanticCustomError("knowledge_text", "{reason}", {"reason": f"{what}不能为空。"})
        if len(value) > max_chars:
            raise PydanticCustomError(
                "knowledge_text", "{reason}", {"reason": f"{what}太长了（超过{max_chars}字），请精简成一两句话。"}
            )
        return value

    return BeforeValidator(check)


Question = Annotated[str, _text(MAX_QUESTION_CHARS, True, "问题")]


class Source(BaseModel):
    title: str | None = Field(None, description="the document, e.g. 福建省二级建造师注册办理指南")
    section: str | None = Field(None, description="the section, e.g. 注意事项第2条（照片要求）")


class Suggestion(BaseModel):
    faq_id: str
    question: str


class AnswerResponse(BaseModel):
    decision: str = Field(..., description="answer | decline")
    answer: str = Field(..., description="the text to show (the answer, or a Chinese decline message)")
    faq_id: str | None = None
    question: str | None = Field(None, description="the standard question of the FAQ item answered")
    source: Source = Field(default_factory=Source)
    suggestions: list[Suggestion] = Field(
        default_factory=list,
        description="answered: the next 2-3 questions when only moderately sure (您可能还想问); "
        "declined: the nearest questions of the material, when the question names one of its terms",
    )
    gap: str | None = Field(
        None,
        description="declined because the material lacks this (a gap id of data/faq/gaps.yml); "
        "`answer` then says what is missing",
    )
    confidence: float = Field(0.0, description="calibrated p(the best entry is the right one)")
    asked: str | None = Field(None, description="for a part: the user's words of the question it answers")
    parts: list[AnswerResponse] = Field(
        default_factory=list, description="a message that asks several things: one decision per question, in order"
    )


class HitOut(BaseModel):
    id: str
    kind: str
    faq_id: str | None
    question: str = Field(..., description="the FAQ question, or the section title")
    text: str
    score: float
    bm25: float
    dense: float
    source: Source


class SearchResponse(BaseModel):
    query: str
    normalized: str
    hits: list[HitOut]
    decision: AnswerResponse


class AnswerRequest(BaseModel):
    question: Annotated[str | None, _text(MAX_QUESTION_CHARS, False, "问题 question ")] = None
    context_question: Annotated[str | None, _text(MAX_QUESTION_CHARS, False, "上一个问题 context_question ")] = None
    faq_id: Annotated[str | None, _text(128, False, "faq_id ")] = None
    # Who asked, so that questions the assistant could not answer reach the staff console.
    sender: Annotated[str | None, _text(128, False, "会话标识 sender ")] = None
    channel: Annotated[str | None, _text(32, False, "渠道 channel ")] = None


def _engine(request: Request) -> Engine:
    try:
        return shared_engine(request.app.state.settings.index_dir)
    except IndexUnavailable as exc:
        log.error("knowledge index unavailable: %s", exc)
        raise HTTPException(status_code=503, detail=INDEX_UNAVAILABLE) from exc  # details stay in the log


def _answer_out(decision: Decision, engine: Engine) -> AnswerResponse:
    return AnswerResponse(
        decision=decision.kind,
        answer=decision.answer,
        faq_id=decision.faq_id,
        question=engine.faq_question(decision.faq_id) if decision.faq_id else None,
        source=Source(title=decision.source_title, section=decision.source_section),
        suggestions=[Suggestion(**s) for s in decision.suggestions],
        gap=decision.gap_id,
        confidence=round(decision.confidence, 4),
        asked=decision.asked or None,
        parts=[_answer_out(p, engine) for p in decision.parts],
    )


def _hit_out(hit: Hit) -> HitOut:
    return HitOut(
        id=hit.id,
        kind=hit.kind,
        faq_id=hit.faq_id,
        question=hit.title,
        text=hit.text,
        score=hit.score,
        bm25=hit.bm25,
        dense=hit.dense,
        source=Source(title=hit.source_title, section=hit.source_section),
    )


@router.get(
    "/api/knowledge/search",
    response_model=SearchResponse,
    responses={503: {"description": "the knowledge index is missing or stale"}},
)
def search(
    request: Request,
    q: Annotated[Question, Query(description="the question, 1-1000 characters")],
    k: Annotated[int, Query(ge=1, le=20, description="how many hits")] = 5,
) -> SearchResponse:
    engine = _engine(request)
    decision = engine.answer(q, k=k)
    return SearchResponse(
        query=q,
        normalized=decision.query,
        hits=[_hit_out(h) for h in decision.hits],
        decision=_answer_out(decision, engine),
    )


@router.post(
    "/api/knowledge/answer",
    response_model=AnswerResponse,
    responses={404: {"description": "unknown faq_id"}, 503: {"description": "the knowledge index is missing or stale"}},
)
def answer(body: AnswerRequest, request: Request) -> AnswerResponse:
    if body.faq_id is None and (body.question is None or not body.question.strip()):
        raise HTTPException(status_code=422, detail="请提供问题 question（或点击的 faq_id）。")
    engine = _engine(request)
    if body.faq_id is not None:
        try:
            return _answer_out(engine.answer_by_id(body.faq_id), engine)
        except KeyError:
            raise HTTPException(status_code=404, detail=f"没有编号为 {body.faq_id} 的问题，请重新提问。") from None
    decision = engine.answer(body.question, context_question=body.context_question)
    if body.sender and (decision.kind != "answer" or any(p.kind != "answer" for p in decision.parts)):
        _record_unanswered(request, body, "decline", decision)
    return _answer_out(decision, engine)


def _record_unanswered(request: Request, body: AnswerRequest, kind: str, decision: Decision) -> None:
    """Best effort: a database hiccup must not cost the user their reply. The decision's best
    entries go with the question, so staff see it grouped by meaning; a follow-up read with the
    previous question is stored without them (the console reads it on its own)."""
    settings = request.app.state.settings
    bounds = unanswered_store.Bounds(settings.unanswered_max_rows, settings.unanswered_max_per_sender)
    reading = None if decision.used_context else reading_of(decision.hits)
    try:
        unanswered_store.record(
            request.app.state.db,
            bounds,
            question=body.question,
            sender=body.sender,
            channel=body.channel,
            decision=kind,
            reading=reading,
            lexicon=_engine(request).retriever.lexicon,  # the engine that just read the question
        )
    except Exception as exc:  # noqa: BLE001 - logged, and the answer still goes out
        log.warning("could not record an unanswered question: %s", exc.__class__.__name__)
