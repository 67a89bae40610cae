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


def test_rasas_cpu_time_is_split_by_block_over_every_instance():
    from scripts.bench_long import cpu_ms_per_message

    cpu_at = {0: {"rasa": 1.0, "rasa-2": 2.0, "bot": 0.0}, 10: {"rasa": 1.2, "rasa-2": 2.2, "bot": 9.0},
              20: {"rasa": 1.5, "rasa-2": 2.5, "bot": 9.0}}
    per_message = cpu_ms_per_message(cpu_at, ["rasa", "rasa-2"], users=4)
    assert {k: round(v, 3) for k, v in per_message.items()} == {"1-10": 10.0, "11-20": 15.0}


def test_users_move_in_step_and_each_block_gets_its_cpu_reading(assistant_url):
    import asyncio

    from scripts.bench_long import run

    readings = iter(range(100))
    result = asyncio.run(run(assistant_url, users=3, turns=20, seconds=30,
                             cpu_seconds=lambda: {"rasa": float(next(readings))}))
    assert result["errors"] == []
    assert sorted(result["latencies"]) == list(range(1, 21))
    assert all(len(v) == 3 for v in result["latencies"].values())
    assert sorted(result["cpu_at"]) == [0, 10, 20]
