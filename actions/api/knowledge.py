"""Client for bot/'s knowledge answer API."""
from __future__ import annotations

from typing import Any

from actions.api.base import BotApi


class KnowledgeApi(BotApi):
    def answer(self, question: str, context_question: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"question": question}
        if context_question:
            body["context_question"] = context_question
        return self.post("/api/knowledge/answer", json=body)

    def answer_by_id(self, faq_id: str) -> dict[str, Any]:
        return self.post("/api/knowledge/answer", json={"faq_id": faq_id})
