"""How well the assistant answers: on the test half, the calibration half and the dev set.

    python -m scripts.evaluate --e2e                 # start the real stack on free ports (make eval)
    python -m scripts.evaluate --chat-url http://127.0.0.1:8000   # through a running stack
    python -m scripts.evaluate                       # the knowledge level only (no stack)

End to end, every message goes to POST /api/chat from a fresh sender and the reply is scored as
its user would read it (scripts/evaluation/scoring.py): in scope answered right / wrong / offered
the right question / dead end; out of scope declined; figures the source does not hold. Per set,
per message shape, per kind and per FAQ item, with the wrong answers as a confusion table.

At the knowledge level (in process, no Rasa), for BM25, dense and the hybrid: top-1 and MRR@5
of the expected FAQ item and the engine's decision.

Writes <out>/eval.json, <out>/eval.md and <out>/eval.png. The sets are only read here and, for
the calibration half, by knowledge/build.py's threshold choice; nothing trains on them.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np

from knowledge.labelled import Message, load_dev, load_messages, load_section_map
from scripts.evaluation import report
from scripts.evaluation.replies import Reply
from scripts.evaluation.scoring import Scored, by, confusion, score, summarize

ROOT = Path(__file__).resolve().parent.parent
EVAL_DIR = ROOT / "data" / "eval"
SETS = {"test": EVAL_DIR / "test.yml", "calibration": EVAL_DIR / "calibration.yml", "dev": EVAL_DIR / "dev.yml"}
MODES = ("bm25", "dense", "hybrid")


def load_sets(engine, names=tuple(SETS)) -> dict[str, list[Message]]:
    answers = {e.faq_id: e.text for e in engine.retriever.entries if e.faq_id}
    sections = load_section_map(EVAL_DIR / "sections.yml")
    out = {}
    for name in names:
        path = SETS[name]
        if not path.is_file():
            continue
        out[name] = load_dev(path, answers) if name == "dev" else load_messages(path, sections, answers)
    return out


def source_text(root: Path = ROOT) -> str:
    """The project's copy of the source material: what a figure in a reply must come from."""
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted((root / "knowledge" / "documents").glob("*.yml")))


# ---------------------------------------------------------------------------------------------
# The knowledge level
# ---------------------------------------------------------------------------------------------


def evaluate_engine(engine, messages: list[Message]) -> dict:
    out = {}
    single = [m for m in messages if m.in_scope and len(m.sections) <= 1 and m.expected]
    oos = [m for m in messages if not m.in_scope]
    for mode in MODES:
        rows = []
        for m in single + oos:
            t0 = time.perf_counter()
            d = engine.answer(m.text, mode=mode, k=20)
            ms = (time.perf_counter() - t0) * 1000
            ranking = [h.faq_id for h in d.hits if h.faq_id]
            rank = next((i + 1 for i, fid in enumerate(ranking[:5]) if fid in m.expected), None)
            rows.append(
                {
                    "in_scope": m.in_scope,
                    "kind": d.kind,
                    "faq_id": d.faq_id,
                    "rank": rank,
                    "top1_ok": bool(ranking) and ranking[0] in m.expected,
                    "answer_ok": d.faq_id in m.expected,
                    "ms": ms,
                }
            )
        ins = [r for r in rows if r["in_scope"]]
        neg = [r for r in rows if not r["in_scope"]]

        def share(items, pred):
            return round(sum(1 for r in items if pred(r)) / len(items), 4) if items else None

        out[mode] = {
            "in_scope": len(ins),
            "out_of_scope": len(neg),
            "top1": share(ins, lambda r: r["top1_ok"]),
            "mrr5": round(sum(1 / r["rank"] for r in ins if r["rank"]) / len(ins), 4) if ins else None,
            "answered_right": share(ins, lambda r: r["kind"] == "answer" and r["answer_ok"]),
            "answered_wrong": share(ins, lambda r: r["kind"] == "answer" and not r["answer_ok"]),
            "suggested": share(ins, lambda r: r["kind"] == "suggest"),
            "declined": share(ins, lambda r: r["kind"] == "decline"),
            "oos_declined": share(neg, lambda r: r["kind"] == "decline"),
            "latency_ms_p50": round(float(np.percentile([r["ms"] for r in rows], 50)), 2) if rows else None,
        }
    return out


