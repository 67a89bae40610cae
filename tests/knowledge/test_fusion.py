"""Per-entry aggregation, the blend, and the calibrated decision."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from knowledge.fusion import (
    SURE_ANSWER,
    DecisionModel,
    Fusion,
    choose_thresholds,
    coverage,
    fit_decision_model,
    per_entry_max,
    unknown_share,
)


def test_an_entry_scores_its_best_unit():
    unit_scores = np.array([0.1, 0.9, 0.2, 0.3, 0.4], dtype=np.float32)
    starts = np.array([0, 3])  # entry 0 = units 0-2, entry 1 = units 3-4
    assert per_entry_max(unit_scores, starts).tolist() == pytest.approx([0.9, 0.4])


def test_fusion_modes_use_their_own_components():
    s = SimpleNamespace(
        bm25_units=np.array([1.0, 0.0]),
        bm25_items=np.array([0.0, 0.0]),
        dense_units=np.array([0.0, 1.0]),
        dense_items=np.array([0.0, 1.0]),
    )
    f = Fusion(unit_share_bm25=0.5, unit_share_dense=0.5, weight_dense=0.25)
    assert f.fuse("bm25", s).tolist() == [0.5, 0.0]
    assert f.fuse("dense", s).tolist() == [0.0, 1.0]
    assert f.fuse("hybrid", s).tolist() == pytest.approx([0.375, 0.25])
    with pytest.raises(ValueError):
        f.fuse("rrf", s)


def test_coverage_and_unknown_words_are_idf_weighted():
    words, weights = ["证件照", "的", "下雨"], [3.0, 0.0, 1.0]
    assert coverage(words, weights, {"证件照"}) == pytest.approx(0.75)
    assert unknown_share(words, weights, {"证件照", "的"}) == pytest.approx(0.25)


def test_decision_model_is_fitted_to_the_targets_and_round_trips():
    rng = np.random.default_rng(0)
    rows, correct, negative = [], [], []
    for _ in range(300):  # in domain: high scores, mostly right
        s = rng.uniform(0.5, 1.0)
        rows.append(
            dict(
                score=s,
                margin=rng.uniform(0, 0.4),
                coverage=rng.uniform(0.5, 1),
                unknown=rng.uniform(0, 0.3),
                bm25_units=s,
                bm25_items=s,
                dense_units=s,
                dense_items=s,
                qtype_clash=0.0,
                domain_term=1.0,
            )
        )
        correct.append(rng.uniform() < s)
        negative.append(False)
    for _ in range(100):  # out of domain: low scores, unknown words
        s = rng.uniform(0.0, 0.6)
        rows.append(
            dict(
                score=s,
                margin=rng.uniform(0, 0.1),
                coverage=rng.uniform(0, 0.5),
                unknown=rng.uniform(0.3, 1),
                bm25_units=s,
                bm25_items=s,
                dense_units=s,
                dense_items=s,
                qtype_clash=float(rng.uniform() < 0.5),
                domain_term=float(rng.uniform() < 0.3),
            )
        )
        correct.append(False)
        negative.append(True)
    model, report = fit_decision_model(
        "hybrid", rows, np.array(correct), np.array(negative), answer_precision=0.9, negative_decline=0.9
    )
    assert report["declined_share_out_of_domain"] >= 0.9
    assert report["answered_precision"] >= 0.9
    again = DecisionModel.from_dict(model.to_dict())
    assert again.probabilities(rows[0]) == pytest.approx(model.probabilities(rows[0]))
    assert model.kind(0.0, SURE_ANSWER - 0.01) == "decline"  # out of domain beats a fair match
    assert model.kind(0.0, SURE_ANSWER) != "decline"  # but not one that is all but certainly right
    assert model.kind(1.0, 1.0) == "answer"
    assert model.kind(1.0, 0.0) == "decline"
    between = DecisionModel(model.domain, model.answer, 0.5, answer_threshold=0.8, also_threshold=0.4)
    assert between.kind(0.9, 0.6) == "answer_also"  # moderately sure: answer and offer the next questions


def test_thresholds_on_user_messages_keep_wrong_answers_and_answered_out_of_scope_under_the_targets():
    rng = np.random.default_rng(1)
    n_in, n_out = 400, 150
    p_answer = np.r_[rng.uniform(0, 1, n_in), rng.uniform(0, 0.5, n_out)]
    p_domain = np.r_[rng.uniform(0.3, 1, n_in), rng.uniform(0, 0.5, n_out)]
    # sure answers are nearly always right, unsure ones seldom
    correct = np.r_[rng.uniform(0, 1, n_in) < np.where(p_answer[:n_in] > 0.4, 0.99, 0.3), np.zeros(n_out, bool)]
    in_scope = np.r_[np.ones(n_in, bool), np.zeros(n_out, bool)]
    answerable = np.ones(n_in + n_out, bool)
    td, ta, alone, report = choose_thresholds(
        p_domain, p_answer, answerable, correct, in_scope, max_wrong=0.05, max_out_of_scope=0.02
    )
    answered = (p_domain >= td) & (p_answer >= ta)
    wrong = (answered & in_scope & ~correct).sum() / max((answered & in_scope).sum(), 1)
    assert wrong <= 0.05 and (answered & ~in_scope).sum() <= 0.02 * n_out
    assert report["right"] > 0.3, "it still answers a good share"
    assert ta <= alone <= 1.0
    # a looser target never answers fewer messages right
    assert (
        choose_thresholds(p_domain, p_answer, answerable, correct, in_scope, max_wrong=0.2, max_out_of_scope=0.1)[3][
            "right"
        ]
        >= report["right"]
    )


def test_a_gap_or_an_empty_match_is_never_counted_as_answered():
    p = np.array([0.9, 0.9])
    td, ta, alone, report = choose_thresholds(
        p, p, np.array([False, False]), np.array([False, False]), np.array([True, False])
    )
    assert report["right"] == 0.0 and report["out_of_scope_answered"] == 0.0
