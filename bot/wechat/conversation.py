"""One WeChat message in, what to say back out.

Text goes to Rasa (sender "wx:<OpenID>", metadata {"channel": "wechat"}); a number picks one of the
options shown last; 转人工 and friends hand the user to a human agent without asking Rasa; events
and media get fixed texts. Replies that cannot be passive (too slow, or longer than one WeChat
message) go out through the customer-service API from a background task.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from dataclasses import dataclass, field

from fastapi import HTTPException

from bot import replies
from bot.chat_cleaning import clean_message
from bot.logging_setup import mask_pii
from bot.rasa_client import RasaClient, RasaUnavailable
from bot.settings import Settings
from bot.wechat.dedup import TTLStore
from bot.wechat.delivery import CustomerServiceClient, DeliveryError
from bot.wechat.protocol import Inbound
from bot.wechat.replies import pick_option, render, split_text

log = logging.getLogger(__name__)

SENDER_PREFIX = "wx:"
CHANNEL_METADATA = {"channel": "wechat"}
OPTIONS_KEY = "options:"
# A short message containing one of these asks for a person; so does exactly 人工 or 客服.
HANDOFF_PHRASES = ("转人工", "人工客服", "人工服务", "真人客服", "找客服", "联系客服", "接人工")
HANDOFF_WORDS = {"人工", "客服"}
HANDOFF_MAX_CHARS = 12
_NOT_WORD = re.compile(r"[\s\W_]+")
# How long shutdown waits for replies still being delivered through the customer-service API.
SHUTDOWN_GRACE_SECONDS = 10.0


@dataclass
class Outcome:
    texts: list[str] = field(default_factory=list)  # one WeChat text message each
    handoff: bool = False

    @classmethod
    def say(cls, text: str) -> Outcome:
        return cls(texts=[text])


def sender_id(openid: str) -> str:
    return SENDER_PREFIX + openid


def wants_human(text: str) -> bool:
    compact = _NOT_WORD.sub("", text)
    if compact in HANDOFF_WORDS:
        return True
    return len(compact) <= HANDOFF_MAX_CHARS and any(p in compact for p in HANDOFF_PHRASES)


def excerpt(text: str, limit: int = 12) -> str:
    """A short, masked excerpt for INFO logs (masked before cutting so no partial number slips out)."""
    masked = mask_pii(text).replace("\n", " ")
    return masked if len(masked) <= limit else masked[:limit] + "…"


def short_id(openid: str) -> str:
    return "…" + openid[-6:]


class WeChatService:
    def __init__(
        self, settings: Settings, rasa: RasaClient, store: TTLStore, delivery: CustomerServiceClient, rate_limiter=None
    ):
        self.settings = settings
        self.rasa = rasa
        self.store = store
        self.delivery = delivery
        self.rate_limiter = rate_limiter  # bot.ratelimit.RateLimiter; per OpenID only (WeChat's IPs are shared)
        self._background: set[asyncio.Task] = set()

    async def answer(self, inbound: Inbound) -> Outcome:
        """Never raises: an unexpected error becomes the polite "unavailable" text (and a log entry)."""
        try:
            return await self._answer(inbound)
        except Exception:
            log.exception("wechat: unexpected error answering %s from %s", inbound.msg_type, short_id(inbound.openid))
            return Outcome.say(replies.ASSISTANT_UNAVAILABLE)

    async def _answer(self, inbound: Inbound) -> Outcome:
        if inbound.msg_type == "event":
            log.info("wechat event %s from %s", inbound.event or "?", short_id(inbound.openid))
            if inbound.event in ("subscribe", "subscribe_scan"):
                return Outcome.say(replies.WECHAT_WELCOME)
            return Outcome()  # unsubscribe, menu clicks, location reports…: nothing to say
        if inbound.msg_type == "text" or (inbound.msg_type == "voice" and inbound.content):
            return await self._converse(inbound)
        log.info("wechat %s message from %s: asking for text", inbound.msg_type, short_id(inbound.openid))
        return Outcome.say(replies.WECHAT_TEXT_ONLY)

    async def _converse(self, inbound: Inbound) -> Outcome:
        text = clean_message(inbound.content)
        log.info(
            "wechat %s from %s (%d chars): %s", inbound.msg_type, short_id(inbound.openid), len(text), excerpt(text)
        )
        if not text:
            return Outcome.say(replies.EMPTY_MESSAGE)
        if len(text) > self.settings.max_message_chars:
            return Outcome.say(replies.MESSAGE_TOO_LONG.format(limit=self.settings.max_message_chars))
        if wants_human(text):
            log.info("wechat: %s asked for a human agent", short_id(inbound.openid))
            # Rasa still hears it: its hand-off action records the request for staff, and the
            # transcript stays whole. The transfer happens whatever Rasa answers.
            try:
                await self.rasa.send(sender_id(inbound.openid), text, dict(CHANNEL_METADATA))
            except RasaUnavailable as exc:
                log.warning("wechat: hand-off not recorded: %s", exc)
            return Outcome(handoff=True)
        if await self._rate_limited(inbound.openid):
            return Outcome.say(replies.RATE_LIMITED)
        payload = pick_option(text, await self._options(inbound.openid))
        try:
            messages = await self.rasa.send(sender_id(inbound.openid), payload or text, dict(CHANNEL_METADATA))
        except RasaUnavailable as exc:
            log.warning("wechat: %s", exc)
            return Outcome.say(replies.ASSISTANT_UNAVAILABLE)
        rendered = render(messages)
        await self._remember_options(inbound.openid, rendered.options)
        return Outcome(texts=split_text(rendered.text), handoff=rendered.handoff)

    async def _rate_limited(self, openid: str) -> bool:
        if self.rate_limiter is None:
            return False
        try:
            await self.rate_limiter.acheck(None, sender_id(openid))
        except HTTPException:
            log.info("wechat: %s is sending too fast", short_id(openid))
            return True
        return False

    async def _options(self, openid: str) -> list[dict[str, str]]:
        raw = await self.store.get(OPTIONS_KEY + openid)
        if not raw:
            return []
        try:
            options = json.loads(raw)
        except ValueError:
            return []
        return options if isinstance(options, list) else []

    async def _remember_options(self, openid: str, options: list[dict[str, str]]) -> None:
        """Numbers always refer to the options of the latest reply: a reply without any clears them."""
        if options:
            await self.store.set(
                OPTIONS_KEY + openid, json.dumps(options, ensure_ascii=False), self.settings.wechat_options_ttl_seconds
            )
        else:
            await self.store.delete(OPTIONS_KEY + openid)

    # --- replies through the customer-service API -------------------------------------------

    def deliver_later(self, openid: str, pending: asyncio.Task) -> None:
        """The passive reply window is gone: send the outcome once it is ready."""
        self._spawn(self._deliver_when_ready(openid, pending))

    def deliver_texts(self, openid: str, texts: list[str]) -> None:
        self._spawn(self._send_all(openid, texts))

    async def _deliver_when_ready(self, openid: str, pending: asyncio.Task) -> None:
        outcome = await pending  # answer() never raises
        texts = list(outcome.texts)
        if outcome.handoff:  # a transfer only exists as a passive reply: tell the user how to ask
            texts.append(replies.WECHAT_HANDOFF_BY_REPLY)
        await self._send_all(openid, texts)

    async def _send_all(self, openid: str, texts: list[str]) -> None:
        for text in texts:
            try:
                await self.delivery.send_text(openid, text)
            except DeliveryError as exc:
                log.warning("wechat: customer-service message to %s failed: %s", short_id(openid), exc)
                return
        if texts:
            log.info("wechat: %d message(s) sent to %s through the customer-service API", len(texts), short_id(openid))

    def _spawn(self, coro) -> None:
        task = asyncio.create_task(coro)
        self._background.add(task)  # keep a reference until done, or the task may be collected
        task.add_done_callback(self._background.discard)

    async def aclose(self) -> None:
        if self._background:
            _, late = await asyncio.wait(set(self._background), timeout=SHUTDOWN_GRACE_SECONDS)
            for task in late:
                task.cancel()
        await self.delivery.aclose()
        await self.store.aclose()
