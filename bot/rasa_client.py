"""The one place bot/ talks to Rasa: its REST webhook and its status endpoints."""
from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

import httpx

log = logging.getLogger(__name__)


class RasaUnavailable(Exception):
    """Rasa could not be reached or answered with an error."""


class RasaClient:
    def __init__(self, base_url: str, timeout: float = 10.0, transport: httpx.AsyncBaseTransport | None = None):
        self._client = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=timeout, transport=transport)

    async def send(self, sender: str, message: str, metadata: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Send one user message; return Rasa's bot messages (text / buttons / custom)."""
        payload: dict[str, Any] = {"sender": sender, "message": message}
        if metadata:
            payload["metadata"] = metadata
        try:
            response = await self._client.post("/webhooks/rest/webhook", json=payload)
        except httpx.HTTPError as exc:
            raise RasaUnavailable(f"Rasa unreachable: {exc.__class__.__name__}") from exc
        if not response.is_success:
            raise RasaUnavailable(f"Rasa answered HTTP {response.status_code}")
        try:
            messages = response.json()
        except ValueError as exc:
            raise RasaUnavailable("Rasa answered with invalid JSON") from exc
        if not isinstance(messages, list):
            raise RasaUnavailable("Rasa answered with an unexpected body")
        return [_clean_bot_message(m) for m in messages if isinstance(m, dict)]

    async def tracker(self, sender: str) -> dict[str, Any]:
        """The conversation's tracker from Rasa's tracker store; `events` is always a list of dicts."""
        try:
            response = await self._client.get(f"/conversations/{conversation_path(sender)}/tracker")
        except httpx.HTTPError as exc:
            raise RasaUnavailable(str(exc.__class__.__name__)) from exc
        if not response.is_success:
            raise RasaUnavailable(f"Rasa answered HTTP {response.status_code}")
        try:
            tracker = response.json()
        except ValueError as exc:
            raise RasaUnavailable("Rasa answered with invalid JSON") from exc
        if not isinstance(tracker, dict):
            raise RasaUnavailable("Rasa answered with an unexpected body")
        events = tracker.get("events")
        tracker["events"] = [e for e in events if isinstance(e, dict)] if isinstance(events, list) else []
        return tracker

    async def is_healthy(self) -> bool:
        try:
            response = await self._client.get("/status", timeout=2.0)
            return response.is_success
        except httpx.HTTPError:
            return False

    async def aclose(self) -> None:
        await self._client.aclose()


def conversation_path(sender: str) -> str:
    """A sender id as one path segment of Rasa's API. Senders are client-chosen text: a "?", "#" or
    "/" in one must not turn into a query, a fragment or another path ("../"). Rasa (Sanic) does
    not unquote its path parameters, so what it takes literally stays as it is: every sender the
    channels make ("web-…", "wx:<OpenID>") and "%" sequences reach it unchanged."""
    return quote(sender, safe="-._~:@!$&'()*+,;=%")


def _clean_bot_message(message: dict[str, Any]) -> dict[str, Any]:
    """Keep only what the channels render: text, buttons (title/payload) and custom payloads."""
    out: dict[str, Any] = {}
    if isinstance(message.get("text"), str):
        out["text"] = message["text"]
    buttons = message.get("buttons")
    if isinstance(buttons, list):
        out["buttons"] = [
            {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
            for b in buttons
            if isinstance(b, dict)
        ]
    if message.get("custom") is not None:
        out["custom"] = message["custom"]
    return out
