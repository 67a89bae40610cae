"""Retrieval and end-to-end quality on the held-out dev set.

    python -m scripts.evaluate --index var/index --dev data/eval/dev.yml --out var/reports
    python -m scripts.evaluate ... --chat-url http://127.0.0.1:8000   # also through a running stack
    python -m scripts.evaluate ... --e2e                              # start the stack on free ports

For BM25 alone, dense alone and the hybrid (each with its own calibrated decision, same logic):
- top-1 accuracy and MRR@5 of the FAQ ranking on the answerable questions;
- the decision: answered correctly / answered wrongly / suggested / declined (false decline) on
  the answerable questions, and correctly declined on the questions the material cannot answer.

End to end, every question goes to POST {url}/api/chat from a fresh sender. A reply counts as the
expected item when it contains the item's answer or names its source section ("来源：..."); a
question without an answer counts as declined when the reply contains no FAQ answer and no source.

Writes <out>/eval.json, <out>/eval.md and <out>/eval_scores.png. The dev set is only read here:
nothing in the build sees it.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
MODES = ("bm25", "dense", "hybrid")
KINDS = ("answer", "suggest", "decline")


def load_dev(path: Path) -> list[dict]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [{"q": str(d["q"]), "expected": d.get("expected")} for d in data.get("questions") or []]


# ---------------------------------------------------------------------------------------------
# In-process retrieval and decisions
# ---------------------------------------------------------------------------------------------


def evaluate_engine(engine, dev: list[dict]) -> dict:
    known = set(engine.faq_ids)
    unknown_expected = sorted({d["expected"] for d in dev if d["expected"] and d["expected"] not in known})
    results: dict = {"unknown_expected_ids": unknown_expected, "modes": {}}
    for mode in MODES:
        rows = []
        for d in dev:
            t0 = time.perf_counter()
            decision = engine.answer(d["q"], mode=mode, k=20)
            ms = (time.perf_counter() - t0) * 1000
            ranking = [h.faq_id for h in decision.hits if h.faq_id]
            top_score = decision.hits[0].score if decision.hits else 0.0
            expected = d["expected"]
            rank = ranking.index(expected) + 1 if expected in ranking[:5] else None
            rows.append({
                "q": d["q"], "expected": expected, "kind": decision.kind, "faq_id": decision.faq_id,
                "top1": ranking[0] if ranking else None, "rank": rank, "top_score": round(top_score, 4),
                "confidence": round(decision.confidence, 4), "in_domain": round(decision.in_domain, 4),
                "suggestions": [s["faq_id"] for s in decision.suggestions], "ms": round(ms, 3),
            })
        results["modes"][mode] = {"summary": summarize(rows), "questions": rows}
    return results


def summarize(rows: list[dict]) -> dict:
    pos = [r for r in rows if r["expected"]]
    neg = [r for r in rows if not r["expected"]]

    def share(items, pred) -> float | None:
        return round(sum(1 for r in items if pred(r)) / len(items), 4) if items else None

    return {
        "answerable": len(pos),
        "unanswerable": len(neg),
        "top1_accuracy": share(pos, lambda r: r["top1"] == r["expected"]),
        "mrr_at_5": round(sum(1.0 / r["rank"] for r in pos if r["rank"]) / len(pos), 4) if pos else None,
        "answered_correct": share(pos, lambda r: r["kind"] == "answer" and r["faq_id"] == r["expected"]),
        "answered_wrong": share(pos, lambda r: r["kind"] == "answer" and r["faq_id"] != r["expected"]),
        "suggested": share(pos, lambda r: r["kind"] == "suggest"),
        "suggested_with_expected": share(pos, lambda r: r["kind"] == "suggest" and r["expected"] in r["suggestions"]),
        "false_decline_rate": share(pos, lambda r: r["kind"] == "decline"),
        # A refusal that still offers the right FAQ question as a button (the question named a domain term).
        "declined_with_expected_related": share(pos, lambda r: r["kind"] == "decline" and r["expected"] in r["suggestions"]),
        "unanswerable_declined_with_related": share(neg, lambda r: r["kind"] == "decline" and r["suggestions"]),
        "correct_decline_rate": share(neg, lambda r: r["kind"] == "decline"),
        "unanswerable_answered": share(neg, lambda r: r["kind"] == "answer"),
        "unanswerable_suggested": share(neg, lambda r: r["kind"] == "suggest"),
        "latency_ms_p50": round(float(np.percentile([r["ms"] for r in rows], 50)), 3) if rows else None,
        "latency_ms_p95": round(float(np.percentile([r["ms"] for r in rows], 95)), 3) if rows else None,
    }


# ---------------------------------------------------------------------------------------------
# End to end through /api/chat
# ---------------------------------------------------------------------------------------------


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text or "")


def evaluate_chat(url: str, dev: list[dict], engine, timeout: float = 30.0) -> dict:
    import httpx

    entries = {e.faq_id: e for e in engine.retriever.entries if e.faq_id}
    snippets = {fid: _squash(e.text)[:40] for fid, e in entries.items()}
    rows = []
    with httpx.Client(base_url=url.rstrip("/"), timeout=timeout) as client:
        for d in dev:
            sender = f"eval-{uuid.uuid4().hex[:12]}"
            t0 = time.perf_counter()
            try:
                response = client.post("/api/chat", json={"sender": sender, "message": d["q"]})
                messages = response.json().get("messages", []) if response.status_code == 200 else []
                status = response.status_code
            except httpx.HTTPError as exc:
                messages, status = [], f"error: {exc.__class__.__name__}"
            ms = (time.perf_counter() - t0) * 1000
            text = "\n".join(m.get("text") or "" for m in messages)
            flat = _squash(text)
            buttons = [b.get("title", "") for m in messages for b in (m.get("buttons") or [])]
            matched = [fid for fid, snip in snippets.items() if snip and snip in flat]
            expected = d["expected"]
            has_source = "来源" in text
            if expected:
                e = entries.get(expected)
                ok = bool(e) and (expected in matched or (has_source and e.source_section in text))
            else:
                ok = not matched and not has_source
            rows.append({"q": d["q"], "expected": expected, "ok": ok, "status": status, "matched": matched,
                         "buttons": buttons, "reply": text[:300], "ms": round(ms, 1)})
    pos = [r for r in rows if r["expected"]]
    neg = [r for r in rows if not r["expected"]]
    return {
        "url": url,
        "summary": {
            "questions": len(rows),
            "answered_correct": round(sum(r["ok"] for r in pos) / len(pos), 4) if pos else None,
            "correct_decline_rate": round(sum(r["ok"] for r in neg) / len(neg), 4) if neg else None,
            "http_errors": sum(1 for r in rows if r["status"] != 200),
            "latency_ms_p50": round(float(np.percentile([r["ms"] for r in rows], 50)), 1) if rows else None,
            "latency_ms_p95": round(float(np.percentile([r["ms"] for r in rows], 95)), 1) if rows else None,
        },
        "questions": rows,
    }


def run_stack_and_evaluate(index: Path, dev: list[dict], engine) -> dict:
    from scripts.stack import Ports, Stack

    with tempfile.TemporaryDirectory(prefix="eval-stack-") as tmp:
        stack = Stack(ports=Ports.free(), var_dir=Path(tmp), bot_host="127.0.0.1",
                      env={"ENVIRONMENT": "test", "STAFF_TOKEN": "eval-staff-token", "INDEX_DIR": str(index.resolve())})
        with stack:
            return evaluate_chat(stack.bot_url, dev, engine)


# ---------------------------------------------------------------------------------------------
# Reports
# ---------------------------------------------------------------------------------------------


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, len(MODES), figsize=(5 * len(MODES), 7), squeeze=False)
    bins = np.linspace(0, 1, 26)
    for col, mode in enumerate(MODES):
        rows = results["modes"][mode]["questions"]
        groups = {
            "right best match": [r for r in rows if r["expected"] and r["top1"] == r["expected"]],
            "wrong best match": [r for r in rows if r["expected"] and r["top1"] != r["expected"]],
            "no answer in material": [r for r in rows if not r["expected"]],
        }
        for row, (key, label) in enumerate((("top_score", "best fused score"), ("in_domain", "p(in domain)"))):
            ax = axes[row][col]
            for name, items in groups.items():
                ax.hist([r[key] for r in items], bins=bins, alpha=0.55, label=f"{name} ({len(items)})")
            if key == "in_domain":
                ax.axvline(results["thresholds"][mode]["domain_threshold"], color="k", linestyle="--", linewidth=1,
                           label="decline below")
            ax.set_title(f"{mode}: {label}")
            ax.set_xlabel(label)
            ax.set_ylabel("questions")
            ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def markdown(results: dict) -> str:
    lines = ["# Knowledge retrieval on the dev set", "",
             f"Index `{results['index']}` (model `{results['model']}`), dev set `{results['dev']}`: "
             f"{results['counts']['answerable']} answerable, {results['counts']['unanswerable']} unanswerable questions.", "",
             "| mode | top-1 | MRR@5 | answered right | answered wrong | suggested | false decline | correct decline (null) | null answered | p95 ms |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for mode in MODES:
        s = results["modes"][mode]["summary"]
        lines.append(f"| {mode} | {s['top1_accuracy']:.3f} | {s['mrr_at_5']:.3f} | {s['answered_correct']:.3f} | "
                     f"{s['answered_wrong']:.3f} | {s['suggested']:.3f} | {s['false_decline_rate']:.3f} | "
                     f"{s['correct_decline_rate']:.3f} | {s['unanswerable_answered']:.3f} | {s['latency_ms_p95']:.2f} |")
    s = results["modes"]["hybrid"]["summary"]
    lines += ["", f"Hybrid declines: {s['declined_with_expected_related']:.3f} of the answerable questions are declined "
              f"with the right FAQ question among the related buttons; {s['unanswerable_declined_with_related']:.3f} "
              "of the unanswerable ones are declined with related buttons."]
    if "e2e" in results:
        s = results["e2e"]["summary"]
        lines += ["", f"End to end through {results['e2e']['url']}/api/chat: answered correctly "
                  f"{s['answered_correct']}, correct decline {s['correct_decline_rate']}, HTTP errors {s['http_errors']}, "
                  f"p50 {s['latency_ms_p50']} ms, p95 {s['latency_ms_p95']} ms."]
    lines += ["", "## Hybrid mistakes", "", "| question | expected | best match | decision |", "| --- | --- | --- | --- |"]
    for r in results["modes"]["hybrid"]["questions"]:
        wrong_rank = r["expected"] and r["top1"] != r["expected"]
        wrong_decision = (r["expected"] and r["kind"] != "answer") or (not r["expected"] and r["kind"] != "decline")
        if wrong_rank or wrong_decision:
            lines.append(f"| {r['q']} | {r['expected']} | {r['top1']} | {r['kind']} {r['faq_id'] or ''} |")
    if results.get("unknown_expected_ids"):
        lines += ["", f"Expected ids missing from the FAQ: {', '.join(results['unknown_expected_ids'])}"]
    lines += ["", "![score distributions](eval_scores.png)", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Evaluate retrieval (and optionally the whole chat) on the dev set.")
    parser.add_argument("--index", type=Path, default=ROOT / "var" / "index")
    parser.add_argument("--dev", type=Path, default=ROOT / "data" / "eval" / "dev.yml")
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "reports")
    parser.add_argument("--chat-url", help="also send every question through POST {url}/api/chat")
    parser.add_argument("--e2e", action="store_true", help="start the real stack on free ports and evaluate through it")
    args = parser.parse_args(argv)

    from knowledge.engine import Engine, IndexUnavailable

    try:
        engine = Engine.load(args.index)
    except IndexUnavailable as exc:
        print(f"[evaluate] {exc}", file=sys.stderr)
        return 1
    dev = load_dev(args.dev)
    results = evaluate_engine(engine, dev)
    results.update({
        "index": str(engine.index_dir), "model": engine.manifest["model"]["name"], "dev": str(args.dev),
        "counts": {"answerable": sum(1 for d in dev if d["expected"]), "unanswerable": sum(1 for d in dev if not d["expected"])},
        "thresholds": {m: {"domain_threshold": d["domain_threshold"], "answer_threshold": d["answer_threshold"]}
                       for m, d in engine.manifest["decision"].items()},
        "fusion": engine.manifest["fusion"]["weights"],
    })
    if args.chat_url:
        results["e2e"] = evaluate_chat(args.chat_url, dev, engine)
    elif args.e2e:
        results["e2e"] = run_stack_and_evaluate(args.index, dev, engine)

    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "eval.json").write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    plot(results, args.out / "eval_scores.png")
    (args.out / "eval.md").write_text(markdown(results), encoding="utf-8")

    print(f"dev set: {results['counts']['answerable']} answerable + {results['counts']['unanswerable']} unanswerable questions")
    print(f"{'mode':<7} {'top-1':>6} {'MRR@5':>6} {'ans.ok':>7} {'ans.bad':>7} {'suggest':>7} {'false-decl':>10} "
          f"{'null-decl':>9} {'p95 ms':>7}")
    for mode in MODES:
        s = results["modes"][mode]["summary"]
        print(f"{mode:<7} {s['top1_accuracy']:>6.3f} {s['mrr_at_5']:>6.3f} {s['answered_correct']:>7.3f} "
              f"{s['answered_wrong']:>7.3f} {s['suggested']:>7.3f} {s['false_decline_rate']:>10.3f} "
              f"{s['correct_decline_rate']:>9.3f} {s['latency_ms_p95']:>7.2f}")
    s = results["modes"]["hybrid"]["summary"]
    print(f"hybrid declines: {s['declined_with_expected_related']:.3f} of answerable questions are declined with the "
          f"right FAQ among the related buttons; {s['unanswerable_declined_with_related']:.3f} of unanswerable ones "
          "are declined with related buttons")
    if "e2e" in results:
        s = results["e2e"]["summary"]
        print(f"end to end ({results['e2e']['url']}): answered correctly {s['answered_correct']}, "
              f"correct decline {s['correct_decline_rate']}, HTTP errors {s['http_errors']}, p95 {s['latency_ms_p95']} ms")
    print(f"wrote {args.out / 'eval.json'}, {args.out / 'eval.md'}, {args.out / 'eval_scores.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
