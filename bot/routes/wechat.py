"""GET/POST /wechat: the WeChat Official Account (公众号) callback.

GET answers WeChat's server verification. POST receives user messages and events, in plaintext
mode or safe mode (encrypt_type=aes), and answers with a passive reply within
`wechat_reply_budget_seconds` (WeChat waits 5 s, then retries up to three times).

Retries: a MsgId (events: FromUserName + CreateTime) is claimed atomically in the store before it
is answered, and its reply is kept there. WeChat only retries when our response did not reach it
in time, so a retry gets the same reply again (WeChat shows a message's reply once; this is what
repairs a lost response). If the first request is still being answered, the retry gets `success`:
the first one answers. Either way Rasa sees the message once.

Replays: a signed (timestamp, nonce) carries one body (bot/wechat/replay.py): the same bytes again
are a retry as above, another body under a signature already seen is a 403.

Slow path: when the bot has not answered within the budget, WeChat gets `success` at once and the
reply goes out through the customer-service API when it is ready; a retry also gets `success`.

Tests may set `app.state.wechat_transport` (an httpx transport) before the app starts, to mock
WeChat's API at its HTTP boundary.
"""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import PlainTextResponse, Response

from bot import replies
from bot.settings import Settings
from bot.wechat import protocol
from bot.wechat.conversation import Outcome, WeChatService, short_id
from bot.wechat.dedup import make_store
from bot.wechat.delivery import CustomerServiceClient
from bot.wechat.replay import admit

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
DEDUP_KEY = "dedup:"
PENDING = "\x00pending"  # claimed, reply not ready yet
SUCCESS = "success"  # WeChat's "received, nothing (more) to show"


@asynccontextmanager
async def lifespan(app: FastAPI):
    yield
    service = getattr(app.state, "wechat", None)
    if service is not None:
        app.state.wechat = None
        await service.aclose()


router = APIRouter(tags=["wechat"], lifespan=lifespan)


def _service(app: FastAPI) -> WeChatService:
    """Built on first use, so a test can set `app.state.wechat_transport` after create_app()."""
    service = getattr(app.state, "wechat", None)
    if service is None:
        settings: Settings = app.state.settings
        store = make_store(settings.redis_url)  # shared by the workers when REDIS_URL is set
        delivery = CustomerServiceClient(
            settings.wechat_api_base,
            settings.wechat_appid,
            settings.wechat_secret,
            timeout=settings.wechat_api_timeout_seconds,
            transport=getattr(app.state, "wechat_transport", None),
            store=store,
        )
        service = WeChatService(
            settings, app.state.rasa, store, delivery, rate_limiter=getattr(app.state, "rate_limiter", None)
        )
        app.state.wechat = service
    return service


def customer_service(app: FastAPI) -> CustomerServiceClient:
    """The one customer-service message client (and access token) of this app, for staff replies."""
    return _service(app).delivery


def _authenticate(settings: Settings, signature: str | None, timestamp: str | None, nonce: str | None) -> None:
    if not settings.wechat_token:
        raise HTTPException(503, replies.WECHAT_NOT_CONFIGURED)
    try:
        protocol.verify_signature(settings.wechat_token, signature, timestamp, nonce)
        protocol.check_timestamp(timestamp, settings.wechat_max_timestamp_skew_seconds)
    except protocol.BadSignature as exc:
        log.warning("wechat: refused request: %s", exc)
        raise HTTPException(403, replies.WECHAT_BAD_SIGNATURE) from exc
    except protocol.StaleTimestamp as exc:
        log.warning("wechat: refused request: %s (check the server clock if this repeats)", exc)
        raise HTTPException(403, replies.WECHAT_STALE_TIMESTAMP) from exc


@router.get("/wechat", response_class=PlainTextResponse, summary="WeChat server verification")
async def verify(
    request: Request,
    signature: str | None = None,
    timestamp: str | None = None,
    nonce: str | None = None,
    echostr: str | None = None,
):
    """Echo `echostr` when the request is signed with WECHAT_TOKEN."""
    _authenticate(request.app.state.settings, signature, timestamp, nonce)
    if not echostr or len(echostr) > 256:
        raise HTTPException(400, replies.WECHAT_MALFORMED)
    return PlainTextResponse(echostr)


