"""Work Rasa 3.6 repeats on every message with the same result, done once instead.

Found with py-spy on the Rasa process under `make bench` (20 users); each change keeps exactly what
the original checks or returns, and tests/rasa_runtime/ holds both to the original behaviour.

1. Action server responses. `RemoteAction._validate_action_result` calls `jsonschema.validate`,
   which first re-validates the (constant) response schema against the JSON-Schema meta-schema:
   15 ms per custom action call, against 0.4 ms for the response itself. A third of Rasa's CPU
   time went there. Here the schema is checked and compiled once.
2. Event classes. `Event.resolve_by_type` walks every Event subclass for each stored event when a
   tracker is loaded from the tracker store. The classes do not change once Rasa is imported, so
   the answer per type name is kept.
3. Dialogue predictions. TEDPolicy runs its TensorFlow model for every prediction (two or three per
   message), a quarter of Rasa's CPU time. Without end-to-end stories its input is exactly the
   dialogue states it featurizes (intents, entity names, slot features, the active form and previous
   actions of its last `max_history` turns), which repeat across conversations, so the prediction
   per states is kept (bounded, least recently used out) and handed out as a fresh copy: the
   policy ensemble writes into the probabilities it receives. A model that reads the user's text
   (end-to-end stories) is left alone: its input is the words.

`apply()` refuses to run against a Rasa whose internals differ from the ones these were written
for, rather than silently doing nothing.
"""

from __future__ import annotations

import functools
import json
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

SUPPORTED_RASA = "3.6."

_applied = False


def apply() -> None:
    """Install both speed-ups (idempotent)."""
    global _applied
    if _applied:
        return
    import rasa
    from rasa.core.actions.action import RemoteAction
    from rasa.core.policies.ted_policy import TEDPolicy
    from rasa.shared.core.events import Event

    if not rasa.__version__.startswith(SUPPORTED_RASA):
        raise RuntimeError(f"rasa_runtime.speedups was written for Rasa {SUPPORTED_RASA}x, not {rasa.__version__}")
    for owner, name in (
        (RemoteAction, "_validate_action_result"),
        (RemoteAction, "action_response_format_spec"),
        (Event, "resolve_by_type"),
        (TEDPolicy, "predict_action_probabilities"),
        (TEDPolicy, "_prediction_states"),
    ):
        if not callable(getattr(owner, name, None)):
            raise RuntimeError(
                f"Rasa {rasa.__version__} has no {owner.__name__}.{name}; review rasa_runtime/speedups.py"
            )

    RemoteAction._validate_action_result = _validate_action_result
    Event.resolve_by_type = staticmethod(_cached_resolver(Event.resolve_by_type))
    TEDPolicy.predict_action_probabilities = _remembered_predictions(TEDPolicy.predict_action_probabilities)
    _applied = True


@functools.lru_cache(maxsize=1)
def _action_response_validator() -> Any:
    """The validator `jsonschema.validate` would build, built (and its schema checked) once."""
    from jsonschema import validators
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    cls = validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _validate_action_result(self: Any, result: dict[str, Any]) -> bool:
    """Rasa's check of an action server response, with its error message, on the cached validator."""
    from jsonschema import exceptions
    from rasa.shared.constants import DOCS_BASE_URL

    error = exceptions.best_match(_action_response_validator().iter_errors(result))
    if error is None:
        return True
    error.message += (
        ". Failed to validate Action server response from API, "
        "make sure your response from the Action endpoint is valid. "
        f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
    )
    raise error


def _cached_resolver(resolve: Callable[..., Any]) -> Callable[..., Any]:
    """`resolve(type_name, default)` remembered per argument pair; unknown names still raise."""
    return functools.lru_cache(maxsize=256)(resolve)


TED_PREDICTIONS_KEPT = 4096  # distinct dialogue states; a few hundred occur in this assistant's flows


def _remembered_predictions(predict: Callable[..., Any]) -> Callable[..., Any]:
    """TEDPolicy.predict_action_probabilities, remembered per featurized dialogue states."""
    from rasa.shared.nlu.constants import TEXT

    @functools.wraps(predict)
    def predict_action_probabilities(
        self: Any, tracker: Any, domain: Any, rule_only_data: Any = None, precomputations: Any = None, **kwargs: Any
    ) -> Any:
        if self.model is None or TEXT in self.fake_features:  # untrained, or its input includes the words
            return predict(self, tracker, domain, rule_only_data, precomputations, **kwargs)
        # The states TED featurizes (the same call its _featurize_for_prediction makes), as a key.
        states = self._prediction_states(tracker, domain, rule_only_data=rule_only_data)
        key = json.dumps(states, sort_keys=True, ensure_ascii=False)
        memo = _memo_for(self, domain)
        kept = memo.get(key)
        if kept is None:
            kept = predict(self, tracker, domain, rule_only_data, precomputations, **kwargs)
            if kept.optional_events:  # entities read off the text: belongs to this message only
                return kept
            memo[key] = kept
            if len(memo) > TED_PREDICTIONS_KEPT:
                memo.popitem(last=False)
        memo.move_to_end(key)
        return _fresh_copy(kept)

    return predict_action_probabilities


def _memo_for(policy: Any, domain: Any) -> OrderedDict[str, Any]:
    """The policy's remembered predictions, emptied when it is asked with another domain."""
    held = policy.__dict__.get("_rasa_runtime_predictions")
    if held is None or held[0] is not domain:
        held = policy.__dict__["_rasa_runtime_predictions"] = (domain, OrderedDict())
    return held[1]


def _fresh_copy(prediction: Any) -> Any:
    """A PolicyPrediction the caller may change (the ensemble zeroes rejected actions in place)."""
    from rasa.core.policies.policy import PolicyPrediction

    return PolicyPrediction(
        list(prediction.probabilities),
        prediction.policy_name,
        prediction.policy_priority,
        list(prediction.events),
        list(prediction.optional_events),
        prediction.is_end_to_end_prediction,
        prediction.is_no_user_prediction,
        dict(prediction.diagnostic_data),
        prediction.hide_rule_turn,
        prediction.action_metadata,
    )
