"""Scoring one reply the way its user would, and summing a set up.

In scope (faq, course):
- right: the reply's text holds every `must` string and one `any` string (for the dev set, which
  has no strings: it answers with an expected item);
- wrong: it states an answer (or starts a form) and is not right;
- offered: no answer, but an expected item is among the questions offered as buttons;
- dead end: no answer and nothing useful offered.
Out of scope (unanswerable, unrelated): right when the reply states no answer, starts no form and
states no figure of three or more digits that the user did not write. Chitchat: no answer, no form.
Every reply: figures of two or more digits that the source material does not hold ("ungrounded").
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

import numpy as np

from knowledge.labelled import Message
from scripts.evaluation.replies import Reply

OUTCOMES_IN_SCOPE = ("right", "wrong", "offered", "dead_end")


@dataclass
class Scored:
    message: Message
    outcome: str  # right | wrong | offered | dead_end (in scope); declined | answered (out of scope, chitchat); error
    answered_items: list[str]
    offered_items: list[str]
    ungrounded: list[str]
    reply: str
    ms: float
    status: int | str = 200
    asks: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.outcome in ("right", "declined")

    def to_dict(self) -> dict:
        m = self.message
        return {
            "text": m.text,
            "kind": m.kind,
            "shape": m.shape,
            "sections": m.sections,
            "expected": m.expected,
            "must": m.must,
            "any": m.any,
            "gap": m.gap,
            "writer": m.writer,
            "satisfiable": m.satisfiable,
            "outcome": self.outcome,
            "ok": self.ok,
            "answered_items": self.answered_items,
            "offered_items": self.offered_items,
            "asks": self.asks,
            "ungrounded": self.ungrounded,
            "reply": self.reply[:400],
            "ms": round(self.ms, 1),
            "status": self.status,
        }


def score(message: Message, reply: Reply, source_text: str, ms: float = 0.0, status: int | str = 200) -> Scored:
    asks = sorted(reply.asks)
    answered = reply.answered_items
    offered = reply.offered_items
    ungrounded = reply.ungrounded_figures(source_text, message.text)
    if status != 200:  # the user saw an error, whatever the message was
        return Scored(message, "error", answered, offered, ungrounded, reply.text, ms, status, asks)
    if message.in_scope:
        if message.must or message.any:
            right = reply.holds(message.must, message.any)
        else:
            right = any(fid in message.expected for fid in answered)
        if right:
            outcome = "right"
        elif reply.answered or asks:
            outcome = "wrong"
        elif any(fid in message.expected for fid in offered):
            outcome = "offered"
        else:
            outcome = "dead_end"
    else:
        big = reply.ungrounded_figures("", message.text, min_digits=3)  # any figure the user did not write
        outcome = "answered" if (reply.answered or asks or big) else "declined"
    return Scored(message, outcome, answered, offered, ungrounded, reply.text, ms, status, asks)


def _share(items, pred) -> float | None:
    items = list(items)
    return round(sum(1 for x in items if pred(x)) / len(items), 4) if items else None


def summarize(rows: list[Scored]) -> dict:
    ins = [r for r in rows if r.message.in_scope]
    oos = [r for r in rows if r.message.kind in ("unanswerable", "unrelated")]
    answered = [r for r in ins if r.outcome in ("right", "wrong")]
    ms = [r.ms for r in rows]
    return {
        "messages": len(rows),
        "in_scope": len(ins),
        "out_of_scope": len(oos),
        "right": _share(ins, lambda r: r.outcome == "right"),
        "wrong": _share(ins, lambda r: r.outcome == "wrong"),
        "wrong_of_answered": _share(answered, lambda r: r.outcome == "wrong"),
        "offered": _share(ins, lambda r: r.outcome == "offered"),
        "dead_end": _share(ins, lambda r: r.outcome == "dead_end"),
        "out_of_scope_declined": _share(oos, lambda r: r.outcome == "declined"),
        "unanswerable_declined": _share(
            [r for r in oos if r.message.kind == "unanswerable"], lambda r: r.outcome == "declined"
        ),
        "unrelated_declined": _share(
            [r for r in oos if r.message.kind == "unrelated"], lambda r: r.outcome == "declined"
        ),
        "chitchat_ok": _share([r for r in rows if r.message.kind == "chitchat"], lambda r: r.outcome == "declined"),
        "replies_with_ungrounded_figures": sum(1 for r in rows if r.ungrounded),
        "unsatisfiable_labels": sum(1 for r in ins if not r.message.satisfiable),
        "http_errors": sum(1 for r in rows if r.status != 200),
        "latency_ms_p50": round(float(np.percentile(ms, 50)), 1) if ms else None,
        "latency_ms_p95": round(float(np.percentile(ms, 95)), 1) if ms else None,
    }


def by(rows: list[Scored], key) -> dict[str, dict]:
    """Summaries per group (shape, kind, expected item ...); `key` returns one or several groups."""
    groups: dict[str, list[Scored]] = defaultdict(list)
    for r in rows:
        keys = key(r)
        for k in [keys] if isinstance(keys, str) else keys:
            groups[k].append(r)
    return {k: summarize(v) for k, v in sorted(groups.items())}


def confusion(rows: list[Scored]) -> list[tuple[str, str, int]]:
    """(expected item, what was answered instead, count) for the wrong answers, most frequent first."""
    pairs: Counter = Counter()
    for r in rows:
        if r.outcome == "wrong":
            got = ",".join(r.answered_items) or ("form:" + ",".join(r.asks) if r.asks else "other")
            pairs[("/".join(r.message.expected) or "?", got)] += 1
        elif r.outcome == "answered":
            got = ",".join(r.answered_items) or ("form:" + ",".join(r.asks) if r.asks else "figures")
            pairs[(f"({r.message.kind})", got)] += 1
    return [(e, g, n) for (e, g), n in pairs.most_common()]
