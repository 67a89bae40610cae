"""Group the questions the assistant could not answer by what they ask, so that each group is one
FAQ item's worth of variants (staff see each gap once, with a count).

Two questions ask the same thing when the knowledge base reads them alike and they share words:

    similarity = TOPIC_WEIGHT * topic + (1 - TOPIC_WEIGHT) * words

- topic: cosine of their *readings*, the knowledge engine's best entries (FAQ items, gaps, document
  sections) with their fused BM25 + sentence-encoder scores, stored with the question when it was
  declined (bot/unanswered_store.py); raised to TOPIC_SHARPNESS so that the best entries dominate.
- words: cosine of their retrieval tokens (the project's jieba tokeniser, as stored), each token
  weighted by its IDF in the knowledge base (a word every FAQ item uses, 注册 or 二建, says little;
  one the material lacks, 挂失 or 发票, says much); single characters count CHAR_WEIGHT as much.

Greedy single pass over the rows, oldest first: a row joins the group whose first question (its
leader) is most similar, if at least SIMILAR, else it starts a group. Oldest first keeps a group's
leader, and so its id, the same while new questions join it. The weights and SIMILAR were chosen on
the tuning half of data/eval/unanswered_groups.yml; `make eval-unanswered` reports purity on the
other half and the time for 20,000 rows.

Without the knowledge index (no readings, no IDF) rows are grouped by token overlap alone
(`group_by_words`, Jaccard with prefix filtering), as before the readings existed.
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

TOPIC_WEIGHT = 0.7
TOPIC_SHARPNESS = 4
CHAR_WEIGHT = 0.3
SIMILAR = 0.62  # chosen on the tuning half (make eval-unanswered prints the choice)
WORDS_SIMILAR = 0.5  # the token-only fallback: Jaccard overlap above which two questions are one gap


@dataclass
class Row:
    """One stored question (bot/models.py Unanswered)."""

    id: int
    key: str | None  # the normalised question's hash (NULL for rows stored before migration 0003)
    question: str
    asks: int
    first_seen: datetime
    last_seen: datetime
    sender: str | None
    tokens: list[str]
    reading: dict[str, float] | None = None  # entry id -> fused score; None: never read


@dataclass
class Group:
    id: str
    rows: list[Row] = field(default_factory=list)

    @property
    def questions(self) -> list[str]:
        """Every wording, the most asked first."""
        return [r.question for r in sorted(self.rows, key=lambda r: (-r.asks, r.first_seen, r.id))]

    @property
    def count(self) -> int:
        return sum(r.asks for r in self.rows)

    @property
    def first_seen(self) -> datetime:
        return min(r.first_seen for r in self.rows)

    @property
    def last_seen(self) -> datetime:
        return max(r.last_seen for r in self.rows)

    @property
    def sender(self) -> str | None:
        """The most recent asker, to open a transcript."""
        return max(self.rows, key=lambda r: (r.last_seen, r.id)).sender

    def nearest_faq(self) -> tuple[str, float] | None:
        """The FAQ item the group's questions read closest to: (faq id, mean fused score over the
        questions, weighted by how often each was asked); None when no reading names a FAQ item."""
        total: dict[str, float] = defaultdict(float)
        weight = sum(r.asks for r in self.rows)
        for r in self.rows:
            for entry, score in (r.reading or {}).items():
                if entry.startswith("faq:"):
                    total[entry[4:]] += score * r.asks
        if not total:
            return None
        faq_id = max(total, key=lambda k: (total[k], k))
        return faq_id, total[faq_id] / weight


def reading_of(hits) -> dict[str, float]:
    """What the store keeps of the knowledge engine's decision: its best entries and their scores."""
    return {hit.id: hit.score for hit in hits}


def group_id(row: Row) -> str:
    """A group is named after its leader: the same group has the same id on every call."""
    return "g" + hashlib.sha256((row.key or f"row:{row.id}").encode()).hexdigest()[:12]


def _ordered(rows: list[Row]) -> list[Row]:
    return sorted(rows, key=lambda r: (r.first_seen, r.id))


def _sorted_groups(groups: list[Group]) -> list[Group]:
    return sorted(groups, key=lambda g: (-g.count, -g.last_seen.timestamp(), g.id))


# ---------------------------------------------------------------------------------------------
# By meaning: readings and weighted words
# ---------------------------------------------------------------------------------------------


