"""GET /healthz and GET /readyz.

/healthz is the liveness check: bot/ answers 200 with the state of the processes it depends on.
/readyz is the readiness check a load balancer or `scripts/stack.py` waits for: 503 until at least
one Rasa instance has its model loaded (its /status answers, with the token) and the action server
answers, 200 after. A bot/ replica whose Rasa is still loading gets no traffic, yet is not restarted.
"""

from __future__ import annotations

import asyncio

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

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


@router.get("/readyz", include_in_schema=False)  # a probe for orchestrators; 503 is its normal answer while starting
async def readyz(request: Request) -> JSONResponse:
    instances, actions_ok = await asyncio.gather(
        request.app.state.rasa.instances_up(), _action_server_healthy(request.app.state.settings.action_server_url)
    )
    up = sum(instances.values())
    ready = up > 0 and actions_ok
    body = {
        "ready": ready,
        "rasa_instances": {"up": up, "total": len(instances)},
        "action_server": "ok" if actions_ok else "down",
    }
    if not ready:
        body["detail"] = "服务正在启动或暂不可用，请稍后再试。"
    return JSONResponse(body, status_code=200 if ready else 503)


async def _action_server_healthy(base_url: str) -> bool:
    try:
        async with httpx.AsyncClient(timeout=2.0) as client:
            response = await client.get(base_url.rstrip("/") + "/health")
        return response.is_success
    except httpx.HTTPError:
        return False
