"""Build the knowledge indexes: `python -m knowledge.build --out var/index`.

Steps:
1. load and validate documents + FAQ (knowledge.corpus);
2. train the project's dense encoder on the FAQ (or take EMBEDDING_MODEL), encode every unit,
   build the BM25 and FAISS indexes;
3. calibrate: K-fold over the FAQ variants and gap questions (each fold retrains the encoder and
   re-indexes without its held-out variants, then asks them as questions), plus the out-of-domain
   questions of knowledge/calibration/. That chooses the hybrid blend weight and fits the decision
   model per mode (bm25 / dense / hybrid). Its thresholds are then chosen on the calibration half
   of the user messages (data/eval/calibration.yml) against the final index; nothing is trained on
   those messages, and data/eval/test.yml and dev.yml are never read here.
4. write everything into `<out>/<version>/` with manifest.json (model, data hash, thresholds,
   build time), then point `<out>/current` at it. A running service keeps what it loaded; old
   versions beyond the previous one are removed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import random
import shutil
import sys
import time
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import yaml

from knowledge.augment import variants_of
from knowledge.corpus import Corpus, data_files, data_hash, load_corpus
from knowledge.dense import (
    PROJECT_MODEL,
    configured_model,
    encode_cached,
    load_encoder,
    model_fingerprint,
    save_configured_model,
    train_project_model,
)
from knowledge.engine import FORMAT_VERSION, Retriever
from knowledge.fusion import MODES, Fusion, choose_thresholds, fit_decision_model
from knowledge.labelled import load_messages, load_section_map
from knowledge.lexicon import Lexicon
from knowledge.paths import ROOT
from knowledge.tokenize import get_tokenizer

BM25_PARAMS = (0.6, 0.6)  # k1, b of the unit index: chosen by cross-validation on the FAQ variants
WEIGHT_GRID = [round(0.1 * i, 1) for i in range(11)]
PENALTY_GRID = [round(0.1 * i, 1) for i in range(6)]
DEFAULT_FOLDS = 5
KEEP_VERSIONS = 2
CALIBRATION_FILE = "calibration.yml"  # under data/eval/: the half of the user messages that chooses thresholds


AUGMENT_ENCODER = True  # user-like rewrites of the variants (knowledge.augment) as extra training pairs
ENCODER_REWRITES = 1  # rewrites per variant (2 raised top-1 but not the answers right on the calibration half)
AUGMENT_CALIBRATION = True  # held-out variants are also asked as user-like rewrites when the decision is fitted


def training_pairs(entries, skip: set[tuple[str, int]], augment: bool = AUGMENT_ENCODER) -> list[tuple[str, str]]:
    """(anchor, positive) pairs: every variant and the answer -> the item's standard question
    (a gap's questions -> its topic), and with `augment` a user-like rewrite of each variant;
    a document section's text -> its title."""
    pairs = []
    for e in entries:
        for j, (fieldname, text) in enumerate(e.units):
            if (e.id, j) in skip:
                continue
            if e.kind in ("faq", "gap") and fieldname in ("variant", "written", "answer"):
                pairs.append((text, e.title))
                if augment and fieldname in ("variant", "written"):
                    pairs += [(v, e.title) for v in variants_of(text, ENCODER_REWRITES, salt="encoder")]
            elif e.kind == "doc" and fieldname == "section":
                pairs.append((text, e.title))
    return pairs


class Builder:
    def __init__(
        self,
        root: Path = ROOT,
        folds: int = DEFAULT_FOLDS,
        seed: int = 13,
        model: str | None = None,
        cache_dir: Path | None = None,
    ):
        self.root = root
        self.folds = folds
        self.seed = seed
        self.model_name = model or configured_model()
        self.cache_dir = cache_dir
        self.timings: dict[str, float] = {}
        self._configured_dir: Path | None = None

    def _time(self, name: str, t0: float) -> None:
        self.timings[name] = round(time.perf_counter() - t0, 2)

    # -- pieces --------------------------------------------------------------------------------
    def prepare(self) -> None:
        t0 = time.perf_counter()
        self.corpus: Corpus = load_corpus(self.root)
        self.tokenizer = get_tokenizer(self.root / "data" / "dictionary")
        self.vocabulary = sorted(self.corpus.vocabulary(self.tokenizer))
        self.lexicon = self.lexicon_for(set())
        self.entries = self.corpus.entries
        self.normalize = self.lexicon.normalize_text
        self._time("load", t0)

    def lexicon_for(self, skip: set[tuple[str, int]]) -> Lexicon:
        """The spelling lexicon without the words only held-out units contain (calibration folds)."""
        vocabulary = self.vocabulary if not skip else sorted(self.corpus.vocabulary(self.tokenizer, skip))
        return Lexicon.from_dictionary(
            self.root / "data" / "dictionary", extra_terms=vocabulary, common_words=self.tokenizer.common_words()
        )

    def encoder_for(self, skip: set[tuple[str, int]], out_dir: Path):
        """(encoder, its folder): the project model trained without `skip`, saved in out_dir; or the
        EMBEDDING_MODEL, saved once (a configured model is not trained, so folds share it)."""
        if self.model_name == PROJECT_MODEL:
            pairs = [(self.normalize(a), self.normalize(p)) for a, p in training_pairs(self.entries, skip)]
            vocab_texts = [
                self.normalize(t) for e in self.entries for j, (_f, t) in enumerate(e.units) if (e.id, j) not in skip
            ]
            train_project_model(pairs, vocab_texts, self.tokenizer, out_dir, seed=self.seed)
        elif self._configured_dir is not None:
            return load_encoder(self._configured_dir, self.tokenizer), self._configured_dir  # not trained here
        else:
            save_configured_model(self.model_name, out_dir)
            self._configured_dir = out_dir
        return load_encoder(out_dir, self.tokenizer), out_dir

    def retriever_for(self, skip: set[tuple[str, int]], model_dir: Path, bm25_params=BM25_PARAMS) -> Retriever:
        encoder, used_dir = self.encoder_for(skip, model_dir)
        raw, _, _ = Retriever.unit_texts(self.entries, skip)
        normed = [self.normalize(t) for t in raw]
        vectors = encode_cached(encoder, normed, self.cache_dir, model_fingerprint(used_dir))
        lexicon = self.lexicon_for(skip) if skip else self.lexicon
        return Retriever.build(
            self.entries,
            lexicon,
            self.tokenizer,
            encoder,
            skip=skip,
            bm25_params=bm25_params,
            unit_vectors=vectors,
            normalized_units=normed,
        )

    def negatives(self) -> list[str]:
        """Questions the material must decline: the project's own (knowledge/calibration/) and the
        user-style ones of data/train/user_style.yml."""
        out = []
        for path in sorted((self.root / "knowledge" / "calibration").glob("*.yml")):
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            out += [str(q) for q in data.get("questions") or [] if str(q).strip()]
        return out + [q for q in self.corpus.out_of_domain if q not in out]

    def fold_plan(self) -> list[list[tuple[str, int]]]:
        """Every FAQ variant, gap question and user-style message, shuffled once (seeded) and dealt
        into K folds."""
        variants = [
            (e.id, j)
            for e in self.entries
            if e.kind in ("faq", "gap")
            for j, (f, _t) in enumerate(e.units)
            if f in ("variant", "written")
        ]
        rng = random.Random(self.seed)
        rng.shuffle(variants)
        return [variants[k :: self.folds] for k in range(self.folds)]

    # -- calibration ---------------------------------------------------------------------------
    def calibrate(self, work: Path) -> tuple[Fusion, dict, dict]:
        t0 = time.perf_counter()
        negatives = self.negatives()
        by_id = {e.id: i for i, e in enumerate(self.entries)}
        records = []  # (retriever, scores, gold entry index or None, question)
        for k, held in enumerate(self.fold_plan()):
            skip = set(held)
            retriever = self.retriever_for(skip, work / f"fold{k}")
            for entry_id, j in held:
                text = self.entries[by_id[entry_id]].units[j][1]
                # the held-out variant as written, and as a user might type it (knowledge.augment)
                for asked in [text] + (variants_of(text, 1, salt="calibration") if AUGMENT_CALIBRATION else []):
                    records.append((retriever, retriever.score(asked), by_id[entry_id], asked))
            for q in negatives:
                records.append((retriever, retriever.score(q), None, q))
            shutil.rmtree(work / f"fold{k}", ignore_errors=True)
        self._time("calibration_folds", t0)
        self.records = records  # kept for inspection (scripts, tests)

        # The blend: each weight from a grid, by top-1 accuracy on the held-out variants; first
        # how each retriever mixes its unit and item scores, then how much dense weighs in hybrid.
        positives = [(r, s, g) for r, s, g, _q in records if g is not None]
        fusion = Fusion()
        accuracy: dict[str, dict[str, float]] = {}
        for name, mode in (
            ("unit_share_bm25", "bm25"),
            ("unit_share_dense", "dense"),
            ("weight_dense", "hybrid"),
            ("qtype_penalty", "hybrid"),
        ):
            acc = {}
            for w in WEIGHT_GRID if name != "qtype_penalty" else PENALTY_GRID:
                setattr(fusion, name, w)
                acc[w] = sum(
                    int(r.ranked(s, mode, fusion, candidates_only=True)[0][0] == g) for r, s, g in positives
                ) / max(1, len(positives))
            # The accuracy curve is flat near its top, and its highest point moved between builds when
            # a few variants changed; the thresholds fitted after it moved much more. So each weight is
            # judged by its neighbourhood (its accuracy averaged with the grid points beside it): the
            # middle of the plateau, which one changed variant does not move.
            grid = list(acc)
            smooth = {w: float(np.mean([acc[v] for v in grid[max(0, i - 1) : i + 2]])) for i, w in enumerate(grid)}
            best = max(smooth.values())
            # Among equally good weights prefer the one closest to an even blend (a penalty: the smallest).
            prefer = (lambda w: w) if name == "qtype_penalty" else (lambda w: abs(w - 0.5))
            setattr(fusion, name, min((w for w, a in smooth.items() if a >= best - 1e-9), key=prefer))
            accuracy[name] = {str(w): round(a, 4) for w, a in acc.items()}

        models, reports = {}, {}
        for mode in MODES:
            rows, correct, negative = [], [], []
            for r, s, g, _q in records:
                order, fused = r.ranked(s, mode, fusion, candidates_only=True)
                rows.append(r.features(s, order, fused))
                correct.append(g is not None and len(order) > 0 and order[0] == g)
                negative.append(g is None)
            model, report = fit_decision_model(mode, rows, np.array(correct), np.array(negative))
            models[mode] = model.to_dict()
            reports[mode] = report
        reports["fusion_grid_accuracy"] = accuracy
        reports["folds"] = self.folds
        reports["out_of_domain_questions"] = len(negatives)
        self._time("calibration", t0)
        return fusion, models, reports

    def user_messages(self):
        """The calibration half of the labelled user messages, or [] when the project has none."""
        folder = self.root / "data" / "eval"
        if not (folder / CALIBRATION_FILE).is_file():
            return []
        answers = {fid: item.answer for fid, item in self.corpus.faq.items()}
        return load_messages(folder / CALIBRATION_FILE, load_section_map(folder / "sections.yml"), answers)

    def thresholds_on_users(self, retriever: Retriever, fusion: Fusion, models: dict) -> dict:
        """Choose each mode's thresholds on the calibration half, against the final index.
        Messages with several questions are left out (they are split before they are decided)."""
        messages = [m for m in self.user_messages() if not (m.in_scope and (len(m.sections) > 1 or not m.expected))]
        if not messages:
            return {}
        from knowledge.engine import Engine

        # An engine with the fitted models: it reads and scores each message as serving will.
        engine = Engine(retriever, {"fusion": {"weights": fusion.to_dict()}, "decision": models})
        reports = {}
        for mode in MODES:
            pd, pa, answerable, correct, in_scope = [], [], [], [], []
            for m in messages:
                s = engine.read(m.text, mode)
                order, _fused, a, b = engine.assess(s, mode) if s.tokens else ([], None, 0.0, 0.0)
                top = retriever.entries[order[0]] if len(order) else None
                pd.append(a)
                pa.append(b)
                answerable.append(top is not None and top.kind != "gap")
                correct.append(top is not None and top.faq_id in m.expected)
                in_scope.append(m.in_scope)
            unrelated = [[], [], []]
            for q in self.negatives():  # the project's own unrelated questions, none of them in the index
                s = engine.read(q, mode)
                order, _fused, a, b = engine.assess(s, mode) if s.tokens else ([], None, 0.0, 0.0)
                unrelated[0].append(a)
                unrelated[1].append(b)
                unrelated[2].append(len(order) > 0 and retriever.entries[order[0]].kind != "gap")
            td, ta, t_alone, report = choose_thresholds(
                pd, pa, answerable, correct, in_scope, unrelated=tuple(np.array(u) for u in unrelated)
            )
            models[mode].update(domain_threshold=td, also_threshold=ta, answer_threshold=t_alone)
            reports[mode] = report
        return reports

    # -- the whole build -----------------------------------------------------------------------
    def build(self, out: Path) -> Path:
        t_start = time.perf_counter()
        started_at = time.time()
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        self.prepare()
        if self.cache_dir is None:
            self.cache_dir = out / "cache" / "embeddings"
        current_hash = data_hash(self.root)
        version = hashlib.sha256(f"{current_hash}\0{self.model_name}\0{FORMAT_VERSION}".encode()).hexdigest()[:16]
        work = out / f".build-{version}-{os.getpid()}"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        try:
            t0 = time.perf_counter()
            retriever = self.retriever_for(set(), work / "model")
            self._time("index", t0)
            fusion, decision, calibration = self.calibrate(work / "_folds")
            shutil.rmtree(work / "_folds", ignore_errors=True)
            calibration["users"] = self.thresholds_on_users(retriever, fusion, decision)
            self._write(work, retriever)
            encoder_meta = json.loads((work / "model" / "encoder.json").read_text())
            manifest = {
                "format": FORMAT_VERSION,
                "version": version,
                "data_hash": current_hash,
                "files": [str(p.relative_to(self.root)) for p in data_files(self.root)],
                "model": {
                    "name": self.model_name,
                    "input": encoder_meta.get("input"),
                    "dim": retriever.encoder.dim,
                    "path": "model",
                },
                "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "counts": {
                    "entries": len(self.entries),
                    "faq_items": len(self.corpus.faq),
                    "sections": len(self.corpus.sections),
                    "units": int(len(retriever.unit_entry)),
                    "vocabulary": len(self.vocabulary),
                },
                "bm25": {"k1": BM25_PARAMS[0], "b_units": BM25_PARAMS[1], "b_items": 0.75},
                "fusion": {
                    "method": "per entry: bm25 units = best unit, bm25 items = the entry's pseudo-document, each "
                    "BM25 / idf(question) capped at 1; dense units = best unit cosine, dense items = "
                    "centroid cosine; see knowledge.fusion.Fusion",
                    "weights": fusion.to_dict(),
                },
                "decision": decision,
                "calibration": calibration,
            }
            self.timings["total"] = round(time.perf_counter() - t_start, 2)
            manifest["build_seconds"] = self.timings
            (work / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
            final = out / version
            if final.exists():
                old = out / f".old-{version}-{os.getpid()}"
                final.rename(old)
                shutil.rmtree(old, ignore_errors=True)
            work.rename(final)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        pointer_tmp = out / f".current-{os.getpid()}"
        pointer_tmp.write_text(version + "\n", encoding="utf-8")
        os.replace(pointer_tmp, out / "current")
        self._prune(out, version)
        self._prune_cache(started_at)
        self.manifest = manifest
        return final

    def _prune_cache(self, started_at: float) -> None:
        """Drop cached embeddings this build did not use (older models, older data)."""
        if self.cache_dir is None or not self.cache_dir.is_dir():
            return
        for path in self.cache_dir.glob("*.npy"):
            if path.stat().st_mtime < started_at - 1:
                path.unlink(missing_ok=True)

    def _write(self, work: Path, retriever: Retriever) -> None:
        stored = {
            "entries": [asdict(e) for e in self.entries],
            "vocabulary": self.vocabulary,
            "entry_tokens": [sorted(t) for t in retriever.entry_tokens],
            "mention_tokens": [sorted(t) for t in retriever.mention_tokens],
        }
        (work / "entries.json").write_text(json.dumps(stored, ensure_ascii=False), encoding="utf-8")
        retriever.save(work)

    @staticmethod
    def _prune(out: Path, current: str) -> None:
        versions = sorted(
            (p for p in out.iterdir() if p.is_dir() and (p / "manifest.json").is_file()),
            key=lambda p: p.stat().st_mtime,
            reverse=True,
        )
        keep = {current} | {p.name for p in versions[:KEEP_VERSIONS]}
        for p in versions:
            if p.name not in keep:
                shutil.rmtree(p, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the knowledge indexes (BM25 + dense + calibrated decision).")
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "index", help="index folder (default var/index)")
    parser.add_argument("--root", type=Path, default=ROOT, help="project root holding the data files")
    parser.add_argument("--folds", type=int, default=DEFAULT_FOLDS, help="cross-validation folds for calibration")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    builder = Builder(args.root.resolve(), folds=args.folds, seed=args.seed)
    try:
        final = builder.build(args.out)
    except Exception as exc:  # noqa: BLE001 - a clear one-line failure for make
        print(f"[knowledge.build] failed: {exc}", file=sys.stderr)
        return 1
    m = builder.manifest
    print(
        f"[knowledge.build] {m['counts']['faq_items']} FAQ items, {m['counts']['sections']} sections, "
        f"{m['counts']['units']} units; model {m['model']['name']} (dim {m['model']['dim']})"
    )
    print(
        f"[knowledge.build] fusion {m['fusion']['weights']}; thresholds: "
        + ", ".join(
            f"{mode} domain>={d['domain_threshold']:.3f} also>={d['also_threshold']:.3f} alone>={d['answer_threshold']:.3f}"
            for mode, d in m["decision"].items()
        )
    )
    users = m["calibration"].get("users", {}).get("hybrid")
    if users:
        print(
            f"[knowledge.build] on the calibration half ({users['in_scope']} in scope, {users['out_of_scope']} out of "
            f"scope): right {users['right']:.3f}, wrong of answered {users['wrong_of_answered']:.3f}, out of scope "
            f"answered {users['out_of_scope_answered']:.3f}"
        )
    cal = m["calibration"]["hybrid"]
    print(
        f"[knowledge.build] calibration (held-out FAQ variants + {m['calibration']['out_of_domain_questions']} "
        f"out-of-domain): top-1 {cal['top1_accuracy_in_domain']:.3f}, answered precision {cal['answered_precision']:.3f}, "
        f"out-of-domain declined {cal['declined_share_out_of_domain']:.3f}"
    )
    print(
        f"[knowledge.build] wrote {final} in {m['build_seconds']['total']} s "
        f"({', '.join(f'{k} {v}s' for k, v in m['build_seconds'].items() if k != 'total')})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
