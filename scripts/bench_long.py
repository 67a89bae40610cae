"""`make bench-long`: does a message cost more late in a long conversation? (issue #16, part 2)

Starts the real stack on free loopback ports, warms it with every message once, then lets a few
users (default 4) each hold a conversation of 40 turns: a cycle of ten ordinary messages (knowledge
questions, a follow-up, a price, small talk; no form), so every block of ten turns asks the same
things. The users start ten turns apart and take turns, one message at a time: so at any moment
one user is early in a conversation while another is late, and whatever else runs on the machine
weighs on early and late turns alike; and each message's Rasa CPU time (all instances, read just
before and after it) is its own. Prints, per block of ten turns (1-10, ..., 31-40), the median
latency and the mean Rasa CPU time per message, and the last block's over the first (the target:
both at most 1.5), with the events the tracker store held for a conversation at the end.
Bounded in messages (users x turns) and in time (--seconds); writes var/reports/bench_long.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from scripts.bench import ProcessWatch
from scripts.progress import bar
from scripts.stack import ROOT, Ports, Stack

# Ten ordinary turns, none of which starts a form; repeated, they make the long conversation.
CYCLE = [
    "你好",
    "证件照有什么要求",
    "提示资格库中目前没有您的数据怎么办",
    "延续注册多久能批下来",
    "那企业呢",
    "AI私塾班多少钱",
    "电子证书怎么下载",
    "初始注册需要准备什么材料",
    "无忧取证班有效期多久",
    "谢谢",
]
BLOCK = 10
TARGET_RATIO = 1.5


def blocks(latencies: dict[int, list[float]], turns: int) -> list[dict]:
    """Median latency (ms) of each block of BLOCK turns (turns numbered from 1)."""
    out = []
    for start in range(1, turns + 1, BLOCK):
        end = min(turns, start + BLOCK - 1)
        values = [v for turn in range(start, end + 1) for v in latencies.get(turn, [])]
        out.append(
            {
                "turns": f"{start}-{end}",
                "n": len(values),
                "p50_ms": statistics.median(values) * 1000 if values else float("nan"),
            }
        )
    return out


def ratio_last_to_first(block_stats: list[dict]) -> float:
    return block_stats[-1]["p50_ms"] / block_stats[0]["p50_ms"]


async def say(client: httpx.AsyncClient, url: str, sender: str, text: str) -> tuple[float, str]:
    """One message; its latency and an error ("" when answered)."""
    started = time.perf_counter()
    try:
        response = await client.post(url, json={"sender": sender, "message": text})
        error = (
            "" if response.status_code == 200 and response.json().get("messages") else f"HTTP {response.status_code}"
        )
    except httpx.HTTPError as exc:
        error = exc.__class__.__name__
    return time.perf_counter() - started, error


async def run(base: str, users: int, turns: int, seconds: float, rasa_cpu_seconds) -> dict:
    """User k starts BLOCK x k turns after the first; in each round every user in a conversation says
    its next turn, one message at a time. Returns per turn the latencies and Rasa CPU times."""
    url = base + "/api/chat"
    latencies: dict[int, list[float]] = {}
    cpu: dict[int, list[float]] = {}
    errors: list[dict] = []
    senders = [f"long-{u}-{uuid.uuid4().hex[:6]}" for u in range(users)]
    async with httpx.AsyncClient(timeout=30) as client:
        # Warm-up: every message once, by another user, so caches are as warm for turn 1 as for turn 40.
        for text in CYCLE:
            await say(client, url, f"warm-{uuid.uuid4().hex[:6]}", text)
        deadline = time.monotonic() + seconds
        with bar(users * turns, "long conversations") as progress:
            for step in range(turns + BLOCK * (users - 1)):
                if time.monotonic() > deadline:
                    break
                for k, sender in enumerate(senders):
                    turn = step - BLOCK * k + 1
                    if not 1 <= turn <= turns:
                        continue
                    text = CYCLE[(turn - 1) % len(CYCLE)]
                    before = rasa_cpu_seconds()
                    latency, error = await say(client, url, sender, text)
                    cpu.setdefault(turn, []).append(rasa_cpu_seconds() - before)
                    latencies.setdefault(turn, []).append(latency)
                    if error:
                        errors.append({"turn": turn, "text": text, "error": error})
                    progress.update(1)
    return {"latencies": latencies, "cpu": cpu, "errors": errors, "senders": senders}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=4, help="concurrent users, each one long conversation")
    parser.add_argument("--turns", type=int, default=40, help="turns per conversation (bounded)")
    parser.add_argument("--seconds", type=float, default=240, help="hard time cap of the measured phase")
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "reports")
    parser.add_argument(
        "--endpoints",
        type=Path,
        default=ROOT / "endpoints.yml",
        help="Rasa's endpoints file (e.g. one with Rasa's own `type: SQL` store, to compare)",
    )
    args = parser.parse_args()
    args.turns = max(2 * BLOCK, min(args.turns, 200))
    args.out.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory(prefix="bench-long-") as tmp:
        stack = Stack(
            ports=Ports.free(),
            var_dir=Path(tmp),
            bot_host="127.0.0.1",
            endpoints=args.endpoints.resolve(),
            env={"ENVIRONMENT": "test", "RATE_LIMIT_PER_MINUTE": "100000", "RATE_LIMIT_PER_IP_PER_MINUTE": "100000"},
        )
        print("[bench-long] starting the stack on free loopback ports ...", flush=True)
        with stack:
            pids = {name: p.pid for name, p in stack.processes.items()}
            watch = ProcessWatch({name: pids[name] for name in stack.rasa_names})
            result = asyncio.run(
                run(stack.bot_url, args.users, args.turns, args.seconds, lambda: sum(watch.cpu_seconds().values()))
            )
            tracker = httpx.get(
                f"{stack.rasa_url}/conversations/{result['senders'][0]}/tracker",
                params={"token": stack.rasa_token},
                timeout=30,
            ).json()
    block_stats = blocks(result["latencies"], args.turns)
    for block in block_stats:
        # The mean: CPU times come in clock ticks (10 ms), too coarse for a median of a few ticks.
        first, last = (int(t) for t in block["turns"].split("-"))
        values = [v for turn in range(first, last + 1) for v in result["cpu"].get(turn, [])]
        block["rasa_cpu_ms"] = statistics.fmean(values) * 1000 if values else float("nan")
    ratio = ratio_last_to_first(block_stats)
    cpu_ratio = block_stats[-1]["rasa_cpu_ms"] / block_stats[0]["rasa_cpu_ms"]
    report = {
        "users": args.users,
        "turns": args.turns,
        "rasa_instances": len(stack.rasa_names),
        "endpoints": str(args.endpoints),
        "blocks": block_stats,
        "ratio_last_to_first": ratio,
        "target_ratio": TARGET_RATIO,
        "tracker_events_at_end": len(tracker.get("events") or []),
        "rasa_cpu_ratio_last_to_first": cpu_ratio,
        "errors": result["errors"],
    }
    (args.out / "bench_long.json").write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")

    print(
        f"\n{args.users} users x {args.turns} turns, one message at a time, {len(stack.rasa_names)} Rasa instance(s); "
        f"errors {len(result['errors'])}"
    )
    for block in block_stats:
        print(
            f"  turns {block['turns']:>7}  n={block['n']:<4} median latency {block['p50_ms']:7.1f} ms   "
            f"mean Rasa CPU {block['rasa_cpu_ms']:6.1f} ms per message"
        )
    print(f"  tracker events of one conversation at the end: {report['tracker_events_at_end']}")
    met = ratio <= TARGET_RATIO and cpu_ratio <= TARGET_RATIO and not result["errors"]
    print(
        f"{'met   ' if met else 'MISSED'} turns {block_stats[-1]['turns']} / turns {block_stats[0]['turns']}: "
        f"median latency {ratio:.2f}x, mean Rasa CPU {cpu_ratio:.2f}x (target: both <= {TARGET_RATIO}x, no errors)"
    )
    print(f"report: {args.out / 'bench_long.json'}")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
