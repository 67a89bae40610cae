"""A small key-value store with expiry, for what the WeChat channel must remember briefly:
which MsgIds it has answered (and with what), and the numbered options last shown to a user.

In memory for one bot/ worker (the default); Redis when `REDIS_URL` is set so that several
workers behind a load balancer share it (a retry may reach another worker). `add` is the atomic
"claim" (Redis SET NX EX), so two workers receiving the same retry answer it once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger(__name__)


class TTLStore(Protocol):
    async def add(self, key: str, value: str, ttl_seconds: int) -> bool:
        """Store `value` only if `key` is absent; True when this call stored it."""

    async def get(self, key: str) -> str | None: ...

    async def set(self, key: str, value: str, ttl_seconds: int) -> None: ...

    async def delete(self, key: str) -> None: ...

    async def aclose(self) -> None: ...


class MemoryTTLStore:
    """Per-process store; expired keys are dropped lazily and swept every few hundred writes."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000):
        self._clock = clock
        self._max_keys = max_keys
        self._data: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()
        self._writes = 0

    def _live(self, key: str, now: float) -> str | None:
        item = self._data.get(key)
        if item is None:
            return None
        if item[1] <= now:
            del self._data[key]
            return None
        return item[0]

    def _put(self, key: str, value: str, ttl_seconds: int, now: float) -> None:
        self._writes += 1
        if self._writes % 256 == 0 or len(self._data) >= self._max_keys:
            self._data = {k: v for k, v in self._data.items() if v[1] > now}
            while len(self._data) >= self._max_keys:  # still full of live keys: drop the oldest
                self._data.pop(next(iter(self._data)))
        self._data[key] = (value, now + ttl_seconds)

    async def add(self, key: str, value: str, ttl_seconds: int) -> bool:
        with self._lock:
            now = self._clock()
            if self._live(key, now) is not None:
                return False
            self._put(key, value, ttl_seconds, now)
            return True

    async def get(self, key: str) -> str | None:
        with self._lock:
            return self._live(key, self._clock())

    async def set(self, key: str, value: str, ttl_seconds: int) -> None:
        with self._lock:
            self._put(key, value, ttl_seconds, self._clock())

    async def delete(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)

    async def aclose(self) -> None:
        return None


class RedisTTLStore:
    """Shared store on Redis. When Redis is unreachable the channel keeps answering: `add` then
    claims (a retry might be answered twice) and `get` finds nothing, with a warning in the log."""

    def __init__(self, client, prefix: str = "bot:wechat:"):
        self._redis = client
        self._prefix = prefix

    @classmethod
    def from_url(cls, url: str) -> RedisTTLStore:
        import redis.asyncio as redis_asyncio

        client = redis_asyncio.from_url(url, decode_responses=True, socket_timeout=1.0, socket_connect_timeout=1.0)
        return cls(client)

    async def add(self, key: str, value: str, ttl_seconds: int) -> bool:
        try:
            return bool(await self._redis.set(self._prefix + key, value, nx=True, ex=max(1, int(ttl_seconds))))
        except Exception as exc:  # redis.RedisError, OSError, timeouts: degrade, never fail the reply
            log.warning(
                "wechat store: Redis SET NX failed (%s); answering without de-duplication", exc.__class__.__name__
            )
            return True

    async def get(self, key: str) -> str | None:
        try:
            value = await self._redis.get(self._prefix + key)
        except Exception as exc:
            log.warning("wechat store: Redis GET failed (%s)", exc.__class__.__name__)
            return None
        return value.decode("utf-8") if isinstance(value, bytes) else value

    async def set(self, key: str, value: str, ttl_seconds: int) -> None:
        try:
            await self._redis.set(self._prefix + key, value, ex=max(1, int(ttl_seconds)))
        except Exception as exc:
            log.warning("wechat store: Redis SET failed (%s)", exc.__class__.__name__)

    async def delete(self, key: str) -> None:
        try:
            await self._redis.delete(self._prefix + key)
        except Exception as exc:
            log.warning("wechat store: Redis DEL failed (%s)", exc.__class__.__name__)

    async def aclose(self) -> None:
        try:
            await self._redis.aclose()
        except Exception:  # closing a broken connection must not fail shutdown
            pass


def make_store(redis_url: str) -> TTLStore:
    return RedisTTLStore.from_url(redis_url) if redis_url else MemoryTTLStore()
