"""Public endpoints the channels write to: 👍/👎 feedback on answers and hand-off requests."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Request, status
from pydantic import BaseModel, Field, field_validator
from pydantic_core import PydanticCustomError

from bot.models import Feedback, Handoff
from bot.routes.chat import SENDER_PATTERN
from bot.senders import refuse_wechat_senders

router = APIRouter(tags=["feedback"], dependencies=[Depends(refuse_wechat_senders)])  # wx: is WeChat's

# A short lower-case tag such as web or wechat (the same rule as enrollments and leads).
CHANNEL_PATTERN = r"^[a-z][a-z0-9_-]{0,31}$"
NO_NUL = "{field} 不能包含空字符（\\u0000）。"


def _no_nul(value: Any, info) -> Any:
    """PostgreSQL refuses NUL in text (a 500 there, before this check): a client's mistake, so a 422."""
    if isinstance(value, str) and "\x00" in value:
        raise PydanticCustomError("text", "{reason}", {"reason": NO_NUL.format(field=info.field_name)})
    return value


class FeedbackRequest(BaseModel):
    sender: str = Field(..., min_length=1, max_length=128, pattern=SENDER_PATTERN)
    channel: str = Field("web", max_length=32, pattern=CHANNEL_PATTERN)
    rating: Literal[1, -1] = Field(..., description="1 = helpful (👍), -1 = not helpful (👎)")
    question: str = Field("", max_length=2000)
    answer: str = Field("", max_length=5000)
    faq_id: str | None = Field(None, max_length=64)
    comment: str | None = Field(None, max_length=1000)

    _text = field_validator("question", "answer", "faq_id", "comment")(_no_nul)


class HandoffRequest(BaseModel):
    sender: str = Field(..., min_length=1, max_length=128, pattern=SENDER_PATTERN)
    channel: str = Field("web", max_length=32, pattern=CHANNEL_PATTERN)
    reason: str | None = Field(None, max_length=1000, description="what the user asked for, in their words")

    _text = field_validator("reason")(_no_nul)


@router.post("/api/feedback", status_code=status.HTTP_201_CREATED)
def create_feedback(body: FeedbackRequest, request: Request) -> dict:
    with request.app.state.db.transaction() as session:
        row = Feedback(**body.model_dump())
        session.add(row)
        session.flush()
        return {"id": row.id, "message": "感谢您的反馈！"}


@router.post("/api/handoffs", status_code=status.HTTP_201_CREATED)
def create_handoff(body: HandoffRequest, request: Request) -> dict:
    """Record that a conversation needs a person; staff see it in the console with the transcript."""
    with request.app.state.db.transaction() as session:
        row = Handoff(**body.model_dump())
        session.add(row)
        session.flush()
        return {"id": row.id, "status": row.status}
