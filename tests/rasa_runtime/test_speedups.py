"""rasa_runtime.speedups keeps Rasa's behaviour: the same responses accepted, the same ones refused
with the same message, the same event classes. Runs in the Rasa runtime (.venv-rasa)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import rasa
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import Event
from rasa.shared.utils.common import all_subclasses

from rasa_runtime import speedups

ROOT = Path(__file__).resolve().parents[2]

VALID = {
    "events": [{"event": "slot", "name": "last_question", "value": "证件照有什么要求", "timestamp": None}],
    "responses": [
        {
            "text": "照片要求……\n来源：注意事项",
            "buttons": [{"title": "转人工", "payload": "/human_handoff"}],
            "custom": {"type": "answer", "faq_id": "photo"},
        }
    ],
}
INVALID = [
    {"events": "not a list"},
    {"events": [{"event": "slot", "name": 3}]},
    {"events": [{"name": "faq_id"}]},  # an event without its type
    {"events": [{"event": "slot", "timestamp": "yesterday"}]},
    {"events": [{"event": 42}]},
    {"responses": [{"text": "hi"}, "a string, not an object"]},
]


@pytest.fixture(scope="module")
def originals():
    """Rasa's own methods, then the speed-ups installed; everything put back afterwards."""
    saved = (RemoteAction.__dict__["_validate_action_result"], Event.__dict__["resolve_by_type"])
    speedups.apply()
    yield saved[0], saved[1].__func__
    RemoteAction._validate_action_result, Event.resolve_by_type = saved
    speedups._applied = False


def test_a_valid_action_response_is_accepted(originals):
    assert RemoteAction.__dict__["_validate_action_result"] is speedups._validate_action_result
    action = RemoteAction("action_answer_question", None)
    assert action._validate_action_result(VALID) is True
    assert originals[0](action, VALID) is True


@pytest.mark.parametrize("response", INVALID)
def test_an_invalid_action_response_is_refused_with_rasas_message(originals, response):
    action = RemoteAction("action_answer_question", None)
    with pytest.raises(jsonschema.ValidationError) as patched:
        action._validate_action_result(response)
    with pytest.raises(jsonschema.ValidationError) as original:
        originals[0](action, response)
    assert patched.value.message == original.value.message
    assert "Failed to validate Action server response" in patched.value.message


def test_every_event_type_resolves_to_the_same_class(originals):
    resolve = originals[1]
    names = {cls.type_name for cls in all_subclasses(Event)}
    assert {"user", "bot", "slot", "action", "active_loop"} <= names
    for name in names:
        assert Event.resolve_by_type(name) is resolve(name)
    assert Event.resolve_by_type("no_such_event", default=Event) is Event


def test_an_unknown_event_type_still_raises(originals):
    with pytest.raises(ValueError):
        Event.resolve_by_type("no_such_event")


def test_another_rasa_version_is_refused(monkeypatch):
    monkeypatch.setattr(speedups, "_applied", False)
    monkeypatch.setattr(rasa, "__version__", "4.0.0")
    with pytest.raises(RuntimeError, match="written for Rasa 3.6"):
        speedups.apply()


def test_the_launcher_is_rasas_own_cli():
    result = subprocess.run(
        [sys.executable, "-m", "rasa_runtime", "--version"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"RASA_TELEMETRY_ENABLED": "false", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert rasa.__version__ in result.stdout