def _unit(weights: dict[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(w * w for w in weights.values()))
    return {k: w / norm for k, w in weights.items()} if norm else {}


def topic_vector(reading: dict[str, float] | None) -> dict[str, float]:
    return _unit({entry: max(score, 0.0) ** TOPIC_SHARPNESS for entry, score in (reading or {}).items()})


def word_vector(tokens: list[str], idf: Callable[[str], float]) -> dict[str, float]:
    return _unit({t: idf(t) * (CHAR_WEIGHT if len(t) == 1 else 1.0) for t in dict.fromkeys(tokens)})


def _dot(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(w * b.get(k, 0.0) for k, w in a.items())


def similarity(a: Row, b: Row, idf: Callable[[str], float]) -> float:
    """The score the grouping compares with SIMILAR (for tests and the evaluation)."""
    return TOPIC_WEIGHT * _dot(topic_vector(a.reading), topic_vector(b.reading)) + (1 - TOPIC_WEIGHT) * _dot(
        word_vector(a.tokens, idf), word_vector(b.tokens, idf)
    )


def _topic_prefix(vector: dict[str, float], floor: float) -> list[str]:
    """The strongest entries of a reading, enough that the rest cannot reach `floor`: by
    Cauchy-Schwarz, a reading that shares none of them has topic cosine below `floor` with it.
    Only leaders met through these entries need comparing (20,000 rows in well under a second)."""
    ordered = sorted(vector, key=lambda k: (-vector[k], k))
    rest = sum(w * w for w in vector.values())
    prefix = []
    for entry in ordered:
        if math.sqrt(max(rest, 0.0)) < floor:
            break
        prefix.append(entry)
        rest -= vector[entry] ** 2
    return prefix


def group_by_meaning(rows: list[Row], idf: Callable[[str], float], threshold: float = SIMILAR) -> list[Group]:
    """Rows that all have a reading, grouped by similarity; most asked groups first."""
    # A pair reaches `threshold` only if its topic cosine is at least this (words at most 1).
    floor = (threshold - (1 - TOPIC_WEIGHT)) / TOPIC_WEIGHT
    ordered = _ordered(rows)
    entries = sorted({e for r in ordered for e in (r.reading or {})})
    column = {e: i for i, e in enumerate(entries)}
    topics = np.zeros((len(ordered), max(1, len(entries))))
    for i, r in enumerate(ordered):
        for e, w in topic_vector(r.reading).items():
            topics[i, column[e]] = w
    words = [word_vector(r.tokens, idf) for r in ordered]

    groups: list[Group] = []
    leaders = np.zeros(len(ordered), dtype=np.int64)  # row index of each group's leader
    by_entry: dict[str, list[int]] = defaultdict(list)  # entry -> groups whose leader reads it
    for i, row in enumerate(ordered):
        if floor > 0:
            found = {g for e in _topic_prefix(topic_vector(row.reading), floor) for g in by_entry.get(e, ())}
            candidates = np.fromiter(sorted(found), dtype=np.int64, count=len(found))
        else:  # a threshold this low lets words alone join two questions: compare every leader
            candidates = np.arange(len(groups))
        best, best_score = None, -1.0
        if len(candidates):
            topic = topics[leaders[candidates]] @ topics[i]
            # Words add at most (1 - TOPIC_WEIGHT): only leaders that could still reach the
            # threshold are compared word by word.
            hopeful = TOPIC_WEIGHT * topic + (1 - TOPIC_WEIGHT) >= threshold
            for g, t in zip(candidates[hopeful], topic[hopeful]):
                score = TOPIC_WEIGHT * float(t) + (1 - TOPIC_WEIGHT) * _dot(words[i], words[leaders[g]])
                if score >= threshold and score > best_score:
                    best, best_score = int(g), score
        if best is None:
            best = len(groups)
            groups.append(Group(group_id(row)))
            leaders[best] = i
            for e in row.reading or {}:
                by_entry[e].append(best)
        groups[best].rows.append(row)
    return _sorted_groups(groups)


# ---------------------------------------------------------------------------------------------
# By words only (no knowledge index)
# ---------------------------------------------------------------------------------------------


def _prefix(toks: set[str]) -> list[str]:
    """Prefix filtering: two token sets with Jaccard overlap >= WORDS_SIMILAR share a token among
    their prefixes (the first n - ceil(WORDS_SIMILAR * n) + 1 tokens in one fixed order), so only
    groups met there need comparing; without it 20,000 rows took seconds. Words before single
    characters: they are rarer, which keeps the candidate lists short."""
    ordered = sorted(toks, key=lambda t: (len(t) == 1, t))
    return ordered[: len(ordered) - math.ceil(WORDS_SIMILAR * len(ordered)) + 1]


def group_by_words(rows: list[Row]) -> list[Group]:
    """Greedy single pass, oldest first, by Jaccard overlap of tokens with each group's leader."""
    groups: list[Group] = []
    leader_tokens: list[set[str]] = []
    by_prefix: dict[str, list[int]] = {}  # token -> groups with that token in their prefix
    for row in _ordered(rows):
        toks = set(row.tokens) or {row.question}
        prefix = _prefix(toks)
        best, best_score = None, 0.0
        for g in sorted({g for t in prefix for g in by_prefix.get(t, ())}):
            score = len(toks & leader_tokens[g]) / len(toks | leader_tokens[g])
            if score > best_score:
                best, best_score = g, score
        if best is None or best_score < WORDS_SIMILAR:
            best = len(groups)
            for t in prefix:
                by_prefix.setdefault(t, []).append(best)
            groups.append(Group(group_id(row)))
            leader_tokens.append(toks)
        groups[best].rows.append(row)
    return _sorted_groups(groups)
