"""Hybrid fusion and the answer / answer-and-offer-more / decline decision.

Scores are per entry (a FAQ item or a document section): every retriever scores units (a FAQ
question, each variant, the answer, a section's text) and an entry takes the maximum over its
units, so a question phrased like any one variant finds its item.

- Each retriever also scores one pseudo-document per entry (BM25: all its units together; dense:
  the centroid of its unit vectors). BM25 scores are normalised by the question's own IDF weight
  (`BM25Index.normalized_scores`) and capped at 1, dense scores are cosine similarities; all four
  components are on a 0..1 scale and blend linearly (`Fusion`, weights chosen by cross-validation
  on the FAQ variants at build time).
- The decision asks two questions about the best entry, each answered by a logistic regression
  fitted at build time on held-out FAQ variants (cross-validation folds) and the project's own
  out-of-domain questions (knowledge/calibration/): is the question in the domain at all, and is
  the best entry the right one. Three outcomes: answer; answer and offer the next questions
  ("您可能还想问") when moderately sure; decline. The thresholds are chosen on the calibration half
  of the user messages (data/eval/calibration.yml, `choose_thresholds`): the most right answers
  with at most MAX_WRONG of the answers wrong and at most MAX_OUT_OF_SCOPE_ANSWERED of the
  out-of-scope messages answered. Without that file they come from the folds. Nothing is
  trained on the user messages; everything fitted is stored in manifest.json.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

MODES = ("bm25", "dense", "hybrid")
# Features of the best entry (see Retriever.features).
FEATURES = (
    "score",
    "margin",
    "coverage",
    "unknown",
    "bm25_units",
    "bm25_items",
    "dense_units",
    "dense_items",
    "qtype_clash",
    "domain_term",
)

# Targets for choosing thresholds on the fold data (used when there is no calibration half).
ANSWER_PRECISION = 0.95  # of the questions answered directly, at least this share must be right
NEGATIVE_DECLINE = 0.90  # at least this share of the out-of-domain questions must be declined
# On the calibration half, the project's own unrelated questions (knowledge/calibration/: weather,
# football, other certificates) must be declined by the knowledge base alone at least this often.
# End to end NLU's out_of_scope intent declines most of them first, and the knowledge base then
# answers only when all but certain (actions/knowledge.py OUT_OF_SCOPE_OVERRIDE). At 0.9 this bound
# set the thresholds and declined a tenth of the in-scope messages; measured end to end on the
# calibration half (2026-12-03): 0.9 -> right 88.8 %, out of scope declined 97.8 %; 0.8 -> 95.5 %, 97.1 %.
UNRELATED_DECLINE = 0.80
# Targets on the calibration half of the user messages: the product's own (<= 2 % wrong answers,
# >= 95 % of out-of-scope messages declined). Here they hold for the knowledge base alone; end to
# end, NLU's out_of_scope intent declines many unrelated messages before they reach it. With 331
# in-scope and 146 out-of-scope calibration messages (since 2026-12-02) the estimates no longer
# need the margins they had with 154 and 82.
MAX_WRONG = 0.02  # wrong answers / answers
MAX_OUT_OF_SCOPE_ANSWERED = 0.05  # out-of-scope messages answered / out-of-scope messages
SURE_ANSWER = 0.9  # p_answer at which the domain gate no longer declines (calibrated with it)
ALONE_PRECISION = 0.99  # above this precision an answer comes alone, below it with "您可能还想问"


def per_entry_max(unit_scores: np.ndarray, entry_starts: np.ndarray) -> np.ndarray:
    """Maximum of the unit scores of each entry; units of one entry are contiguous."""
    if unit_scores.size == 0:
        return np.zeros(len(entry_starts), dtype=np.float32)
    return np.maximum.reduceat(unit_scores, entry_starts)


@dataclass
class Fusion:
    """How an entry's scores combine (all on 0..1, chosen by cross-validation at build time).

    bm25 = unit_share_bm25 * best unit + (1 - unit_share_bm25) * item document
    dense = unit_share_dense * best unit + (1 - unit_share_dense) * centroid
    hybrid = weight_dense * dense + (1 - weight_dense) * bm25
    and in every mode an entry whose text cannot give the kind of answer asked for (多久 -> no time
    limit in it, knowledge.qtype) loses `qtype_penalty` of its score.
    """

    unit_share_bm25: float = 0.5
    unit_share_dense: float = 0.5
    weight_dense: float = 0.5
    qtype_penalty: float = 0.0

    def bm25(self, s) -> np.ndarray:
        return self.unit_share_bm25 * s.bm25_units + (1.0 - self.unit_share_bm25) * s.bm25_items

    def dense(self, s) -> np.ndarray:
        return self.unit_share_dense * s.dense_units + (1.0 - self.unit_share_dense) * s.dense_items

    def fuse(self, mode: str, s) -> np.ndarray:
        """Entry scores of one retrieval mode; `s` holds the four per-entry component arrays."""
        if mode == "bm25":
            fused = self.bm25(s)
        elif mode == "dense":
            fused = self.dense(s)
        elif mode == "hybrid":
            fused = self.weight_dense * self.dense(s) + (1.0 - self.weight_dense) * self.bm25(s)
        else:
            raise ValueError(f"unknown retrieval mode {mode!r}; expected one of {MODES}")
        clash = getattr(s, "clash", None)
        if clash is not None and self.qtype_penalty:
            fused = fused * (1.0 - self.qtype_penalty * clash)
        return fused

    def to_dict(self) -> dict:
        return asdict(self)


def coverage(query_tokens: list[str], weights: list[float], entry_tokens: set[str] | frozenset[str]) -> float:
    """IDF-weighted share of the question's tokens that occur in the entry."""
    total = sum(weights)
    if total <= 0:
        return 0.0
    return sum(w for t, w in zip(query_tokens, weights) if t in entry_tokens) / total