@router.post(
    "/wechat",
    summary="WeChat messages and events",
    responses={
        200: {"description": "a passive reply (XML, encrypted in safe mode) or `success`"},
        400: {"description": "not a WeChat message (bad XML, DTD, bad cipher text)"},
        403: {"description": "bad signature, stale timestamp, or a signed URL reused with another body"},
        503: {"description": "WeChat is not configured"},
    },
)
async def receive(
    request: Request,
    signature: str | None = None,
    timestamp: str | None = None,
    nonce: str | None = None,
    encrypt_type: str | None = None,
    msg_signature: str | None = None,
):
    started = time.monotonic()
    settings: Settings = request.app.state.settings
    _authenticate(settings, signature, timestamp, nonce)
    safe_mode = (encrypt_type or "raw").lower()
    if safe_mode not in ("raw", "aes"):
        raise HTTPException(400, replies.WECHAT_MALFORMED)
    if settings.wechat_aes_key and safe_mode != "aes":
        # With an EncodingAESKey configured, only encrypted bodies are accepted: a plaintext body
        # is not covered by the URL signature, so accepting one would undo safe mode.
        log.warning("wechat: refused a plaintext message while safe mode is configured")
        raise HTTPException(403, replies.WECHAT_BAD_SIGNATURE)

    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise HTTPException(413, replies.WECHAT_TOO_LARGE)
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise HTTPException(413, replies.WECHAT_TOO_LARGE)

    crypto = None
    try:
        xml = protocol.decode_xml(raw)
        if safe_mode == "aes":
            crypto = protocol.safe_mode_crypto(settings.wechat_token, settings.wechat_aes_key, settings.wechat_appid)
            xml = protocol.open_envelope(crypto, xml, msg_signature, timestamp, nonce)
        inbound = protocol.parse_inbound(xml)
    except protocol.NotConfigured as exc:
        log.error("wechat: %s", exc)
        raise HTTPException(503, replies.WECHAT_SAFE_MODE_NOT_CONFIGURED) from exc
    except protocol.BadSignature as exc:
        log.warning("wechat: refused safe-mode message: %s", exc)
        raise HTTPException(403, replies.WECHAT_BAD_SIGNATURE) from exc
    except protocol.MalformedMessage as exc:
        log.warning("wechat: refused body: %s", exc)
        raise HTTPException(400, replies.WECHAT_MALFORMED) from exc

    service = _service(request.app)
    if not await admit(service.store, timestamp, nonce, raw, settings.wechat_max_timestamp_skew_seconds):
        log.warning("wechat: refused a signed URL reused with another body (from %s)", short_id(inbound.openid))
        raise HTTPException(403, replies.WECHAT_REPLAYED)
    reply_xml = await _answer_once(service, inbound, started)
    if reply_xml is None:
        return PlainTextResponse(SUCCESS)
    if crypto is not None:
        reply_xml = protocol.seal(crypto, reply_xml, nonce, timestamp)
    return Response(reply_xml, media_type="application/xml")


async def _answer_once(service: WeChatService, inbound: protocol.Inbound, started: float) -> str | None:
    """The passive reply XML for this message, or None for `success`; a retry never reaches Rasa."""
    key = DEDUP_KEY + inbound.dedup_key
    ttl = service.settings.wechat_dedup_ttl_seconds
    if not await service.store.add(key, PENDING, ttl):
        cached = await service.store.get(key)
        log.info(
            "wechat: retry of %s from %s answered %s",
            inbound.dedup_key.split(":")[0],
            short_id(inbound.openid),
            "again" if cached not in (None, PENDING, SUCCESS) else "with success",
        )
        return None if cached in (None, PENDING, SUCCESS) else cached
    try:
        reply_xml = await _reply_within_budget(service, inbound, started)
    except asyncio.CancelledError:  # WeChat hung up; the reply goes out later, so a retry gets success
        await asyncio.shield(service.store.set(key, SUCCESS, ttl))
        raise
    except Exception:  # let WeChat's retry try again
        await service.store.delete(key)
        raise
    await service.store.set(key, reply_xml or SUCCESS, ttl)
    return reply_xml


async def _reply_within_budget(service: WeChatService, inbound: protocol.Inbound, started: float) -> str | None:
    remaining = service.settings.wechat_reply_budget_seconds - (time.monotonic() - started)
    task = asyncio.create_task(service.answer(inbound))
    try:
        done, _ = await asyncio.wait({task}, timeout=max(remaining, 0.0))
    except asyncio.CancelledError:  # WeChat hung up: still deliver the answer
        service.deliver_later(inbound.openid, task)
        raise
    if task not in done:
        log.info(
            "wechat: reply to %s is slower than %.1f s: answering success, sending it later",
            short_id(inbound.openid),
            service.settings.wechat_reply_budget_seconds,
        )
        service.deliver_later(inbound.openid, task)
        return None
    return _passive(service, inbound, task.result())


def _passive(service: WeChatService, inbound: protocol.Inbound, outcome: Outcome) -> str | None:
    if outcome.handoff:
        return protocol.transfer_reply(inbound)
    if not outcome.texts:
        return None
    if len(outcome.texts) > 1:  # longer than one WeChat message: send all parts, in order, later
        service.deliver_texts(inbound.openid, outcome.texts)
        return None
    return protocol.text_reply(inbound, outcome.texts[0])
