"""Group the questions the assistant could not answer, so staff see each gap once with a count."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from knowledge.textnorm import normalize_query
from knowledge.tokenize import tokens

SIMILAR = 0.5  # Jaccard overlap of normalised tokens above which two questions are one gap


@dataclass
class Group:
    questions: list[str] = field(default_factory=list)
    count: int = 0
    last_seen: datetime | None = None
    sender: str | None = None  # the most recent asker, to open a transcript
    _tokens: set[str] = field(default_factory=set)


def _prefix(toks: set[str]) -> list[str]:
    """Prefix filtering: two token sets with Jaccard overlap >= SIMILAR share a token among their
    prefixes (the first n - ceil(SIMILAR * n) + 1 tokens in one fixed order), so only groups met
    there need comparing; without it 20,000 rows took seconds. Words before single characters: they
    are rarer, which keeps the candidate lists short."""
    ordered = sorted(toks, key=lambda t: (len(t) == 1, t))
    return ordered[: len(ordered) - math.ceil(SIMILAR * len(ordered)) + 1]


def group_questions(rows: list[tuple], max_examples: int = 5) -> list[Group]:
    """rows: (question, last_seen, sender[, asks, tokens]), newest first; `asks` counts the row that
    many times, `tokens` (space-separated, as the store keeps them) saves normalising the question
    again. Greedy single pass; most frequent first."""
    groups: list[Group] = []
    by_prefix: dict[str, list[int]] = {}  # token -> groups with that token in their prefix
    for question, created_at, sender, *stored in rows:
        asks = stored[0] if stored else 1
        stored_tokens = stored[1] if len(stored) > 1 else None
        toks = (set(stored_tokens.split()) if stored_tokens else set(tokens(normalize_query(question)))) or {question}
        prefix = _prefix(toks)
        best, best_score = None, 0.0
        for g in sorted({g for t in prefix for g in by_prefix.get(t, ())}):
            group = groups[g]
            score = len(toks & group._tokens) / len(toks | group._tokens)
            if score > best_score:
                best, best_score = group, score
        if best is None or best_score < SIMILAR:
            best = Group(_tokens=toks)
            for t in prefix:
                by_prefix.setdefault(t, []).append(len(groups))
            groups.append(best)
        best.count += asks or 1
        if question not in best.questions and len(best.questions) < max_examples:
            best.questions.append(question)
        if best.last_seen is None or created_at > best.last_seen:
            best.last_seen, best.sender = created_at, sender
    return sorted(groups, key=lambda g: (-g.count, g.questions[0]))
