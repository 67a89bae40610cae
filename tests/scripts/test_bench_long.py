"""`make bench-long` compares the median latency of the last ten turns of long conversations with the first ten."""

import math

from scripts.bench_long import BLOCK, CYCLE, blocks, ratio_last_to_first


def test_turns_are_grouped_in_blocks_of_ten_and_the_last_is_compared_with_the_first():
    latencies = {turn: [0.010 * (1 + (turn - 1) // BLOCK), 0.030] for turn in range(1, 41)}
    stats = blocks(latencies, 40)
    assert [b["turns"] for b in stats] == ["1-10", "11-20", "21-30", "31-40"]
    assert [b["n"] for b in stats] == [20, 20, 20, 20]
    assert [round(b["p50_ms"]) for b in stats] == [20, 25, 30, 35]
    assert round(ratio_last_to_first(stats), 2) == 1.75


def test_a_block_with_no_answer_is_not_a_number_not_zero():
    stats = blocks({1: [0.01]}, 20)
    assert math.isnan(stats[1]["p50_ms"])


def test_every_block_asks_the_same_ordinary_things():
    assert len(CYCLE) == BLOCK
    assert not any(word in text for text in CYCLE for word in ("报名", "推荐", "电话", "梳理")), "no form starts"


def test_users_start_ten_turns_apart_and_each_message_gets_its_own_cpu_reading(assistant_url):
    import asyncio

    import httpx

    from scripts.bench_long import run

    readings = iter(range(0, 10_000, 2))  # each message "costs" 2 s between its two readings
    result = asyncio.run(
        run(assistant_url, users=3, turns=20, seconds=30, rasa_cpu_seconds=lambda: float(next(readings)))
    )
    assert result["errors"] == []
    assert sorted(result["latencies"]) == sorted(result["cpu"]) == list(range(1, 21))
    assert all(len(v) == 3 for v in result["latencies"].values())
    assert all(v == [2.0, 2.0, 2.0] for v in result["cpu"].values())
    order = [sender for sender, _ in httpx.get(assistant_url + "/seen").json() if sender.startswith("long-")]
    first, second, third = result["senders"]
    assert order[:10] == [first] * 10, "the second user starts when the first is at turn 11"
    # Then both take turns until the first has said its 20 turns; the third starts with the second's 11th.
    assert order[10:30] == [first, second] * 10
    assert order[30:32] == [second, third]
