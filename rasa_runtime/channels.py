"""The REST channel bot/ talks to, behind Rasa's API token.

`--auth-token` guards Rasa's HTTP API (trackers, model), not its channels: anyone who could reach
Rasa could still post messages as any sender (a WeChat user's `wx:` id included) to
/webhooks/rest/webhook, bypassing bot/'s checks. This channel is Rasa's RestInput, same name and
URL, that first asks for the same token (`?token=`, from RASA_TOKEN) and answers 401 without it.
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request

log = logging.getLogger(__name__)


class TokenRestInput(RestInput):
    @classmethod
    def name(cls) -> str:
        return "rest"  # keeps the URL bot/ posts to: /webhooks/rest/webhook

    def __init__(self, token: str) -> None:
        self.token = token

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> TokenRestInput:
        token = os.environ.get("RASA_TOKEN", "")
        if not token:
            log.error("RASA_TOKEN is not set: the REST channel refuses every message")
        return cls(token)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)

        @blueprint.middleware("request")
        async def require_token(request: Request):
            given = request.args.get("token", "")
            if not self.token or not hmac.compare_digest(given.encode(), self.token.encode()):
                return response.json({"status": "failure", "reason": "NotAuthenticated"}, status=401)
            return None

        return blueprint
