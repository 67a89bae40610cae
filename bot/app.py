"""The FastAPI app factory: wires settings, clients and routers. Run with `python -m bot`."""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse

from bot.db import open_database
from bot.errors import install_error_handlers
from bot.limits import RequestLimits
from bot.logging_setup import configure_logging
from bot.lookup_throttle import LookupThrottle
from bot.rasa_client import RasaClient
from bot.ratelimit import RateLimiter, limit_request
from bot.routes import (
    accounts,
    chat,
    contacts,
    courses,
    enrollments,
    feedback,
    handoffs,
    health,
    knowledge,
    leads,
    pipeline,
    registration,
    staff,
    unanswered,
    wechat,
)
from bot.settings import Settings, get_settings

STATIC_DIR = Path(__file__).parent / "static"


def create_app(settings: Settings | None = None, rasa_transport=None) -> FastAPI:
    """Build the app. `rasa_transport` lets unit tests mock Rasa at the HTTP client boundary."""
    settings = settings or get_settings()
    configure_logging(settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.db = open_database(settings.database_url)  # applies pending migrations
        yield
        await app.state.rasa.aclose()
        await app.state.rate_limiter.aclose()
        app.state.db.close()

    app = FastAPI(
        title="建造师助手 API",
        description="Chat gateway, knowledge search, registration backend and channels of the assistant.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.rate_limiter = RateLimiter.from_settings(settings)
    app.state.lookup_throttle = LookupThrottle(
        settings.enrollment_lookup_max_failures, settings.enrollment_lookup_window_seconds, settings.redis_url
    )
    app.state.rasa = RasaClient(
        settings.rasa_url,
        settings.rasa_timeout_seconds,
        transport=rasa_transport,
        token=settings.rasa_token,
        max_in_flight=settings.rasa_max_in_flight,
    )
    install_error_handlers(app)
    # Body size and JSON nesting limits, before any endpoint reads a body (inside CORS, so a 413 is readable).
    app.add_middleware(RequestLimits, max_body_bytes=settings.max_body_bytes, max_json_depth=settings.max_json_depth)
    # The widget is embedded on other sites: its fetches to /api/* are cross-origin. No cookies used.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=[o.strip() for o in settings.cors_origins.split(",") if o.strip()],
        allow_methods=["GET", "POST"],
        allow_headers=["Content-Type"],
        allow_credentials=False,
    )
    # Every endpoint has a budget per caller (bot/ratelimit.py); WeChat limits per OpenID itself.
    limited = [Depends(limit_request)]
    for module in (
        health,
        chat,
        knowledge,
        courses,
        enrollments,
        leads,
        contacts,
        pipeline,
        registration,
        feedback,
        handoffs,
        accounts,
        staff,
        unanswered,
    ):
        app.include_router(module.router, dependencies=limited)
    app.include_router(wechat.router)

    @app.get("/", include_in_schema=False)
    async def index():
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html; charset=utf-8")

    @app.get("/widget.js", include_in_schema=False)
    async def widget():
        # Embeddable from any site: one <script> tag, no build step, no third-party CDN.
        return FileResponse(
            STATIC_DIR / "widget.js",
            media_type="application/javascript; charset=utf-8",
            headers={"Cache-Control": "public, max-age=300"},
        )

    return app
