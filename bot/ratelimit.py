"""Rate limits on bot/'s endpoints: named budgets over moving windows, with the `limits` library.

Who is counted against what (`limit_request`, a dependency of every router but WeChat's):
- a public client: per client IP (RATE_LIMIT_PER_IP_PER_MINUTE) and, when the JSON body names a
  sender, per sender (RATE_LIMIT_PER_MINUTE);
- the action server, recognised by its credential (bot/auth.py): per conversation it acts for (the
  body's sender), never per IP, since it calls from one address for every user. Its calls without a
  sender (catalogue, quotes, plans) are not limited: each follows a chat message, limited already;
- staff with a valid token: not limited (failed credentials are throttled in bot/auth.py);
- WeChat: per OpenID only, in bot/wechat/conversation.py (WeChat's servers share their IPs).

A moving window counts the requests of the last minute, whatever the clock says: no burst of twice
the budget across a minute boundary. Windows live in process memory, or in Redis when REDIS_URL is
set so that every bot/ worker shares them, through Redis's asyncio client: a check never blocks the
event loop. A storage outage lets requests through (logged): the limiter must not take the chat down.
"""

from __future__ import annotations

import logging
import math
import time
from collections import deque

from fastapi import HTTPException, Request
from limits import RateLimitItem, RateLimitItemPerMinute, RateLimitItemPerSecond, WindowStats
from limits.aio.storage import RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from bot import replies
from bot.settings import Settings

log = logging.getLogger(__name__)

IP, SENDER, CONVERSATION, FAILED_LOGIN = "ip", "sender", "conversation", "failed-login"


class InMemoryWindows:
    """Moving windows in process memory, with the async limiter's interface.

    Each key keeps the times of its hits in the last window; old ones are dropped when the key is
    next used, and keys nobody used for a whole window are swept out once a minute at most, so memory
    stays bounded. limits' own memory storages do that bookkeeping on threads instead: its asyncio
    one handed each key to a worker thread after every hit (bot/'s CPU per message 5.6 -> 17.3 ms
    under `make bench`), its synchronous one restarts a timer thread every 10 ms under load."""

    SWEEP_SECONDS = 60.0

    def __init__(self, clock=time.monotonic) -> None:
        self._clock = clock
        self._hits: dict[tuple[str, ...], tuple[float, deque[float]]] = {}  # key -> (window, hit times)
        self._swept = clock()

    def _recent(self, key: tuple[str, ...], window: float, now: float) -> deque[float]:
        """The key's hits still in its window (a new, unstored deque for a key never hit)."""
        held = self._hits.get(key)
        hits = held[1] if held else deque()
        while hits and hits[0] <= now - window:
            hits.popleft()
        return hits

    def _sweep(self, now: float) -> None:
        """Forget the keys whose every hit has left its window."""
        if now - self._swept < self.SWEEP_SECONDS:
            return
        self._swept = now
        for key in [k for k, (window, hits) in self._hits.items() if not hits or hits[-1] <= now - window]:
            del self._hits[key]

    @property
    def keys(self) -> int:
        return len(self._hits)

    async def hit(self, item: RateLimitItem, *identifiers: str) -> bool:
        now, key, window = self._clock(), (item.key_for(), *identifiers), float(item.get_expiry())
        self._sweep(now)
        hits = self._recent(key, window, now)
        if len(hits) >= item.amount:
            return False
        hits.append(now)
        self._hits[key] = (window, hits)
        return True

    async def test(self, item: RateLimitItem, *identifiers: str) -> bool:
        hits = self._recent((item.key_for(), *identifiers), float(item.get_expiry()), self._clock())
        return len(hits) < item.amount

    async def get_window_stats(self, item: RateLimitItem, *identifiers: str) -> WindowStats:
        """limits' answer: when the window has room again (epoch seconds), and what is left in it."""
        now, window = self._clock(), float(item.get_expiry())
        hits = self._recent((item.key_for(), *identifiers), window, now)
        room_in = hits[0] + window - now if hits else 0.0
        return WindowStats(time.time() + room_in, max(0, item.amount - len(hits)))


def make_storage(redis_url: str) -> Storage | None:
    """Redis's asyncio storage when REDIS_URL is set; None: windows in this process's memory."""
    if not redis_url:
        return None
    # redis-py's asyncio client (limits' default would be coredis); short timeouts: an outage costs
    # a request half a second, then it goes through.
    return RedisStorage(
        "async+" + redis_url,
        implementation="redispy",
        key_prefix="jzs-ratelimit",
        socket_timeout=0.5,
        socket_connect_timeout=0.5,
    )


