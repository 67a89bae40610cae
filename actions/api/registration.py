"""Client for bot/'s registration API: the user's plan, and which choices the user's words name."""

from __future__ import annotations

import time
from typing import Any

from actions.api.base import AsyncBotApi

# bot/'s vocabulary changes only with a release: a reading is kept for a minute, so the form's
# several questions about one message (and the codes already in the slots) cost one request each.
MATCH_TTL_SECONDS = 60.0
MATCH_CACHE_SIZE = 512
CHOICE_FIELDS = ("business_type", "employer_type", "specialty_role", "info_change_kind")


class RegistrationApi(AsyncBotApi):
    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._matches: dict[tuple[str, str | None], tuple[float, dict[str, dict[str, str] | None]]] = {}

    async def plan(self, facts: dict[str, Any]) -> dict[str, Any]:
        """The user's plan for the facts known so far (None values are left out).

        A conversation collects facts over many turns, so facts that do not apply to the chosen
        business type (a certificate date once the user switches to 注销) are dropped by bot/ and
        reported in `ignored_fields` instead of refusing the request.

        Raises BackendUnavailable (down, timeout, 5xx) or BackendRejected (4xx, Chinese detail).
        """
        body = {key: value for key, value in facts.items() if value is not None}
        body["drop_irrelevant"] = True
        return await self.post("/api/registration/plan", json=body)

    async def match(self, text: str, answer_to: str | None = None) -> dict[str, dict[str, str] | None]:
        """Field -> {"code", "name", "said_as"} of the choice `text` names, or None: as a sentence, or
        as the answer to the question about `answer_to` (then "其他", "无", "电话" count too)."""
        key = (text[:500], answer_to)
        now = time.monotonic()
        hit = self._matches.get(key)
        if hit and now - hit[0] < MATCH_TTL_SECONDS:
            return hit[1]
        body: dict[str, Any] = {"text": key[0], **({"answer_to": answer_to} if answer_to else {})}
        answer = await self.post("/api/registration/match", json=body)
        reading = {field: _choice(answer.get(field) if isinstance(answer, dict) else None) for field in CHOICE_FIELDS}
        if len(self._matches) >= MATCH_CACHE_SIZE:
            self._matches.clear()
        self._matches[key] = (now, reading)
        return reading


def _choice(value: Any) -> dict[str, str] | None:
    if isinstance(value, dict) and isinstance(value.get("code"), str):
        name = str(value.get("name") or value["code"])
        return {"code": value["code"], "name": name, "said_as": str(value.get("said_as") or name)}
    return None
