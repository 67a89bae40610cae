"""Conversation transcripts for staff, read from Rasa's tracker store (over Rasa's HTTP API)."""

from __future__ import annotations

from typing import Any

from bot.rasa_client import RasaClient


async def transcript(rasa: RasaClient, sender: str) -> list[dict[str, Any]]:
    """The user and bot turns of one conversation, oldest first. Raises RasaUnavailable."""
    tracker = await rasa.tracker(sender)
    turns = []
    for event in tracker.get("events") or []:
        if event.get("event") in ("user", "bot") and event.get("text"):
            turns.append({"who": event["event"], "text": event["text"], "timestamp": event.get("timestamp")})
    return turns
