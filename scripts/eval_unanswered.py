"""How well the staff console groups unanswered questions by meaning (make eval-unanswered).

    python -m scripts.eval_unanswered [--index var/index] [--out var/reports]

On data/eval/unanswered_groups.yml (questions labelled with the meaning they ask; evaluation data,
never trained on): every question is read by the knowledge engine as the service reads a declined
one, then grouped by bot/unanswered.py in five arrival orders. The threshold is chosen on the tuning
half (the lowest that keeps purity >= PURITY_FLOOR, i.e. the most merging that keeps groups to one
meaning), and the figures are reported on the test half:

- purity: the share of questions that belong to their group's most common meaning;
- inverse purity (completeness): the share of questions in the group holding most of their meaning;
- split: into how many groups one meaning falls, on average;

with the token-overlap grouping (no index; the grouping before readings) as the baseline, the
nearest FAQ item of the labels that have one, and the time to read and group 20,000 stored rows
(SQLite, through bot/unanswered_store.py). Writes <out>/unanswered_groups.json.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import yaml

from bot import unanswered_store
from bot.db import open_database
from bot.models import Unanswered
from bot.unanswered import SIMILAR, Group, Row, group_by_meaning, group_by_words, reading_of
from knowledge.engine import Engine

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "eval" / "unanswered_groups.yml"
PURITY_FLOOR = 0.9
ORDERS = 5
THRESHOLDS = [round(0.40 + 0.01 * i, 2) for i in range(50)]
BENCH_ROWS = 20_000
T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


@dataclass
class Question:
    text: str
    label: str
    half: str  # "tune" | "test"
    tokens: list[str]
    reading: dict[str, float]


def load_sample(engine: Engine, path: Path = SAMPLE) -> tuple[list[Question], dict[str, str]]:
    """The labelled questions, read by the engine; and label -> expected FAQ item, where given."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    questions, expected = [], {}
    for label in data["labels"]:
        if label.get("faq"):
            expected[label["label"]] = label["faq"]
        for i, text in enumerate(label["questions"]):
            questions.append(
                Question(
                    text,
                    label["label"],
                    "tune" if i % 2 == 0 else "test",
                    unanswered_store.question_key(text)[1].split(),
                    reading_of(engine.answer(text).hits),
                )
            )
    return questions, expected


def as_rows(questions: list[Question], seed: int) -> list[Row]:
    """The questions as stored rows, arriving in a seeded order."""
    order = random.Random(seed).sample(range(len(questions)), len(questions))
    rows = []
    for rank, i in enumerate(order):
        q = questions[i]
        at = T0 + timedelta(minutes=rank)
        rows.append(Row(i, f"k{i}", q.text, 1, at, at, None, q.tokens, q.reading))
    return rows


def scores(groups: list[Group], label_of: dict[int, str]) -> dict[str, float]:
    members = [[label_of[r.id] for r in g.rows] for g in groups]
    n = sum(len(m) for m in members)
    purity = sum(Counter(m).most_common(1)[0][1] for m in members) / n
    where: dict[str, list[int]] = defaultdict(list)
    for g, labels in enumerate(members):
        for label in labels:
            where[label].append(g)
    inverse = sum(Counter(gs).most_common(1)[0][1] for gs in where.values()) / n
    return {
        "purity": purity,
        "inverse_purity": inverse,
        "f1": 2 * purity * inverse / (purity + inverse),
        "split": statistics.mean(len(set(gs)) for gs in where.values()),
        "groups": len(groups),
    }


def averaged(questions: list[Question], group) -> dict[str, float]:
    """Mean figures over ORDERS arrival orders (greedy grouping depends on the order)."""
    label_of = dict(enumerate(q.label for q in questions))
    runs = [scores(group(as_rows(questions, seed)), label_of) for seed in range(ORDERS)]
    return {k: round(statistics.mean(r[k] for r in runs), 3) for k in runs[0]}


def choose_threshold(tune: list[Question], idf) -> tuple[float, list[dict]]:
    curve = [{"threshold": t, **averaged(tune, lambda rows, t=t: group_by_meaning(rows, idf, t))} for t in THRESHOLDS]
    pure = [c for c in curve if c["purity"] >= PURITY_FLOOR]
    best = max(pure or curve, key=lambda c: (c["inverse_purity"], c["f1"], -c["threshold"]) if pure else (c["purity"],))
    return best["threshold"], curve


def nearest_check(questions: list[Question], expected: dict[str, str]) -> dict[str, str | None]:
    """For each label with an expected FAQ item: the nearest item of its test-half questions as one group."""
    out = {}
    for label, faq_id in expected.items():
        rows = [r for r in as_rows([q for q in questions if q.label == label and q.half == "test"], 0)]
        group = Group("check", rows)
        found = group.nearest_faq()
        out[label] = {"expected": faq_id, "nearest": found[0] if found else None}
    return out


