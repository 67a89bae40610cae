"""bot/'s in-memory moving windows: a budget per minute counts the last sixty seconds, whatever the
clock's minute, and keys nobody uses any more are let go."""

import asyncio
import time

from limits import RateLimitItemPerMinute, RateLimitItemPerSecond

from bot.ratelimit import InMemoryWindows


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def run(coroutine):
    return asyncio.run(coroutine)


def test_a_budget_is_spent_and_comes_back_a_window_after_each_hit():
    clock, item = Clock(), RateLimitItemPerMinute(3)
    windows = InMemoryWindows(clock)
    for _ in range(3):
        assert run(windows.hit(item, "ip", "1.2.3.4")) is True
        clock.now += 20  # hits at 0, 20 and 40 s
    clock.now -= 0.1
    assert run(windows.hit(item, "ip", "1.2.3.4")) is False, "refused at 59.9 s: all three are in the window"
    assert run(windows.hit(item, "ip", "5.6.7.8")) is True, "each key has its own budget"
    clock.now += 0.2
    assert run(windows.hit(item, "ip", "1.2.3.4")) is True, "at 60.1 s the first hit has left the window"
    assert run(windows.hit(item, "ip", "1.2.3.4")) is False, "and only the first"


def test_the_wait_named_is_until_the_oldest_hit_leaves_the_window():
    clock, item = Clock(), RateLimitItemPerSecond(2, 300)
    windows = InMemoryWindows(clock)
    run(windows.hit(item, "failed-login", "alice"))
    clock.now += 100
    run(windows.hit(item, "failed-login", "alice"))
    stats = run(windows.get_window_stats(item, "failed-login", "alice"))
    assert stats.remaining == 0
    assert abs(stats.reset_time - (time.time() + 200)) < 2


def test_keys_nobody_uses_any_more_are_forgotten():
    clock, item = Clock(), RateLimitItemPerMinute(5)
    windows = InMemoryWindows(clock)
    for n in range(1000):
        run(windows.hit(item, "sender", f"user-{n}"))
    assert windows.keys == 1000
    run(windows.test(item, "sender", "only-asking"))  # a check spends nothing and stores nothing
    assert windows.keys == 1000
    clock.now += 61
    run(windows.hit(item, "sender", "still-talking"))
    assert windows.keys == 1
