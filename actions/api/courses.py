"""Client for bot/'s course API: catalogue, word matching, quotes, recommendations, enrollments, leads.

The one place the course actions reach the backend. Errors come out as the base client's
BackendUnavailable (unreachable, timeout, 5xx) or BackendRejected (4xx with a Chinese `detail`);
for the calls that send what a user typed, a CourseRejected that also names the refused fields
(bot/'s 422 `errors[].loc`), so that the form asks again for exactly those.
The catalogue changes rarely, so it is kept for a minute to spare a request on every turn.
"""

from __future__ import annotations

import time
from typing import Any

import requests

from actions.api.base import BackendRejected, BotApi

CATALOGUE_TTL_SECONDS = 60.0


class CourseRejected(BackendRejected):
    """bot/ refused what the user typed; `fields` are the body fields it named ("mobile", "name" ...)."""

    def __init__(self, status: int, detail: str, fields: tuple[str, ...]):
        super().__init__(status, detail)
        self.fields = fields


def _refused_fields(response: requests.Response | None) -> tuple[str, ...]:
    try:
        errors = response.json().get("errors") if response is not None else None
    except (ValueError, AttributeError):
        return ()
    fields = [
        str(error["loc"][-1])
        for error in errors or ()
        if isinstance(error, dict) and isinstance(error.get("loc"), list) and error["loc"]
    ]
    return tuple(dict.fromkeys(fields))


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

    def _post_naming_fields(self, path: str, **kwargs: Any) -> Any:
        """POST; a 4xx comes out as CourseRejected with the fields bot/ refused. The response is seen
        through a requests response hook, one per call, so concurrent calls never mix their answers."""
        seen: list[requests.Response] = []
        try:
            return self.post(path, hooks={"response": [lambda response, *args, **kw: seen.append(response)]}, **kwargs)
        except BackendRejected as exc:
            raise CourseRejected(exc.status, exc.detail, _refused_fields(seen[-1] if seen else None)) from None

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
    def check_contact(self, *, name: str | None = None, mobile: str | None = None) -> dict[str, Any]:
        """{"name", "mobile"} as bot/ would store them (its one rule); CourseRejected naming the
        field it refuses. No sender: like the catalogue calls, it follows a chat message already limited."""
        body = {"name": name, "mobile": mobile}
        return self._post_naming_fields("/api/contact/check", json={k: v for k, v in body.items() if v is not None})

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
        return self._post_naming_fields("/api/enrollments", json=body, headers={"Idempotency-Key": idempotency_key})

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
        return self._post_naming_fields(
            "/api/leads", json={k: v for k, v in body.items() if v is not None}, headers=headers
        )