# ---------------------------------------------------------------------------------------------
# End to end
# ---------------------------------------------------------------------------------------------


def evaluate_chat(url: str, messages: list[Message], source: str, timeout: float = 30.0) -> list[Scored]:
    import httpx

    rows = []
    with httpx.Client(base_url=url.rstrip("/"), timeout=timeout) as client:
        for m in messages:
            t0 = time.perf_counter()
            try:
                response = client.post("/api/chat", json={"sender": f"eval-{uuid.uuid4().hex[:12]}", "message": m.text})
                status = response.status_code
                body = response.json().get("messages", []) if status == 200 else []
            except (httpx.HTTPError, ValueError) as exc:
                status, body = f"error: {exc.__class__.__name__}", []
            ms = (time.perf_counter() - t0) * 1000
            rows.append(score(m, Reply.of(body), source, ms, status))
    return rows


def chat_results(rows: list[Scored]) -> dict:
    return {
        "summary": summarize(rows),
        "by_shape": by(rows, lambda r: r.message.shape or "-"),
        "by_kind": by(rows, lambda r: r.message.kind),
        "by_item": by([r for r in rows if r.message.in_scope], lambda r: r.message.expected or ["?"]),
        "confusion": confusion(rows),
        "messages": [r.to_dict() for r in rows],
    }


def with_stack(index: Path, fn):
    from scripts.stack import Ports, Stack

    with tempfile.TemporaryDirectory(prefix="eval-stack-") as tmp:
        stack = Stack(
            ports=Ports.free(),
            var_dir=Path(tmp),
            bot_host="127.0.0.1",
            env={
                "ENVIRONMENT": "test",
                "INDEX_DIR": str(index.resolve()),
                # every message comes from this one process: the per-IP limit is not what is measured
                "RATE_LIMIT_PER_IP_PER_MINUTE": "100000",
            },
        )
        with stack:
            return fn(stack.bot_url)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Evaluate the assistant on the test half, the calibration half and dev."
    )
    parser.add_argument("--index", type=Path, default=ROOT / "var" / "index")
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "reports")
    parser.add_argument("--sets", default=",".join(SETS), help="comma-separated: test,calibration,dev")
    parser.add_argument("--chat-url", help="score every message through POST {url}/api/chat of a running stack")
    parser.add_argument("--e2e", action="store_true", help="start the real stack on free ports and score through it")
    args = parser.parse_args(argv)

    from knowledge.engine import Engine, IndexUnavailable

    try:
        engine = Engine.load(args.index)
    except IndexUnavailable as exc:
        print(f"[evaluate] {exc}", file=sys.stderr)
        return 1
    sets = load_sets(engine, tuple(s for s in args.sets.split(",") if s in SETS))
    results: dict = {"index": str(engine.index_dir), "model": engine.manifest["model"]["name"], "sets": {}}
    for name, messages in sets.items():
        results["sets"][name] = {"knowledge": evaluate_engine(engine, messages)}

    if args.chat_url or args.e2e:
        source = source_text()

        def run(url: str) -> None:
            results["chat_url"] = url
            for name, messages in sets.items():
                results["sets"][name]["chat"] = chat_results(evaluate_chat(url, messages, source))

        if args.chat_url:
            run(args.chat_url)
        else:
            with_stack(args.index, run)

    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "eval.json").write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    (args.out / "eval.md").write_text(report.markdown(results), encoding="utf-8")
    report.plot(results, args.out / "eval.png")
    print(report.console(results))
    print(f"wrote {args.out / 'eval.json'}, {args.out / 'eval.md'}, {args.out / 'eval.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
