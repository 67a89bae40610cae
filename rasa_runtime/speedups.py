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

`apply()` refuses to run against a Rasa whose internals differ from the ones these were written
for, rather than silently doing nothing.
"""

from __future__ import annotations

import functools
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
    from rasa.shared.core.events import Event

    if not rasa.__version__.startswith(SUPPORTED_RASA):
        raise RuntimeError(f"rasa_runtime.speedups was written for Rasa {SUPPORTED_RASA}x, not {rasa.__version__}")
    for owner, name in (
        (RemoteAction, "_validate_action_result"),
        (RemoteAction, "action_response_format_spec"),
        (Event, "resolve_by_type"),
    ):
        if not callable(getattr(owner, name, None)):
            raise RuntimeError(
                f"Rasa {rasa.__version__} has no {owner.__name__}.{name}; review rasa_runtime/speedups.py"
            )

    RemoteAction._validate_action_result = _validate_action_result
    Event.resolve_by_type = staticmethod(_cached_resolver(Event.resolve_by_type))
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