def unknown_share(query_tokens: list[str], weights: list[float], vocabulary) -> float:
    """IDF-weighted share of the question's tokens that occur nowhere in the knowledge base."""
    total = sum(weights)
    if total <= 0:
        return 1.0
    return sum(w for t, w in zip(query_tokens, weights) if t not in vocabulary) / total


@dataclass
class Logistic:
    """sigmoid(coef . (x - mean) / scale + intercept) over named features."""

    features: list[str]
    coef: list[float]
    intercept: float
    mean: list[float]
    scale: list[float]

    def __call__(self, values: dict[str, float]) -> float:
        z = self.intercept
        for name, c, m, s in zip(self.features, self.coef, self.mean, self.scale):
            z += c * (values[name] - m) / s
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    @classmethod
    def fit(cls, features: list[str], X: np.ndarray, y: np.ndarray) -> Logistic:
        from sklearn.linear_model import LogisticRegression

        X = np.asarray(X, dtype=np.float64)
        mean = X.mean(axis=0)
        scale = X.std(axis=0)
        scale[scale < 1e-9] = 1.0
        lr = LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000)
        lr.fit((X - mean) / scale, np.asarray(y, dtype=int))
        return cls(
            list(features),
            [float(c) for c in lr.coef_[0]],
            float(lr.intercept_[0]),
            [float(m) for m in mean],
            [float(v) for v in scale],
        )


@dataclass
class DecisionModel:
    """Two calibrated questions about the best entry:

    - in domain? p_domain from `domain` (score components, coverage, unknown words): below
      `domain_threshold` the question is declined, unless the best entry is all but certainly
      right (p_answer >= SURE_ANSWER: "该用户不存在 咋整" sounds odd to the domain model, and its
      answer is plain);
    - is the best entry the right one? p_answer from `answer` (score, margin, coverage, question
      type clash): at or above `answer_threshold` it is answered alone, at or above
      `also_threshold` it is answered and the next questions are offered, below it is declined.
    """

    domain: Logistic
    answer: Logistic
    domain_threshold: float
    answer_threshold: float
    also_threshold: float

    def probabilities(self, features: dict[str, float]) -> tuple[float, float]:
        return self.domain(features), self.answer(features)

    def kind(self, p_domain: float, p_answer: float) -> str:
        """ "answer", "answer_also" (answer and offer the next questions) or "decline"."""
        if p_answer < self.also_threshold or (p_domain < self.domain_threshold and p_answer < SURE_ANSWER):
            return "decline"
        return "answer" if p_answer >= self.answer_threshold else "answer_also"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> DecisionModel:
        return cls(
            Logistic(**data["domain"]),
            Logistic(**data["answer"]),
            data["domain_threshold"],
            data["answer_threshold"],
            data["also_threshold"],
        )


