"""The one place bot/ talks to Rasa: its REST webhook and its status endpoints, on one or more instances."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

log = logging.getLogger(__name__)


class RasaUnavailable(Exception):
    """Rasa could not be reached or answered with an error."""


class RasaClient:
    """One or more Rasa instances that share a tracker store.

    - One message per conversation at a time: a conversation's next message waits here until Rasa
      has answered (and saved) the previous one. So no two instances ever work on the same
      conversation at once, and Rasa's in-memory lock store stays correct with several instances.
      (Several bot/ processes need Rasa's Redis lock store for that, as in docs/deploy.md.)
    - Each message goes to the instance with the fewest requests in flight; ties go to the same
      instance for the same sender (rendezvous hashing), so a quiet system keeps a conversation on one
      instance. The shared tracker store gives any instance the whole conversation, forms included.
    - An instance that cannot be reached at all (the request never left) is skipped for the next one,
      and tried last for a few seconds.
      A request that reached an instance and then failed is never re-sent, because Rasa may already
      have acted on it; after a timeout the conversation stays on that instance for a while, whose
      own lock then keeps its messages in order.
    """

    PIN_AFTER_TIMEOUT_SECONDS = 60.0
    # An instance that refused a connection is tried last for this long, not first by every message.
    SKIP_UNREACHABLE_SECONDS = 5.0

    def __init__(
        self,
        base_urls: str | list[str],
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
        token: str = "",
        max_in_flight: int = 0,
    ):
        urls = [u.strip().rstrip("/") for u in (base_urls.split(",") if isinstance(base_urls, str) else base_urls)]
        urls = [u for u in urls if u]
        if not urls:
            raise ValueError("at least one Rasa URL is needed")
        self._timeout = timeout
        # Rasa's HTTP API and its REST channel (rasa_runtime/channels.py) want the token as ?token=.
        params = {"token": token} if token else None
        self._instances = {
            url: httpx.AsyncClient(base_url=url, timeout=timeout, transport=transport, params=params) for url in urls
        }
        self._in_flight = dict.fromkeys(urls, 0)
        self._conversations: dict[str, _Turn] = {}
        self._pinned: dict[str, tuple[str, float]] = {}  # sender -> (instance, until) after a timeout
        self._unreachable_until = dict.fromkeys(urls, 0.0)
        # Admission: at most max_in_flight messages per instance at once, the others wait here first come,
        # first served (asyncio.Semaphore wakes its waiters in order). See send().
        self._admission = asyncio.Semaphore(max_in_flight * len(urls)) if max_in_flight > 0 else None

    @property
    def urls(self) -> list[str]:
        return list(self._instances)

    def route(self, sender: str) -> list[str]:
        """The instances in the order this sender's next message tries them."""
        now = time.monotonic()
        ordered = sorted(
            route(self.urls, sender), key=lambda url: (self._unreachable_until[url] > now, self._in_flight[url])
        )
        pinned = self._pinned.get(sender)
        if pinned and pinned[1] > now:
            ordered.remove(pinned[0])
            ordered.insert(0, pinned[0])
        return ordered

    async def _request(self, sender: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        last: Exception | None = None
        for url in self.route(sender):
            self._in_flight[url] += 1
            try:
                return await self._instances[url].request(method, path, **kwargs)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:  # never reached this instance
                last = exc
                self._unreachable_until[url] = time.monotonic() + self.SKIP_UNREACHABLE_SECONDS
                log.warning("Rasa instance %s unreachable (%s); trying the next one", url, exc.__class__.__name__)
            except httpx.HTTPError as exc:
                if isinstance(exc, httpx.TimeoutException):
                    self._pinned[sender] = (url, time.monotonic() + self.PIN_AFTER_TIMEOUT_SECONDS)
                raise RasaUnavailable(f"Rasa unreachable: {exc.__class__.__name__}") from exc
            finally:
                self._in_flight[url] -= 1
        raise RasaUnavailable(f"Rasa unreachable: {last.__class__.__name__}") from last

    @asynccontextmanager
    async def _one_turn_at_a_time(self, sender: str):
        turn = self._conversations.setdefault(sender, _Turn())
        turn.waiting += 1
        try:
            async with self._held(turn.lock, "the conversation's previous message is still being answered"):
                yield
        finally:
            turn.waiting -= 1
            if turn.waiting == 0:
                self._conversations.pop(sender, None)
                self._forget_expired_pins()

    @asynccontextmanager
    async def _admitted(self):
        """A place among the messages the instances work on now, waiting for one at most the timeout."""
        if self._admission is None:
            yield
            return
        async with self._held(self._admission, "every Rasa instance is busy"):
            yield

    @asynccontextmanager
    async def _held(self, lock: asyncio.Lock | asyncio.Semaphore, busy: str):
        """`lock` held, waited for at most the timeout; RasaUnavailable(busy) when it was not free in time."""
        try:
            await asyncio.wait_for(lock.acquire(), timeout=self._timeout)
        except asyncio.TimeoutError:
            raise RasaUnavailable(busy) from None
        try:
            yield
        finally:
            lock.release()

    def _forget_expired_pins(self) -> None:
        now = time.monotonic()
        for sender in [s for s, (_, until) in self._pinned.items() if until <= now]:
            del self._pinned[sender]

    async def send(self, sender: str, message: str, metadata: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Send one user message; return Rasa's bot messages (text / buttons / custom)."""
        payload: dict[str, Any] = {"sender": sender, "message": message}
        if metadata:
            payload["metadata"] = metadata
        async with self._one_turn_at_a_time(sender), self._admitted():
            response = await self._request(sender, "POST", "/webhooks/rest/webhook", json=payload)
        messages = _body(response, list)
        return [_clean_bot_message(m) for m in messages if isinstance(m, dict)]

    async def tracker(self, sender: str) -> dict[str, Any]:
        """The conversation's tracker from Rasa's tracker store; `events` is always a list of dicts."""
        response = await self._request(sender, "GET", f"/conversations/{conversation_path(sender)}/tracker")
        tracker = _body(response, dict)
        events = tracker.get("events")
        tracker["events"] = [e for e in events if isinstance(e, dict)] if isinstance(events, list) else []
        return tracker

    async def instances_up(self) -> dict[str, bool]:
        """Each instance's health: its /status answers (with the token; 409 while no model is loaded)."""

        async def up(client: httpx.AsyncClient) -> bool:
            try:
                return (await client.get("/status", timeout=2.0)).is_success
            except httpx.HTTPError:
                return False

        results = await asyncio.gather(*(up(client) for client in self._instances.values()))
        return dict(zip(self._instances, results))

    async def aclose(self) -> None:
        for client in self._instances.values():
            await client.aclose()


@dataclass
class _Turn:
    """A conversation's place in line: its lock and how many of its messages wait for it."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    waiting: int = 0


def route(urls: list[str], sender: str) -> list[str]:
    """The instances in this sender's order of preference when none is busier than another: the same
    order every time, and adding or removing an instance changes it only where that instance was."""
    return sorted(urls, key=lambda url: hashlib.sha256(f"{url}|{sender}".encode()).digest(), reverse=True)


def conversation_path(sender: str) -> str:
    """A sender id as one path segment of Rasa's API. Senders are client-chosen text: a "?", "#" or
    "/" in one must not turn into a query, a fragment or another path ("../"). Rasa (Sanic) does
    not unquote its path parameters, so what it takes literally stays as it is: every sender the
    channels make ("web-…", "wx:<OpenID>") and "%" sequences reach it unchanged."""
    return quote(sender, safe="-._~:@!$&'()*+,;=%")


def _body(response: httpx.Response, kind: type) -> Any:
    """Rasa's JSON answer, of the type expected; RasaUnavailable for anything else."""
    if not response.is_success:
        raise RasaUnavailable(f"Rasa answered HTTP {response.status_code}")
    try:
        body = response.json()
    except ValueError as exc:
        raise RasaUnavailable("Rasa answered with invalid JSON") from exc
    if not isinstance(body, kind):
        raise RasaUnavailable("Rasa answered with an unexpected body")
    return body


def _clean_bot_message(message: dict[str, Any]) -> dict[str, Any]:
    """Keep only what the channels render: text, buttons (title/payload) and custom payloads."""
    out: dict[str, Any] = {}
    if isinstance(message.get("text"), str):
        out["text"] = message["text"]
    buttons = message.get("buttons")
    if isinstance(buttons, list):
        out["buttons"] = [
            {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
            for b in buttons
            if isinstance(b, dict)
        ]
    if message.get("custom") is not None:
        out["custom"] = message["custom"]
    return out
