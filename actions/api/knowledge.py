"""Client for bot/'s knowledge answer API."""

from __future__ import annotations

from typing import Any

from actions.api.base import AsyncBotApi
from actions.api.support import channel_of


class KnowledgeApi(AsyncBotApi):
    async def answer(
        self, question: str, context_question: str | None = None, sender: str | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"question": question}
        if sender:  # lets bot/ show staff the questions that could not be answered
            body.update(sender=sender, channel=channel_of(sender))
        if context_question:
            body["context_question"] = context_question
        return await self.post("/api/knowledge/answer", json=body)

    async def answer_by_id(self, faq_id: str) -> dict[str, Any]:
        return await self.post("/api/knowledge/answer", json={"faq_id": faq_id})
