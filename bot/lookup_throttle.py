"""Throttle for the owner's enrollment lookup: failed attempts per enrollment number and per phone.

The per-IP rate limit (bot/ratelimit.py) does not stop a sweep from many addresses. This one
counts by what is guessed: after `max_failures` failed lookups of one number, or with one phone,
within `window_seconds` (a window starting at the first failure), that number or phone gets 429
until the window ends. Each attempt is counted before the database is read, so parallel guesses
are counted too; a lookup that finds its enrollment is taken back, so an owner checking their
own enrollment never uses up the budget.

In memory for one bot/ worker; with REDIS_URL set the counters are shared by the workers (SET NX
EX starts a window, INCR counts in it). The lookup is a plain `def` endpoint, run in the thread
pool, so the synchronous Redis client never blocks the event loop. A Redis outage lets lookups
through (the per-IP limit still holds), with a warning in the log.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


def _key(kind: str, value: str) -> str:
    # Hashed: phone numbers never appear as keys in memory dumps or in Redis.
    return f"{kind}:" + hashlib.sha256(value.encode("utf-8")).hexdigest()[:32]


class MemoryCounters:
    def __init__(self, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000) -> None:
        self._clock = clock
        self._max_keys = max_keys
        self._counts: dict[str, tuple[int, float]] = {}  # key -> (count, window end)
        self._lock = threading.Lock()

    def incr(self, key: str, window_seconds: int) -> int:
        with self._lock:
            now = self._clock()
            count, ends = self._counts.get(key, (0, 0.0))
            if ends <= now:
                count, ends = 0, now + window_seconds
                if len(self._counts) >= self._max_keys:  # drop ended windows, keep memory bounded
                    self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
                    while len(self._counts) >= self._max_keys:
                        self._counts.pop(next(iter(self._counts)))
            self._counts[key] = (count + 1, ends)
            return count + 1

    def decr(self, key: str) -> None:
        with self._lock:
            count, ends = self._counts.get(key, (0, 0.0))
            if count > 0:
                self._counts[key] = (count - 1, ends)


_DECR_IF_LIVE = "if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('DECR', KEYS[1]) end return 0"


class RedisCounters:
    def __init__(self, client, prefix: str = "bot:lookup:") -> None:
        self._redis = client
        self._prefix = prefix

    @classmethod
    def from_url(cls, url: str) -> RedisCounters:
        import redis

        return cls(redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5))

    def incr(self, key: str, window_seconds: int) -> int:
        pipe = self._redis.pipeline()
        pipe.set(self._prefix + key, 0, ex=window_seconds, nx=True)  # starts the window; INCR keeps its TTL
        pipe.incr(self._prefix + key)
        return int(pipe.execute()[1])

    def decr(self, key: str) -> None:
        # Only while the window lasts: a DECR after expiry would leave a key without a TTL.
        self._redis.eval(_DECR_IF_LIVE, 1, self._prefix + key)


class LookupThrottle:
    def __init__(self, max_failures: int, window_seconds: int, redis_url: str = "", counters=None) -> None:
        self.max_failures = max_failures
        self.window_seconds = window_seconds
        self._counters = counters or (RedisCounters.from_url(redis_url) if redis_url else MemoryCounters())

    def attempt(self, number: str, phone: str) -> list[str] | None:
        """Count one attempt on this number and this phone. The keys counted (to pass to `succeeded`),
        or None when either has used up its failures: answer 429 without looking anything up."""
        keys = [_key("number", number), _key("phone", phone)]
        try:
            counts = [self._counters.incr(k, self.window_seconds) for k in keys]
        except Exception as exc:  # a throttle outage must not take the lookup down
            log.warning("lookup throttle unavailable: %s", exc.__class__.__name__)
            return []
        return None if max(counts) > self.max_failures else keys

    def succeeded(self, keys: list[str]) -> None:
        """The lookup found the owner's enrollment: it was not a failure."""
        try:
            for key in keys:
                self._counters.decr(key)
        except Exception as exc:
            log.warning("lookup throttle unavailable: %s", exc.__class__.__name__)
