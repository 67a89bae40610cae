"""What `python -m knowledge.build` leaves behind."""

from __future__ import annotations

import json

from knowledge.build import Builder
from knowledge.corpus import data_hash
from knowledge.dense import PROJECT_MODEL
from knowledge.engine import resolve_index_dir


def test_the_index_is_versioned_and_pointed_at(index_dir):
    version = resolve_index_dir(index_dir)
    assert version.parent == index_dir
    assert (index_dir / "current").read_text().strip() == version.name
    for name in (
        "manifest.json",
        "entries.json",
        "unit_entry.npy",
        "dense_units.faiss",
        "dense_items.faiss",
        "bm25_units",
        "bm25_items",
        "model",
    ):
        assert (version / name).exists(), name
    assert not [p for p in index_dir.iterdir() if p.name.startswith(".build-")]


def test_the_manifest_records_model_data_and_calibration(index_dir):
    m = json.loads((resolve_index_dir(index_dir) / "manifest.json").read_text())
    assert m["model"]["name"] == PROJECT_MODEL
    assert m["data_hash"] == data_hash()
    assert "knowledge/calibration/out_of_domain.yml" in m["files"]
    # The calibration half chooses the thresholds; the test half and the dev set are never inputs.
    assert "data/eval/calibration.yml" in m["files"]
    assert not [f for f in m["files"] if f.endswith(("test.yml", "dev.yml"))]
    assert m["built_at"] and m["build_seconds"]["total"] > 0
    for mode in ("bm25", "dense", "hybrid"):
        d = m["decision"][mode]
        assert 0 <= d["domain_threshold"] < 1 and 0 < d["also_threshold"] <= d["answer_threshold"] <= 1
        users = m["calibration"]["users"][mode]
        # The thresholds meet their targets on the calibration half they were chosen on.
        assert users["wrong_of_answered"] <= users["targets"]["max_wrong"]
        assert users["out_of_scope_answered"] <= users["targets"]["max_out_of_scope_answered"]
        assert users["right"] > 0.5
    assert 0.0 <= m["fusion"]["weights"]["weight_dense"] <= 1.0


def test_calibration_folds_hold_out_every_variant_and_gap_question_once():
    """The user-style messages of data/train/ too: each is asked once by a fold that lacks it."""
    b = Builder(folds=5)
    b.prepare()
    folds = b.fold_plan()
    held = [u for fold in folds for u in fold]
    every = sum(len(item.variants) + len(item.written) for item in b.corpus.faq.values()) + sum(
        len(g.questions) + len(g.written) for g in b.corpus.gaps.values()
    )
    assert any(item.written for item in b.corpus.faq.values())
    assert len(held) == len(set(held)) == every
    assert max(map(len, folds)) - min(map(len, folds)) <= 1
