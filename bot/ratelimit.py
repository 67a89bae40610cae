"""Rate limiting for the public endpoints: per sender and per client IP, fixed one-minute windows.

In memory by default (one bot/ process). With several bot/ workers, set REDIS_URL and the windows
are shared through Redis (INCR + EXPIRE), so a client cannot multiply its budget by the workers.
"""
from __future__ import annotations

import logging
import threading
import time

from fastapi import HTTPException, Request

from bot import replies

log = logging.getLogger(__name__)


class MemoryWindows:
    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, window: int) -> int:
        with self._lock:
            count, started = self._counts.get(key, (0, window))
            count = count + 1 if started == window else 1
            self._counts[key] = (count, window)
            if len(self._counts) > 100_000:  # drop old windows, keep memory bounded
                self._counts = {k: v for k, v in self._counts.items() if v[1] == window}
            return count


class RedisWindows:
    def __init__(self, url: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)

    def hit(self, key: str, window: int) -> int:
        redis_key = f"ratelimit:{key}:{window}"
        pipe = self._redis.pipeline()
        pipe.incr(redis_key)
        pipe.expire(redis_key, 120)
        return int(pipe.execute()[0])


class RateLimiter:
    def __init__(self, per_sender: int, per_ip: int, redis_url: str = "") -> None:
        self.per_sender = per_sender
        self.per_ip = per_ip
        self._windows = RedisWindows(redis_url) if redis_url else MemoryWindows()

    def check(self, ip: str | None, sender: str | None = None) -> None:
        """Raise 429 when this IP or sender has used up its budget for the current minute."""
        window = int(time.time() // 60)
        try:
            over = (ip and self._windows.hit(f"ip:{ip}", window) > self.per_ip) or (
                sender and self._windows.hit(f"sender:{sender}", window) > self.per_sender)
        except Exception as exc:  # a limiter outage must not take the chat down
            log.warning("rate limiter unavailable: %s", exc.__class__.__name__)
            return
        if over:
            raise HTTPException(status_code=429, detail=replies.RATE_LIMITED, headers={"Retry-After": "60"})


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"
