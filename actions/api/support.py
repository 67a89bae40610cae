"""Client for bot/'s support endpoints: hand-off requests."""

from __future__ import annotations

from typing import Any

from actions.api.base import AsyncBotApi


def channel_of(sender: str) -> str:
    """WeChat conversations carry the OpenID with a 'wx:' prefix; everything else is the web widget."""
    return "wechat" if sender.startswith("wx:") else "web"


class SupportApi(AsyncBotApi):
    async def request_handoff(self, sender: str, reason: str | None) -> dict[str, Any]:
        return await self.post(
            "/api/handoffs",
            json={"sender": sender, "channel": channel_of(sender), "reason": (reason or "")[:1000] or None},
        )
