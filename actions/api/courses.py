"""Client for bot/'s course API: catalogue, word matching, quotes, recommendations, enrollments, leads.

The one place the course actions reach the backend. Errors come out as the base client's
BackendUnavailable (unreachable, timeout, 5xx) or BackendRejected (4xx with a Chinese `detail`).
The catalogue changes rarely, so it is kept for a minute to spare a request on every turn.
"""

from __future__ import annotations

import time
from typing import Any

from actions.api.base import BotApi

CATALOGUE_TTL_SECONDS = 60.0


class CoursesApi(BotApi):
    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._cache: dict[str, tuple[float, Any]] = {}
        self._matches: dict[str, tuple[float, Any]] = {}

    def _cached_get(self, path: str) -> Any:
        now = time.monotonic()
        hit = self._cache.get(path)
        if hit and now - hit[0] < CATALOGUE_TTL_SECONDS:
            return hit[1]
        value = self.get(path)
        self._cache[path] = (now, value)
        return value

    # -- catalogue ---------------------------------------------------------------------------------
    def packages(self) -> list[dict[str, Any]]:
        return self._cached_get("/api/packages")["packages"]

    def subjects(self) -> list[dict[str, Any]]:
        return self._cached_get("/api/packages")["subjects"]

    def match(self, text: str) -> dict[str, Any]:
        """{"packages": [{id, name}], "subjects": [{id, name, kind}], "full_course", "needs_practice"}"""
        text = text[:500]
        now = time.monotonic()
        hit = self._matches.get(text)
        if hit and now - hit[0] < CATALOGUE_TTL_SECONDS:
            return hit[1]
        value = self.post("/api/courses/match", json={"text": text})
        if len(self._matches) > 512:
            self._matches.clear()
        self._matches[text] = (now, value)
        return value

    # -- prices and advice ---------------------------------------------------------------------------
    def quote(self, package: str, subjects: list[str]) -> dict[str, Any]:
        return self.post("/api/quotes", json={"package": package, "subjects": subjects})

    def recommend(self, answers: dict[str, bool | None], subjects: list[str] | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {key: value for key, value in answers.items() if value is not None}
        if subjects:
            body["subjects"] = subjects
        return self.post("/api/recommendations", json=body)

    # -- sign-up -------------------------------------------------------------------------------------
    def enroll(
        self,
        *,
        name: str,
        mobile: str,
        package: str,
        subjects: list[str],
        sender: str | None,
        channel: str | None,
        idempotency_key: str,
    ) -> dict[str, Any]:
        """The enrollment; `created` is False when it already existed (a retry or a repeat)."""
        body = {
            "name": name,
            "mobile": mobile,
            "package": package,
            "subjects": subjects,
            "sender": sender,
            "channel": channel,
        }
        return self.post("/api/enrollments", json=body, headers={"Idempotency-Key": idempotency_key})

    def create_lead(
        self,
        *,
        name: str,
        mobile: str,
        preferred_time: str | None,
        question: str | None,
        package: str | None,
        subjects: list[str] | None,
        sender: str | None,
        channel: str | None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        body = {
            "name": name,
            "mobile": mobile,
            "preferred_time": preferred_time,
            "question": question,
            "package": package,
            "subjects": subjects or None,
            "sender": sender,
            "channel": channel,
        }
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        return self.post("/api/leads", json={k: v for k, v in body.items() if v is not None}, headers=headers)