class RateLimiter:
    """Budgets by name (`IP`, `SENDER`, ...); `spend` takes one unit of a key's budget."""

    def __init__(self, budgets: dict[str, RateLimitItem], storage: Storage | None) -> None:
        self.budgets = budgets
        self.storage = storage
        self._windows = MovingWindowRateLimiter(storage) if storage is not None else InMemoryWindows()

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimiter:
        return cls(
            {
                IP: RateLimitItemPerMinute(settings.rate_limit_per_ip_per_minute),
                SENDER: RateLimitItemPerMinute(settings.rate_limit_per_minute),
                CONVERSATION: RateLimitItemPerMinute(settings.rate_limit_per_minute),
                FAILED_LOGIN: RateLimitItemPerSecond(
                    settings.staff_login_max_failures, settings.staff_login_window_seconds
                ),
            },
            make_storage(settings.redis_url),
        )

    async def spend(self, budget: str, key: str) -> int | None:
        """None when the request may go on; else the seconds until the window has room again."""
        item = self.budgets[budget]
        try:
            if await self._windows.hit(item, budget, key):
                return None
            return await self._retry_after(item, budget, key)
        except Exception as exc:  # noqa: BLE001 - Redis down or slow: let the request through
            log.warning("rate limiter unavailable: %s", exc.__class__.__name__)
            return None

    async def exhausted(self, budget: str, key: str) -> int | None:
        """Like `spend`, without spending: the seconds to wait when nothing is left, else None."""
        item = self.budgets[budget]
        try:
            if await self._windows.test(item, budget, key):
                return None
            return await self._retry_after(item, budget, key)
        except Exception as exc:  # noqa: BLE001
            log.warning("rate limiter unavailable: %s", exc.__class__.__name__)
            return None

    async def _retry_after(self, item: RateLimitItem, budget: str, key: str) -> int:
        stats = await self._windows.get_window_stats(item, budget, key)
        return max(1, math.ceil(stats.reset_time - time.time()))

    async def acheck(self, ip: str | None, sender: str | None = None) -> None:
        """Raise 429 (with Retry-After) when this IP or this sender has used up its budget."""
        wait = (await self.spend(IP, ip) if ip else None) or (await self.spend(SENDER, sender) if sender else None)
        if wait:
            raise too_many(wait)

    async def aclose(self) -> None:
        bridge = getattr(self.storage, "bridge", None)  # RedisStorage: close its connection pool
        client = getattr(bridge, "storage", None)
        if client is not None and hasattr(client, "aclose"):
            await client.aclose()


def too_many(retry_after: int, detail: str = replies.RATE_LIMITED) -> HTTPException:
    return HTTPException(status_code=429, detail=detail, headers={"Retry-After": str(retry_after)})


def client_ip(request: Request) -> str:
    """The client's address; behind a load balancer listed in FORWARDED_ALLOW_IPS, uvicorn has
    already replaced it with the one the balancer forwarded."""
    return request.client.host if request.client else "unknown"


async def _sender_of(request: Request) -> str | None:
    """The JSON body's "sender", before validation (a bad body still costs its IP budget)."""
    if request.method not in ("POST", "PUT", "PATCH") or "json" not in request.headers.get("content-type", ""):
        return None
    try:
        body = await request.json()  # the body is read once and kept on the request
    except Exception:  # noqa: BLE001 - not JSON: the endpoint answers 422, the IP budget still counts
        return None
    sender = body.get("sender") if isinstance(body, dict) else None
    return sender if isinstance(sender, str) and 0 < len(sender) <= 128 else None


async def limit_request(request: Request) -> None:
    """Router dependency: the budgets of whoever is calling (see the module docstring)."""
    from bot.auth import Caller, identify  # bot.auth uses this module's limiter for its throttle

    caller = await identify(request)
    limiter: RateLimiter = request.app.state.rate_limiter
    if caller is Caller.STAFF:
        return
    sender = await _sender_of(request)
    if caller is Caller.ACTION_SERVER:
        wait = await limiter.spend(CONVERSATION, sender) if sender else None
        if wait:
            raise too_many(wait)
        return
    await limiter.acheck(client_ip(request), sender)
