"""GET /healthz: bot/ itself plus the processes it depends on."""
from __future__ import annotations

import httpx
from fastapi import APIRouter, Request

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz(request: Request) -> dict:
    settings = request.app.state.settings
    instances = await request.app.state.rasa.instances_up()
    up = sum(instances.values())
    rasa = "ok" if up == len(instances) else "partial" if up else "down"
    actions_ok = await _action_server_healthy(settings.action_server_url)
    return {
        "status": "ok" if rasa == "ok" and actions_ok else "degraded",
        "bot": "ok",
        # "partial": some Rasa instances are down; their conversations are served by the others.
        "rasa": rasa,
        "rasa_instances": {"up": up, "total": len(instances)},
        "action_server": "ok" if actions_ok else "down",
    }


async def _action_server_healthy(base_url: str) -> bool:
    try:
        async with httpx.AsyncClient(timeout=2.0) as client:
            response = await client.get(base_url.rstrip("/") + "/health")
        return response.is_success
    except httpx.HTTPError:
        return False
