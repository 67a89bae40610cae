"""Client for bot/'s course API: catalogue, word matching, quotes, recommendations, enrollments, leads.

The one place the course actions reach the backend. Errors come out as the base client's
BackendUnavailable (unreachable, timeout, 5xx) or BackendRejected (4xx with a Chinese `detail`);
for the calls that send what a user typed, a CourseRejected that also names the refused fields
(bot/'s 422 `errors[].loc`), so that the form asks again for exactly those.
The catalogue changes rarely, so it is kept for a minute to spare a request on every turn.
Every call is awaited (aiohttp): a slow bot/ holds up only the conversation that waits for it.
"""

from __future__ import annotations

import time
from typing import Any

from actions.api.base import AsyncBotApi, BackendRejected

CATALOGUE_TTL_SECONDS = 60.0


class CourseRejected(BackendRejected):
    """bot/ refused what the user typed; `fields` are the body fields it named ("mobile", "name" ...)."""

    def __init__(self, status: int, detail: str, fields: tuple[str, ...], body: Any = None):
        super().__init__(status, detail, body)
        self.fields = fields


def _refused_fields(body: Any) -> tuple[str, ...]:
    errors = body.get("errors") if isinstance(body, dict) else None
    fields = [
        str(error["loc"][-1])
        for error in errors or ()
        if isinstance(error, dict) and isinstance(error.get("loc"), list) and error["loc"]
    ]
    return tuple(dict.fromkeys(fields))


class CoursesApi(AsyncBotApi):
    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._cache: dict[str, tuple[float, Any]] = {}
        self._matches: dict[str, tuple[float, Any]] = {}

    async def _cached_get(self, path: str) -> Any:
        now = time.monotonic()
        hit = self._cache.get(path)
        if hit and now - hit[0] < CATALOGUE_TTL_SECONDS:
            return hit[1]
        value = await self.get(path)
        self._cache[path] = (now, value)
        return value

    async def _post_naming_fields(self, path: str, **kwargs: Any) -> Any:
        """POST; a 4xx comes out as CourseRejected with the fields bot/ refused, read from the error
        body the refusal carries (each call its own, so concurrent calls never mix their answers)."""
        try:
            return await self.post(path, **kwargs)
        except BackendRejected as exc:
            raise CourseRejected(exc.status, exc.detail, _refused_fields(exc.body), exc.body) from None

    # -- catalogue ---------------------------------------------------------------------------------
    async def packages(self) -> list[dict[str, Any]]:
        return (await self._cached_get("/api/packages"))["packages"]

    async def subjects(self) -> list[dict[str, Any]]:
        return (await self._cached_get("/api/packages"))["subjects"]

    async def match(self, text: str) -> dict[str, Any]:
        """{"packages": [{id, name}], "subjects": [{id, name, kind}], "full_course", "needs_practice"}"""
        text = text[:500]
        now = time.monotonic()
        hit = self._matches.get(text)
        if hit and now - hit[0] < CATALOGUE_TTL_SECONDS:
            return hit[1]
        value = await self.post("/api/courses/match", json={"text": text})
        if len(self._matches) > 512:
            self._matches.clear()
        self._matches[text] = (now, value)
        return value

    # -- prices and advice ---------------------------------------------------------------------------
    async def quote(self, package: str, subjects: list[str]) -> dict[str, Any]:
        return await self.post("/api/quotes", json={"package": package, "subjects": subjects})

    async def recommend(self, answers: dict[str, bool | None], subjects: list[str] | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {key: value for key, value in answers.items() if value is not None}
        if subjects:
            body["subjects"] = subjects
        return await self.post("/api/recommendations", json=body)

    # -- sign-up -------------------------------------------------------------------------------------
    async def check_contact(self, *, name: str | None = None, mobile: str | None = None) -> dict[str, Any]:
        """{"name", "mobile"} as bot/ would store them (its one rule); CourseRejected naming the
        field it refuses. No sender: like the catalogue calls, it follows a chat message already limited."""
        body = {"name": name, "mobile": mobile}
        return await self._post_naming_fields(
            "/api/contact/check", json={k: v for k, v in body.items() if v is not None}
        )

    async def enroll(
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
        return await self._post_naming_fields(
            "/api/enrollments", json=body, headers={"Idempotency-Key": idempotency_key}
        )

    async def create_lead(
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
        return await self._post_naming_fields(
            "/api/leads", json={k: v for k, v in body.items() if v is not None}, headers=headers
        )
