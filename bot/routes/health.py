"""GET /healthz: bot/ itself plus the processes it depends on."""
from __future__ import annotations

import httpx
from fastapi import APIRouter, Request

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz(request: Request) -> dict:
    settings = request.app.state.settings
    rasa_ok = await request.app.state.rasa.is_healthy()
    actions_ok = await _action_server_healthy(settings.action_server_url)
    return {
        "status": "ok" if rasa_ok and actions_ok else "degraded",
        "bot": "ok",
        "rasa": "ok" if rasa_ok else "down",
        "action_server": "ok" if actions_ok else "down",
    }


async def _action_server_healthy(base_url: str) -> bool:
    try:
        async with httpx.AsyncClient(timeout=2.0) as client:
            response = await client.get(base_url.rstrip("/") + "/health")
        return response.is_success
    except httpx.HTTPError:
        return False
