"""Knowledge engine latency and scale benchmark (in process, bounded to a few minutes on 2 cores).

    python -m scripts.bench_knowledge [--index var/index] [--dev data/eval/dev.yml] [--passages 100000]

1. Latency: `Engine.answer` and `Engine.search` on the built index, every dev question repeated
   --repeat times; p50 / p95 / p99.
2. Hostile input: messages of the longest allowed length made to defeat the normalisation (runs of
   single letters, of pinyin syllables, one endless word, repeated characters, emoji), each
   timed against the dev questions' median; the target is at most 3x a normal question.
3. Scale: the same engine code (knowledge.engine.Retriever / Engine, the project's trained
   encoder and calibrated decision) over --passages synthetic passages made from clauses and
   words of the real material (entries of 5 units each, like FAQ items with variants). Build time
   and resident memory, then question latency with the exact FAISS index (IndexFlatIP) against
   an approximate one (IndexHNSWFlat), and recall@5 of the approximate index against exact
   search (units, and the engine's top-5 entries).

Prints a table and writes var/reports/bench_knowledge.json.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import re
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
UNITS_PER_ENTRY = 5


def rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentiles(ms: list[float]) -> dict[str, float]:
    a = np.asarray(ms)
    return {
        "p50": round(float(np.percentile(a, 50)), 3),
        "p95": round(float(np.percentile(a, 95)), 3),
        "p99": round(float(np.percentile(a, 99)), 3),
        "n": int(len(a)),
    }


def time_calls(fn, questions: list[str], repeat: int) -> dict[str, float]:
    for q in questions[:20]:  # warm-up (lazy compiles, caches)
        fn(q)
    ms = []
    for _ in range(repeat):
        for q in questions:
            t0 = time.perf_counter()
            fn(q)
            ms.append((time.perf_counter() - t0) * 1000)
    return percentiles(ms)


def hostile_messages(n_chars: int = 1000, seed: int = 3) -> dict[str, str]:
    """Inputs that cost the most per character in normalisation and retrieval."""
    rnd = random.Random(seed)
    syllables = ["shi", "zhu", "ce", "mi", "ma", "zi", "ge", "ku", "zheng", "jian", "er", "ji"]
    return {
        "single letters": " ".join(rnd.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(n_chars))[:n_chars],
        "pinyin syllables": " ".join(rnd.choice(syllables) for _ in range(n_chars))[:n_chars],
        "one long word": "".join(rnd.choice("zhuceshimage") for _ in range(n_chars)),
        "letters among characters": "".join(
            rnd.choice(["没", "guo", "ling", "基础", "a ", "b "]) for _ in range(n_chars)
        )[:n_chars],
        "repeated characters": ("资格库" * n_chars)[:n_chars],
        "emoji": "😭" * n_chars,
    }


def hostile_costs(engine, normal: list[str], repeat: int = 5) -> dict:
    """Median ms of Engine.answer for each hostile message and for the normal questions, and the ratios."""

    def median_ms(text: str) -> float:
        ms = []
        for _ in range(repeat):
            engine.retriever.lexicon.clear_cache()  # each time the cost of a message never seen
            t0 = time.perf_counter()
            engine.answer(text)
            ms.append((time.perf_counter() - t0) * 1000)
        return float(np.median(ms))

    from bot.chat_cleaning import clean_message

    base = float(np.median([median_ms(clean_message(q)) for q in normal]))
    costs = {name: median_ms(clean_message(text)) for name, text in hostile_messages().items()}
    return {
        "normal_ms": round(base, 2),
        "hostile_ms": {k: round(v, 2) for k, v in costs.items()},
        "worst_ratio": round(max(costs.values()) / base, 2),
    }


def synthetic_entries(engine, n_passages: int, seed: int = 7):
    """Entries of UNITS_PER_ENTRY passages each, recombining clauses and words of the material."""
    from knowledge.corpus import Entry

    rng = random.Random(seed)
    clauses, words = [], []
    for e in engine.retriever.entries:
        for _f, text in e.units:
            clauses += [c for c in re.split(r"[。；;，,！？!?\n]", text) if 4 <= len(c) <= 60]
            words += engine.retriever.tokenizer.words(engine.retriever.lexicon.normalize_text(text))
    words = [w for w in words if len(w) > 1]
    entries = []
    for i in range(n_passages // UNITS_PER_ENTRY):
        units = []
        for _ in range(UNITS_PER_ENTRY):
            text = "，".join(rng.sample(clauses, 2)) + "".join(rng.sample(words, 3))
            units.append(("variant", text))
        entries.append(
            Entry(
                f"faq:synthetic_{i}",
                "faq",
                units[0][1],
                units[0][1],
                "合成文档",
                f"第{i}节",
                f"synthetic#{i}",
                [("question", units[0][1])] + units[1:],
                faq_id=f"synthetic_{i}",
            )
        )
    return entries


def scale_benchmark(engine, questions: list[str], n_passages: int, repeat: int, ef_search: int = 512) -> dict:
    import faiss

    from knowledge.dense import DenseIndex
    from knowledge.engine import Engine, Retriever

    r0 = engine.retriever
    entries = synthetic_entries(engine, n_passages)
    gc.collect()
    mem0 = rss_mb()
    t0 = time.perf_counter()
    exact = Retriever.build(entries, r0.lexicon, r0.tokenizer, r0.encoder)
    build_s = time.perf_counter() - t0
    mem1 = rss_mb()

    # The approximate indexes over the same vectors.
    unit_vectors = exact.dense_units.index.reconstruct_n(0, exact.dense_units.size)
    item_vectors = exact.dense_items.index.reconstruct_n(0, exact.dense_items.size)
    t0 = time.perf_counter()

    def hnsw(dim: int):
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = ef_search
        return index

    approx_units = DenseIndex.build(unit_vectors, hnsw)
    approx_items = DenseIndex.build(item_vectors, hnsw)
    hnsw_build_s = time.perf_counter() - t0
    mem2 = rss_mb()
    approx = Retriever(
        entries,
        r0.lexicon,
        r0.tokenizer,
        exact.bm25_units,
        exact.bm25_items,
        approx_units,
        approx_items,
        r0.encoder,
        exact.unit_entry,
        exact.entry_tokens,
    )

    manifest = engine.manifest
    exact_engine, approx_engine = Engine(exact, manifest), Engine(approx, manifest)

    # Recall@5 of the approximate index against exact search: dense units, and the engine's entries.
    qvecs = r0.encoder.encode([r0.lexicon.normalize_query(q) for q in questions])
    _, exact_ids = exact.dense_units.search(qvecs, 5)
    _, approx_ids = approx.dense_units.search(qvecs, 5)
    unit_recall = float(np.mean([len(set(a) & set(e)) / 5 for a, e in zip(approx_ids, exact_ids)]))
    entry_recall = []
    for q in questions:
        e_top = {h.id for h in exact_engine.search(q, k=5)}
        a_top = {h.id for h in approx_engine.search(q, k=5)}
        entry_recall.append(len(e_top & a_top) / max(1, len(e_top)))

    def dense_only(index):
        return lambda q: index.search(r0.encoder.encode([q]), 5)

    return {
        "passages": len(exact.unit_entry),
        "entries": len(entries),
        "build_seconds_exact": round(build_s, 2),
        "build_seconds_hnsw_extra": round(hnsw_build_s, 2),
        "rss_mb_before": round(mem0, 1),
        "rss_mb_after_exact": round(mem1, 1),
        "rss_mb_after_hnsw": round(mem2, 1),
        "faiss_bytes_flat": int(
            faiss.serialize_index(exact.dense_units.index).size + faiss.serialize_index(exact.dense_items.index).size
        ),
        "faiss_bytes_hnsw": int(
            faiss.serialize_index(approx_units.index).size + faiss.serialize_index(approx_items.index).size
        ),
        "answer_ms_flat": time_calls(exact_engine.answer, questions, repeat),
        "answer_ms_hnsw": time_calls(approx_engine.answer, questions, repeat),
        "dense_search_ms_flat": time_calls(dense_only(exact.dense_units), questions, repeat),
        "dense_search_ms_hnsw": time_calls(dense_only(approx_units), questions, repeat),
        "hnsw": {"M": 32, "efConstruction": 80, "efSearch": ef_search},
        "recall_at_5_units": round(unit_recall, 4),
        "recall_at_5_entries": round(float(np.mean(entry_recall)), 4),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="In-process latency and scale benchmark of the knowledge engine.")
    parser.add_argument("--index", type=Path, default=ROOT / "var" / "index")
    parser.add_argument("--dev", type=Path, default=ROOT / "data" / "eval" / "dev.yml")
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "reports")
    parser.add_argument("--repeat", type=int, default=20, help="repetitions of the dev questions for latency")
    parser.add_argument("--passages", type=int, default=100_000, help="synthetic passages for the scale test (0: skip)")
    parser.add_argument("--scale-repeat", type=int, default=2)
    parser.add_argument("--ef-search", type=int, default=512, help="HNSW efSearch (the engine asks for 512 units)")
    args = parser.parse_args(argv)

    import yaml

    from knowledge.engine import Engine, IndexUnavailable

    try:
        t0 = time.perf_counter()
        engine = Engine.load(args.index)
        load_s = time.perf_counter() - t0
    except IndexUnavailable as exc:
        print(f"[bench_knowledge] {exc}", file=sys.stderr)
        return 1
    questions = [str(d["q"]) for d in (yaml.safe_load(args.dev.read_text(encoding="utf-8")) or {}).get("questions", [])]
    report: dict = {
        "index": str(engine.index_dir),
        "model": engine.manifest["model"]["name"],
        "questions": len(questions),
        "engine_load_seconds": round(load_s, 2),
        "units": int(len(engine.retriever.unit_entry)),
    }
    report["answer_ms"] = time_calls(engine.answer, questions, args.repeat)
    report["search_ms"] = time_calls(lambda q: engine.search(q, k=5), questions, args.repeat)
    print(
        f"latency over {len(questions)} dev questions x {args.repeat} ({report['units']} units): "
        f"answer p50 {report['answer_ms']['p50']} ms, p95 {report['answer_ms']['p95']} ms; "
        f"search p50 {report['search_ms']['p50']} ms, p95 {report['search_ms']['p95']} ms"
    )

    h = hostile_costs(engine, questions[:30])
    report["hostile"] = h
    print(
        f"\nhostile 1000-character messages (Engine.answer after the gateway's clean-up, median of 5) against a "
        f"normal question ({h['normal_ms']} ms):"
    )
    for name, ms in h["hostile_ms"].items():
        print(f"  {name:<26} {ms:>8} ms  {ms / h['normal_ms']:>5.1f}x")
    print(f"  worst {h['worst_ratio']}x (target <= 3x): {'met' if h['worst_ratio'] <= 3 else 'MISSED'}")

    if args.passages > 0:
        s = scale_benchmark(engine, questions, args.passages, args.scale_repeat, args.ef_search)
        report["scale"] = s
        print(f"\nscale: {s['passages']} synthetic passages in {s['entries']} entries")
        print(
            f"  build (normalise, segment, BM25 x2, encode, IndexFlatIP x2): {s['build_seconds_exact']} s, "
            f"RSS {s['rss_mb_before']} -> {s['rss_mb_after_exact']} MB; HNSW indexes +{s['build_seconds_hnsw_extra']} s, "
            f"RSS {s['rss_mb_after_hnsw']} MB"
        )
        print(
            f"  {'index':<14} {'answer p50':>10} {'answer p95':>10} {'dense p95':>10} {'faiss MB':>9} {'recall@5':>9}"
        )
        print(
            f"  {'IndexFlatIP':<14} {s['answer_ms_flat']['p50']:>10} {s['answer_ms_flat']['p95']:>10} "
            f"{s['dense_search_ms_flat']['p95']:>10} {s['faiss_bytes_flat'] / 2**20:>9.1f} {'1 (exact)':>9}"
        )
        print(
            f"  {'IndexHNSWFlat':<14} {s['answer_ms_hnsw']['p50']:>10} {s['answer_ms_hnsw']['p95']:>10} "
            f"{s['dense_search_ms_hnsw']['p95']:>10} {s['faiss_bytes_hnsw'] / 2**20:>9.1f} {s['recall_at_5_units']:>9}"
        )
        print(f"  engine top-5 entries with HNSW vs exact: recall@5 {s['recall_at_5_entries']}")
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "bench_knowledge.json"
    path.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