# In domain? The retriever's own score components and the word overlap (per mode, so that
# "bm25 alone" decides from BM25 alone). Right entry? The score, its lead, the overlap.
DOMAIN_FEATURES = {
    "bm25": ["bm25_units", "bm25_items", "coverage", "unknown"],
    "dense": ["dense_units", "dense_items", "coverage", "unknown"],
    "hybrid": ["bm25_units", "bm25_items", "dense_units", "dense_items", "coverage", "unknown", "domain_term"],
}
ANSWER_FEATURES = ["score", "margin", "coverage", "qtype_clash", "bm25_units", "dense_units", "unknown"]


def _lowest_threshold_with_precision(p: np.ndarray, y: np.ndarray, precision: float) -> float:
    """The lowest probability t such that the examples with p >= t are right `precision` of the time."""
    order = np.argsort(-p)
    hits = np.cumsum(y[order])
    prec = hits / np.arange(1, len(order) + 1)
    ok = np.where(prec >= precision)[0]
    return float(p[order][ok.max()]) if len(ok) else 1.0


def fit_decision_model(
    mode: str,
    rows: list[dict[str, float]],
    correct: np.ndarray,
    negative: np.ndarray,
    answer_precision: float = ANSWER_PRECISION,
    negative_decline: float = NEGATIVE_DECLINE,
) -> tuple[DecisionModel, dict]:
    """Fit both logistic regressions and choose the thresholds on the calibration questions.

    rows: features of the best entry per question; correct: the best entry is the right one;
    negative: the question is out of domain.
    domain_threshold: the lowest value that still declines `negative_decline` of the
    out-of-domain questions. answer_threshold: the lowest value at which the questions that pass
    the domain gate and are answered directly are right at least `answer_precision` of the time.
    """
    correct = np.asarray(correct, dtype=bool)
    negative = np.asarray(negative, dtype=bool)
    pos = ~negative
    Xd = np.array([[r[f] for f in DOMAIN_FEATURES[mode]] for r in rows])
    Xa = np.array([[r[f] for f in ANSWER_FEATURES] for r in rows])
    domain = Logistic.fit(DOMAIN_FEATURES[mode], Xd, pos)
    answer = Logistic.fit(ANSWER_FEATURES, Xa[pos], correct[pos])
    p_domain = np.array([domain(r) for r in rows])
    p_answer = np.array([answer(r) for r in rows])

    neg_p = np.sort(p_domain[negative])
    if len(neg_p):
        idx = min(len(neg_p) - 1, int(math.ceil(negative_decline * len(neg_p))) - 1)
        domain_threshold = float(np.nextafter(neg_p[idx], 1.0))
    else:
        domain_threshold = 0.5
    gate = p_domain >= domain_threshold  # out-of-domain questions that pass count as wrong answers
    answer_threshold = (
        _lowest_threshold_with_precision(p_answer[gate], correct[gate].astype(int), answer_precision)
        if gate.any()
        else 1.0
    )
    model = DecisionModel(domain, answer, domain_threshold, answer_threshold, answer_threshold)

    kinds = np.array([model.kind(a, b) for a, b in zip(p_domain, p_answer)])
    answered = kinds != "decline"
    report = {
        "questions": int(len(rows)),
        "in_domain": int(pos.sum()),
        "out_of_domain": int(negative.sum()),
        "top1_accuracy_in_domain": float(correct[pos].mean()) if pos.any() else None,
        "answered_share_in_domain": float(answered[pos].mean()) if pos.any() else None,
        "answered_precision": float(correct[answered].mean()) if answered.any() else None,
        "declined_share_in_domain": float((kinds[pos] == "decline").mean()) if pos.any() else None,
        "declined_share_out_of_domain": float((kinds[negative] == "decline").mean()) if negative.any() else None,
    }
    return model, report