def benchmark(questions: list[Question], idf, n: int = BENCH_ROWS) -> dict[str, float]:
    """n stored rows (the sample's questions with varied endings and slightly varied readings) in
    SQLite: seconds to load them as the console does, and to group them."""
    rng = random.Random(7)
    tails = ["", "急", "在线等", "？？", "，谢谢", "，厦门的", "，公司人事问的", "，第二次问了", "😭", "呢"]
    with tempfile.TemporaryDirectory() as folder:
        db = open_database(f"sqlite:///{folder}/bench.db")
        try:
            with db.transaction() as session:
                for i in range(n):
                    q = questions[i % len(questions)]
                    text = f"{q.text}{rng.choice(tails)}{i}"
                    reading = {e: s * rng.uniform(0.9, 1.1) for e, s in q.reading.items()}
                    at = T0 + timedelta(seconds=i)
                    session.add(
                        Unanswered(
                            question_key=f"bench{i}",
                            tokens=" ".join(q.tokens + [str(i)]),
                            question=text,
                            sender=f"web-{i}",
                            added_by=f"web-{i}",
                            asks=1,
                            decision="decline",
                            created_at=at,
                            last_seen=at,
                            reading=json.dumps(reading),
                        )
                    )
            started = time.perf_counter()
            rows = unanswered_store.recent_rows(db, n)
            loaded = time.perf_counter()
            groups = group_by_meaning(rows, idf)
            grouped = time.perf_counter()
            by_words = group_by_words(rows)
            words_done = time.perf_counter()
        finally:
            db.close()
    return {
        "rows": n,
        "load_seconds": round(loaded - started, 3),
        "group_seconds": round(grouped - loaded, 3),
        "groups": len(groups),
        "by_words_seconds": round(words_done - grouped, 3),
        "by_words_groups": len(by_words),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", default=str(ROOT / "var" / "index"))
    parser.add_argument("--out", default=str(ROOT / "var" / "reports"))
    parser.add_argument("--bench-rows", type=int, default=BENCH_ROWS)
    args = parser.parse_args(argv)

    started = time.perf_counter()
    engine = Engine.load(args.index)
    idf = engine.retriever.bm25_units.token_weight
    questions, expected = load_sample(engine)
    tune = [q for q in questions if q.half == "tune"]
    test = [q for q in questions if q.half == "test"]
    chosen, curve = choose_threshold(tune, idf)
    report = {
        "sample": {
            "questions": len(questions),
            "labels": len({q.label for q in questions}),
            "tune": len(tune),
            "test": len(test),
        },
        "threshold": {"chosen_on_tune": chosen, "in_code": SIMILAR, "purity_floor": PURITY_FLOOR},
        "tune_at_chosen": next(c for c in curve if c["threshold"] == chosen),
        "test_at_chosen": averaged(test, lambda rows: group_by_meaning(rows, idf, chosen)),
        "test_in_code": averaged(test, lambda rows: group_by_meaning(rows, idf, SIMILAR)),
        "test_by_words": averaged(test, group_by_words),
        "nearest_faq": nearest_check(questions, expected),
        "benchmark": benchmark(questions, idf, args.bench_rows),
        "tune_curve": curve,
    }
    report["seconds"] = round(time.perf_counter() - started, 1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "unanswered_groups.json").write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")

    s = report["sample"]
    print(
        f"sample: {s['questions']} questions, {s['labels']} meanings; tune {s['tune']}, test {s['test']} "
        f"(mean of {ORDERS} arrival orders)"
    )
    print(f"threshold chosen on tune: {chosen} (purity >= {PURITY_FLOOR}, most merging); in code: {SIMILAR}")
    print(f"{'':28s} {'purity':>7s} {'inverse':>8s} {'F1':>6s} {'split':>6s} {'groups':>7s}")
    for name, key in (
        ("tune, chosen threshold", "tune_at_chosen"),
        ("test, chosen threshold", "test_at_chosen"),
        ("test, threshold in code", "test_in_code"),
        ("test, token overlap (old)", "test_by_words"),
    ):
        m = report[key]
        print(
            f"{name:28s} {m['purity']:7.3f} {m['inverse_purity']:8.3f} {m['f1']:6.3f} {m['split']:6.2f} {m['groups']:7.1f}"
        )
    for label, found in report["nearest_faq"].items():
        mark = "ok" if found["nearest"] == found["expected"] else "MISSED"
        print(f"nearest FAQ item of {label}: {found['nearest']} (expected {found['expected']}) {mark}")
    b = report["benchmark"]
    print(
        f"{b['rows']} stored rows: load {b['load_seconds']} s, group by meaning {b['group_seconds']} s "
        f"({b['groups']} groups); token overlap {b['by_words_seconds']} s"
    )
    print(f"report: {out / 'unanswered_groups.json'} ({report['seconds']} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
