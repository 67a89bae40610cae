"""POST /api/chat: the web channel's gateway to Rasa."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, field_validator
from pydantic_core import PydanticCustomError

from bot import replies
from bot.chat_cleaning import clean_message
from bot.rasa_client import RasaUnavailable
from bot.senders import refuse_wechat_senders

log = logging.getLogger(__name__)
# A web client must not write into a WeChat user's conversation, nor read the replies meant for them.
router = APIRouter(tags=["chat"], dependencies=[Depends(refuse_wechat_senders)])

# 1-128 printable characters; no control characters.
SENDER_PATTERN = r"^[^\x00-\x1f\x7f]{1,128}$"


class ChatRequest(BaseModel):
    sender: str = Field(..., min_length=1, max_length=128, pattern=SENDER_PATTERN, description="conversation id")
    message: str = Field("", max_length=100_000, description="the user's text")
    metadata: dict[str, Any] | None = Field(None, description="optional channel metadata")

    @field_validator("metadata")
    @classmethod
    def _json_metadata(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        """Forwarded to Rasa as JSON: NaN / Infinity (which Python's parser accepts) must not reach it."""
        if value is not None:
            try:
                json.dumps(value, allow_nan=False)
            except (ValueError, TypeError, RecursionError):
                raise PydanticCustomError("metadata", "{reason}", {"reason": replies.INVALID_METADATA}) from None
        return value


class Button(BaseModel):
    title: str
    payload: str


class BotMessage(BaseModel):
    text: str | None = None
    buttons: list[Button] | None = None
    custom: Any | None = None


class ChatResponse(BaseModel):
    messages: list[BotMessage]


@router.post(
    "/api/chat",
    response_model=ChatResponse,
    response_model_exclude_none=True,
    responses={
        429: {"description": "too many messages from this sender or IP"},
        503: {"description": "Rasa unavailable; body has a Chinese message for the user"},
    },
)
async def chat(body: ChatRequest, request: Request):
    settings = request.app.state.settings
    text = clean_message(body.message)
    if not text:
        return ChatResponse(messages=[BotMessage(text=replies.EMPTY_MESSAGE)])
    if len(text) > settings.max_message_chars:
        return ChatResponse(
            messages=[BotMessage(text=replies.MESSAGE_TOO_LONG.format(limit=settings.max_message_chars))]
        )
    try:
        messages = await request.app.state.rasa.send(body.sender, text, body.metadata)
    except RasaUnavailable as exc:
        log.warning("chat: %s", exc)
        return JSONResponse(
            status_code=503,
            content={"detail": replies.ASSISTANT_UNAVAILABLE, "messages": [{"text": replies.ASSISTANT_UNAVAILABLE}]},
        )
    if not any(m.get("text") or m.get("buttons") for m in messages):
        # Rasa answers nothing when an action fails (e.g. the action server is down): never leave
        # the user in silence.
        log.warning("chat: Rasa returned no text for %s", body.sender[-6:])
        messages = [{"text": replies.NO_REPLY}] + messages
    return ChatResponse(messages=[BotMessage(**m) for m in messages])
