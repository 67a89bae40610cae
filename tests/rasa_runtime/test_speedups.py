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
from rasa.core.policies.ted_policy import TEDPolicy
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
    ted_predict = TEDPolicy.__dict__["predict_action_probabilities"]
    speedups.apply()
    yield saved[0], saved[1].__func__
    RemoteAction._validate_action_result, Event.resolve_by_type = saved
    TEDPolicy.predict_action_probabilities = ted_predict
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


class _Prediction:
    """What TEDPolicy.predict_action_probabilities returns, as far as the memo reads it."""

    def __init__(self, probabilities, optional_events=None):
        self.probabilities = probabilities
        self.policy_name = "TEDPolicy"
        self.policy_priority = 1
        self.events = []
        self.optional_events = optional_events or []
        self.is_end_to_end_prediction = False
        self.is_no_user_prediction = False
        self.diagnostic_data = {}
        self.hide_rule_turn = False
        self.action_metadata = None


class _Ted:
    """A TEDPolicy as the memo sees it: its model, its featurized states, and a counted prediction."""

    def __init__(self, reads_text=False):
        self.model = object()
        self.fake_features = {"text": []} if reads_text else {"intent": []}
        self.runs = 0

    def _prediction_states(self, tracker, domain, rule_only_data=None):
        return tracker["states"]

    def predict(self, tracker, domain, rule_only_data=None, precomputations=None, **kwargs):
        self.runs += 1
        return _Prediction(list(tracker["probabilities"]), optional_events=tracker.get("entities"))


def _tracker(intent, probabilities=(0.1, 0.9), **extra):
    states = [{"prev_action": {"action_name": "action_listen"}, "user": {"intent": intent}, "slots": {"x": (1.0,)}}]
    return {"states": states, "probabilities": probabilities, **extra}


def test_ted_runs_once_per_dialogue_state_and_hands_out_copies():
    ted, domain = _Ted(), object()
    predict = speedups._remembered_predictions(_Ted.predict)
    first = predict(ted, _tracker("ask_photo"), domain)
    first.probabilities[1] = 0.0  # what the ensemble does to a rejected action
    again = predict(ted, _tracker("ask_photo", probabilities=(0.5, 0.5)), domain)
    assert ted.runs == 1
    assert again.probabilities == [0.1, 0.9], "a caller's change must not reach the next message"
    other = predict(ted, _tracker("greet", probabilities=(0.7, 0.3)), domain)
    assert ted.runs == 2 and other.probabilities == [0.7, 0.3]


def test_ted_predictions_are_not_kept_across_domains_text_models_or_entities():
    ted = _Ted()
    predict = speedups._remembered_predictions(_Ted.predict)
    predict(ted, _tracker("greet"), object())
    predict(ted, _tracker("greet"), object())  # another model's domain
    assert ted.runs == 2
    entities = _tracker("ask_price", entities=["a predicted entity"])
    predict(ted, entities, object())
    domain = object()
    predict(ted, entities, domain)
    predict(ted, entities, domain)
    assert ted.runs == 5, "entities read off one message's text are not handed to the next"
    reader = _Ted(reads_text=True)
    predict(reader, _tracker("greet"), domain)
    predict(reader, _tracker("greet"), domain)
    assert reader.runs == 2


def test_the_ted_memo_is_bounded(monkeypatch):
    monkeypatch.setattr(speedups, "TED_PREDICTIONS_KEPT", 3)
    ted, domain = _Ted(), object()
    predict = speedups._remembered_predictions(_Ted.predict)
    for intent in ("a", "b", "c", "d"):
        predict(ted, _tracker(intent), domain)
    predict(ted, _tracker("d"), domain)
    assert ted.runs == 4
    predict(ted, _tracker("a"), domain)  # the least recently used one was let go
    assert ted.runs == 5
