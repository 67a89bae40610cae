"""RequestGuard: the NLU pipeline component that applies rasa_runtime/request_rules.py (a form
starts only when the user asks for what it does), after DIET and before the FallbackClassifier."""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from rasa_runtime.request_rules import decide


# Module level, so that Rasa can resolve the type hints of `process` (it checks them).
@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class RequestGuard(GraphComponent):
    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> RequestGuard:
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            intent = message.get(INTENT) or {}
            name = intent.get(INTENT_NAME_KEY)
            new, decided = decide(message.get(TEXT) or "", name)
            if not decided or new is None:
                continue
            # The rule decided, not DIET's score: full confidence for the new intent and none for the
            # one it replaced, so that the FallbackClassifier after it (threshold, ambiguity) keeps it.
            message.set(INTENT, {INTENT_NAME_KEY: new, "confidence": 1.0}, add_to_output=True)
            others = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) not in (new, name)]
            replaced = [{INTENT_NAME_KEY: name, "confidence": 0.0}] if name and name != new else []
            message.set(
                INTENT_RANKING_KEY, [{INTENT_NAME_KEY: new, "confidence": 1.0}] + others + replaced, add_to_output=True
            )
        return messages
