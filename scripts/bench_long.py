"""`make bench-long`: does a message cost more late in a long conversation? (issue #16, part 2)

Starts the real stack on free loopback ports, warms it with every message once, then lets a few
users (default 4, concurrently) each hold one conversation of 40 turns: a cycle of ten ordinary
messages (knowledge questions, a follow-up, a price, small talk; no form), so every block of ten
turns asks the same things. Prints the median latency of turns 1-10, 11-20, 21-30 and 31-40, the
ratio of the last block to the first (the target: at most 1.5), the events the tracker store held
for a conversation at the end, and Rasa's CPU time per message in the first and the last block.
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
        out.append({"turns": f"{start}-{end}", "n": len(values),
                    "p50_ms": statistics.median(values) * 1000 if values else float("nan")})
    return out


def ratio_last_to_first(block_stats: list[dict]) -> float:
    return block_stats[-1]["p50_ms"] / block_stats[0]["p50_ms"]


async def hold_conversation(client: httpx.AsyncClient, url: str, sender: str, turns: int, deadline: float,
                            latencies: dict[int, list[float]], errors: list[dict], turn_done, progress) -> None:
    for turn in range(1, turns + 1):
        if time.monotonic() > deadline:
            return
        text = CYCLE[(turn - 1) % len(CYCLE)]
        started = time.perf_counter()
        try:
            response = await client.post(url, json={"sender": sender, "message": text})
            ok = response.status_code == 200 and response.json().get("messages")
            error = "" if ok else f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            ok, error = False, exc.__class__.__name__
        latencies.setdefault(turn, []).append(time.perf_counter() - started)
        if not ok:
            errors.append({"turn": turn, "text": text, "error": error})
        turn_done(turn)
        progress.update(1)


async def run(base: str, users: int, turns: int, seconds: float, cpu_mark) -> dict:
    latencies: dict[int, list[float]] = {}
    errors: list[dict] = []
    senders = [f"long-{u}-{uuid.uuid4().hex[:6]}" for u in range(users)]
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=users + 2)) as client:
        # Warm-up: every message once, by another user, so caches are as warm for turn 1 as for turn 40.
        for text in CYCLE:
            await client.post(base + "/api/chat", json={"sender": f"warm-{uuid.uuid4().hex[:6]}", "message": text})
        # Rasa's CPU time is read when every user has finished turn 10 and when the first reaches turn 31.
        finished: dict[int, int] = {}
        marks: dict[str, dict] = {}

        def turn_done(turn: int) -> None:
            finished[turn] = finished.get(turn, 0) + 1
            if turn == BLOCK and finished[turn] == users:
                marks["first_end"] = cpu_mark()
            if turn == turns - BLOCK and "last_start" not in marks:
                marks["last_start"] = cpu_mark()

        marks["first_start"] = cpu_mark()
        deadline = time.monotonic() + seconds
        with bar(users * turns, "long conversations") as progress:
            await asyncio.gather(*(hold_conversation(client, base + "/api/chat", s, turns, deadline, latencies,
                                                     errors, turn_done, progress) for s in senders))
        marks["last_end"] = cpu_mark()
    return {"latencies": latencies, "errors": errors, "senders": senders, "marks": marks}


def rasa_cpu_ms_per_message(marks: dict, names: list[str], messages: int) -> dict[str, float]:
    def spent(start: str, end: str) -> float:
        if start not in marks or end not in marks:
            return float("nan")
        return sum(marks[end][n] - marks[start][n] for n in names) * 1000 / max(1, messages)
    return {"turns 1-10": spent("first_start", "first_end"), "last 10 turns": spent("last_start", "last_end")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=4, help="concurrent users, each one long conversation")
    parser.add_argument("--turns", type=int, default=40, help="turns per conversation (bounded)")
    parser.add_argument("--seconds", type=float, default=240, help="hard time cap of the measured phase")
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "reports")
    args = parser.parse_args()
    args.turns = max(2 * BLOCK, min(args.turns, 200))
    args.out.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory(prefix="bench-long-") as tmp:
        stack = Stack(ports=Ports.free(), var_dir=Path(tmp), bot_host="127.0.0.1",
                      env={"ENVIRONMENT": "test", "RATE_LIMIT_PER_MINUTE": "100000",
                           "RATE_LIMIT_PER_IP_PER_MINUTE": "100000"})
        print("[bench-long] starting the stack on free loopback ports ...", flush=True)
        with stack:
            pids = {name: p.pid for name, p in stack.processes.items()}
            with ProcessWatch(pids) as watch:
                result = asyncio.run(run(stack.bot_url, args.users, args.turns, args.seconds, watch.cpu_seconds))
            tracker = httpx.get(f"{stack.rasa_url}/conversations/{result['senders'][0]}/tracker",
                                params={"token": stack.rasa_token}, timeout=30).json()
    block_stats = blocks(result["latencies"], args.turns)
    ratio = ratio_last_to_first(block_stats)
    cpu = rasa_cpu_ms_per_message(result["marks"], stack.rasa_names, args.users * BLOCK)
    report = {"users": args.users, "turns": args.turns, "rasa_instances": len(stack.rasa_names),
              "blocks": block_stats, "ratio_last_to_first": ratio, "target_ratio": TARGET_RATIO,
              "tracker_events_at_end": len(tracker.get("events") or []), "rasa_cpu_ms_per_message": cpu,
              "errors": result["errors"]}
    (args.out / "bench_long.json").write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")

    print(f"\n{args.users} users x {args.turns} turns, {len(stack.rasa_names)} Rasa instance(s); "
          f"errors {len(result['errors'])}")
    for block in block_stats:
        print(f"  turns {block['turns']:>7}  n={block['n']:<4} median {block['p50_ms']:7.1f} ms")
    print(f"  Rasa CPU per message: turns 1-10 {cpu['turns 1-10']:.1f} ms, last 10 turns {cpu['last 10 turns']:.1f} ms")
    print(f"  tracker events of one conversation at the end: {report['tracker_events_at_end']}")
    met = ratio <= TARGET_RATIO and not result["errors"]
    print(f"{'met   ' if met else 'MISSED'} median turns {block_stats[-1]['turns']} / turns {block_stats[0]['turns']} = "
          f"{ratio:.2f}x (target <= {TARGET_RATIO}x, no errors)")
    print(f"report: {args.out / 'bench_long.json'}")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
