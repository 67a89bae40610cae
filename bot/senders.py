"""Who may speak for a WeChat user: conversations "wx:<OpenID>" belong to the WeChat channel.

Such a conversation is written by bot/wechat itself (in process, never through bot/'s HTTP routes)
and by the action server acting in it, whose calls carry its credential (bot/auth.py). Anyone else
naming a `wx:` sender would write into a WeChat user's conversation: chat as them and read the
replies meant for them, attach feedback, hand-offs, enrollments, leads or unanswered questions to
them, or collide with their open call-back request. So every router except WeChat's refuses a
`wx:` sender from any other caller: one check (`refuse_wechat_senders`, a router dependency), one
422 a client can act on. Staff read WeChat conversations through their own (GET) endpoints.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError

from bot import replies
from bot.auth import Caller, identify

PREFIX = "wx:"


def is_wechat_sender(value: Any) -> bool:
    return isinstance(value, str) and value.lower().startswith(PREFIX)


async def _body_sender(request: Request) -> Any:
    """The JSON body's "sender" as sent (before the endpoint validates the body), or None."""
    if request.method not in ("POST", "PUT", "PATCH") or "json" not in request.headers.get("content-type", ""):
        return None
    try:
        body = await request.json()  # read once; FastAPI reuses the same bytes for the endpoint
    except Exception:  # noqa: BLE001 - not JSON: the endpoint answers with its own 422
        return None
    return body.get("sender") if isinstance(body, dict) else None


async def refuse_wechat_senders(request: Request) -> None:
    """Router dependency: 422 for a `wx:` sender unless the action server sends it."""
    if not is_wechat_sender(await _body_sender(request)):
        return
    if await identify(request) is Caller.ACTION_SERVER:
        return
    raise RequestValidationError(
        [
            {
                "loc": ("body", "sender"),
                "type": "value_error",
                "msg": "reserved sender",
                "ctx": {"reason": replies.RESERVED_SENDER},
            }
        ]
    )
