"""Fixtures for action tests: the domain loaded once, a dispatcher, trackers built inline.

These tests run in the Rasa runtime (.venv-rasa), like the action server itself.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.fixture(scope="session")
def domain() -> dict:
    """The domain as the action server receives it, read by Rasa's own loader."""
    from rasa.shared.core.domain import Domain

    return Domain.load(str(ROOT / "domain.yml")).as_dict()


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


def make_tracker(
    text: str = "",
    intent: str = "ask_knowledge",
    slots: dict | None = None,
    entities: list | None = None,
    sender: str = "test-user",
    events: list | None = None,
    active_loop: str | None = None,
    requested_slot: str | None = None,
) -> Tracker:
    """A tracker whose latest user message is `text`, classified as `intent`."""
    slots = dict(slots or {})
    if requested_slot is not None:
        slots["requested_slot"] = requested_slot
    return Tracker(
        sender_id=sender,
        slots=slots,
        latest_message={"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": entities or []},
        events=events or [],
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


@pytest.fixture
def tracker_factory():
    return make_tracker
