"""Client for bot/'s registration plan API (POST /api/registration/plan)."""

from __future__ import annotations

from typing import Any

from actions.api.base import BotApi


class RegistrationApi(BotApi):
    def plan(self, facts: dict[str, Any]) -> dict[str, Any]:
        """The user's plan for the facts known so far (None values are left out).

        A conversation collects facts over many turns, so facts that do not apply to the chosen
        business type (a certificate date once the user switches to 注销) are dropped by bot/ and
        reported in `ignored_fields` instead of refusing the request.

        Raises BackendUnavailable (down, timeout, 5xx) or BackendRejected (4xx, Chinese detail).
        """
        body = {key: value for key, value in facts.items() if value is not None}
        body["drop_irrelevant"] = True
        return self.post("/api/registration/plan", json=body)
