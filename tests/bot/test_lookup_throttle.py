"""bot/lookup_throttle.py: failed owner lookups counted per number and per phone, shared through Redis.

Redis is played at its client boundary by a fake with the few commands the throttle sends (a
transaction of SET NX EX + INCR, and the EVAL that takes an attempt back while the window lasts)."""

from __future__ import annotations

import logging

from bot.lookup_throttle import LookupThrottle, MemoryCounters, RedisCounters


class FakeRedis:
    def __init__(self, broken: bool = False) -> None:
        self.values: dict[str, int] = {}
        self.ttls: dict[str, int] = {}
        self.broken = broken

    def pipeline(self):
        return _Pipeline(self)

    def eval(self, script, numkeys, key):
        assert "EXISTS" in script and numkeys == 1
        if key in self.values:  # DECR only while the key (and its TTL) exists
            self.values[key] -= 1
            return self.values[key]
        return 0

    def expire_all(self) -> None:
        self.values.clear()
        self.ttls.clear()


class _Pipeline:
    def __init__(self, redis: FakeRedis) -> None:
        self.redis, self.ops = redis, []

    def set(self, key, value, ex=None, nx=False):
        self.ops.append(("set", key, value, ex, nx))

    def incr(self, key):
        self.ops.append(("incr", key))

    def execute(self):
        if self.redis.broken:
            raise ConnectionError("redis down")
        out = []
        for op in self.ops:
            if op[0] == "set":
                _, key, value, ex, nx = op
                if nx and key in self.redis.values:
                    out.append(None)
                    continue
                self.redis.values[key], self.redis.ttls[key] = int(value), ex
                out.append(True)
            else:
                self.redis.values[op[1]] += 1
                out.append(self.redis.values[op[1]])
        return out


def redis_counters(fake: FakeRedis) -> RedisCounters:
    return RedisCounters(fake)


def test_two_workers_sharing_redis_count_failures_together():
    fake = FakeRedis()
    worker_a = LookupThrottle(3, 600, counters=redis_counters(fake))
    worker_b = LookupThrottle(3, 600, counters=redis_counters(fake))
    results = [(worker_a if i % 2 else worker_b).attempt(f"EN20261124-{i:08d}", "13812345678") for i in range(4)]
    assert [r is not None for r in results] == [True, True, True, False]
    assert set(fake.ttls.values()) == {600}  # every window expires on its own
    assert not any("13812345678" in key for key in fake.values)  # phones are hashed in keys


def test_a_successful_lookup_is_taken_back_but_never_outlives_its_window():
    fake = FakeRedis()
    throttle = LookupThrottle(2, 600, counters=redis_counters(fake))
    for _ in range(5):
        throttle.succeeded(throttle.attempt("EN20261124-AAAAAAAA", "13812345678"))
    assert set(fake.values.values()) == {0}
    keys = throttle.attempt("EN20261124-AAAAAAAA", "13812345678")
    fake.expire_all()
    throttle.succeeded(keys)
    assert fake.values == {}  # no key left behind without a TTL


def test_a_redis_outage_lets_lookups_through_with_a_warning(caplog):
    throttle = LookupThrottle(1, 600, counters=redis_counters(FakeRedis(broken=True)))
    with caplog.at_level(logging.WARNING):
        assert all(throttle.attempt("EN20261124-AAAAAAAA", "13812345678") is not None for _ in range(3))
    assert "lookup throttle unavailable" in caplog.text


def test_memory_counters_stay_bounded():
    counters = MemoryCounters(clock=lambda: 0.0, max_keys=10)
    for i in range(50):
        counters.incr(f"k{i}", 600)
    assert len(counters._counts) <= 10