def choose_thresholds(
    p_domain: np.ndarray,
    p_answer: np.ndarray,
    answerable: np.ndarray,
    correct: np.ndarray,
    in_scope: np.ndarray,
    max_wrong: float = MAX_WRONG,
    max_out_of_scope: float = MAX_OUT_OF_SCOPE_ANSWERED,
    alone_precision: float = ALONE_PRECISION,
    unrelated: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> tuple[float, float, float, dict]:
    """(domain_threshold, also_threshold, answer_threshold, report) from labelled user messages.

    answerable: the best entry is a FAQ item (a gap or nothing is declined whatever the scores);
    correct: it is one the message expects; in_scope: the message has an answer in the material.
    The pair (domain, also) gives the most right answers with wrong answers <= max_wrong of the
    answers and out-of-scope answers <= max_out_of_scope of the out-of-scope messages, and of the
    project's own unrelated questions (`unrelated`: their p_domain, p_answer, answerable; weather,
    football, other certificates) answered <= 1 - UNRELATED_DECLINE of them (end to end, NLU's
    out_of_scope intent declines most of those first); ties go to the higher thresholds. answer_threshold: the lowest value >= also_threshold above which the
    answers are right at least `alone_precision` of the time (1.0 if none: always offer more)."""
    p_domain, p_answer = np.asarray(p_domain, float), np.asarray(p_answer, float)
    answerable, correct, in_scope = (np.asarray(a, bool) for a in (answerable, correct, in_scope))
    n_oos = int((~in_scope).sum())
    u_domain, u_answer, u_answerable = (
        (np.asarray(a) for a in unrelated) if unrelated is not None else (np.zeros(0), np.zeros(0), np.zeros(0, bool))
    )
    u_answerable = u_answerable.astype(bool)
    domain_grid = np.unique(np.r_[0.0, p_domain[answerable]])
    also_grid = np.unique(np.r_[0.0, p_answer[answerable]])
    best = None  # (right, domain_threshold, also_threshold)
    for td in domain_grid:
        base = answerable & ((p_domain >= td) | (p_answer >= SURE_ANSWER))
        # answered(ta) for every ta at once: rows x thresholds
        answered = base[:, None] & (p_answer[:, None] >= also_grid[None, :])
        right = (answered & (in_scope & correct)[:, None]).sum(axis=0)
        wrong = (answered & (in_scope & ~correct)[:, None]).sum(axis=0)
        oos = (answered & ~in_scope[:, None]).sum(axis=0)
        u_base = u_answerable & ((u_domain >= td) | (u_answer >= SURE_ANSWER))
        u_oos = (u_base[:, None] & (u_answer[:, None] >= also_grid[None, :])).sum(axis=0)
        ok = (
            (wrong <= max_wrong * (right + wrong))
            & (oos <= max_out_of_scope * max(n_oos, 1))
            & (u_oos <= (1.0 - UNRELATED_DECLINE) * len(u_domain))
        )
        for j in np.flatnonzero(ok):
            key = (int(right[j]), float(td), float(also_grid[j]))
            if best is None or key > best:
                best = key
    if best is None:
        td, ta = 1.0, 1.0
    else:
        _, td, ta = best
    answered = answerable & ((p_domain >= td) | (p_answer >= SURE_ANSWER)) & (p_answer >= ta)
    sure = answered & in_scope
    t_alone = 1.0
    if sure.any():
        t_alone = max(ta, _lowest_threshold_with_precision(p_answer[sure], correct[sure].astype(int), alone_precision))
    ins = in_scope.sum()
    report = {
        "messages": int(len(p_answer)),
        "in_scope": int(ins),
        "out_of_scope": n_oos,
        "right": round(float((answered & in_scope & correct).sum() / max(ins, 1)), 4),
        "wrong_of_answered": round(
            float((answered & in_scope & ~correct).sum() / max((answered & in_scope).sum(), 1)), 4
        ),
        "out_of_scope_answered": round(float((answered & ~in_scope).sum() / max(n_oos, 1)), 4),
        "answered_alone": round(float((answered & in_scope & (p_answer >= t_alone)).sum() / max(ins, 1)), 4),
        "targets": {
            "max_wrong": max_wrong,
            "max_out_of_scope_answered": max_out_of_scope,
            "alone_precision": alone_precision,
        },
    }
    return float(td), float(ta), float(t_alone), report
