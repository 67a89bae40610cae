"""Labelled user messages (the evaluation sets), in one shape.

knowledge/build.py reads the calibration half to choose the decision thresholds; scripts/evaluate.py
scores all three sets.

- `data/eval/test.yml` and `data/eval/calibration.yml`: user messages written by people who never
  saw data/faq/, from the source document and a persona brief only (see the files' headers). Each
  message says what a right reply must contain (`must`: every string; `any`: one of them), copied
  from the source, and where in the source the answer is (`section`, a label of
  data/eval/sections.yml). Neither half is ever trained on; the calibration half chooses the
  decision thresholds (knowledge/build.py), the test half is only scored.
- `data/eval/dev.yml`: the older set, labelled with FAQ ids (`expected`).

A message expects the FAQ items of its section(s) whose answers hold its `must` strings; when no
answer of the section holds them, it expects the whole section (`satisfiable` is then False: the
label asks for a fact no answer states).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

IN_SCOPE = ("faq", "course")
OUT_OF_SCOPE = ("unanswerable", "unrelated")
KINDS = IN_SCOPE + OUT_OF_SCOPE + ("chitchat",)


def squash(text: str) -> str:
    """Text without whitespace, lower case: what `must` strings are looked for in."""
    return re.sub(r"\s+", "", text or "").lower()


@dataclass
class Message:
    text: str
    kind: str
    shape: str = ""
    sections: list[str] = field(default_factory=list)
    must: list[str] = field(default_factory=list)
    any: list[str] = field(default_factory=list)
    gap: str = ""
    writer: str = ""
    expected: list[str] = field(default_factory=list)  # FAQ ids a right answer comes from
    satisfiable: bool = True  # some expected answer holds every `must` string

    @property
    def in_scope(self) -> bool:
        return self.kind in IN_SCOPE


def load_section_map(path: Path) -> dict[str, list[str]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(k): [str(v) for v in (vals or [])] for k, vals in (data.get("sections") or {}).items()}


def holds(text: str, must: list[str], any_of: list[str]) -> bool:
    flat = squash(text)
    return all(squash(m) in flat for m in must) and (not any_of or any(squash(a) in flat for a in any_of))


def resolve_expected(message: Message, sections: dict[str, list[str]], answers: dict[str, str]) -> None:
    """Fill `expected` and `satisfiable` from the section labels and the FAQ answers."""
    candidates = [fid for label in message.sections for fid in sections.get(label, [])]
    candidates = list(dict.fromkeys(c for c in candidates if c in answers))
    if not message.in_scope or not candidates:
        message.expected = candidates
        return
    if len(message.sections) > 1:  # several questions: the must strings are spread over the items
        joined = "\n".join(answers[c] for c in candidates)
        message.satisfiable = holds(joined, message.must, message.any)
        message.expected = candidates
        return
    holding = [c for c in candidates if holds(answers[c], message.must, message.any)]
    message.satisfiable = bool(holding)
    message.expected = holding or candidates


def load_messages(path: Path, sections: dict[str, list[str]], answers: dict[str, str]) -> list[Message]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out = []
    for raw in data.get("messages") or []:
        section = raw.get("section")
        labels = [str(s) for s in section] if isinstance(section, list) else ([str(section)] if section else [])
        m = Message(
            text=str(raw["text"]),
            kind=str(raw["kind"]),
            shape=str(raw.get("shape") or ""),
            sections=labels,
            must=[str(s) for s in raw.get("must") or []],
            any=[str(s) for s in raw.get("any") or []],
            gap=str(raw.get("gap") or ""),
            writer=str(raw.get("writer") or ""),
        )
        if m.kind not in KINDS:
            raise ValueError(f"{path}: unknown kind {m.kind!r} for {m.text!r}")
        resolve_expected(m, sections, answers)
        out.append(m)
    return out


def load_dev(path: Path, answers: dict[str, str]) -> list[Message]:
    """The dev set: FAQ ids as labels; a right reply is the expected item's answer."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out = []
    for raw in data.get("questions") or []:
        expected = raw.get("expected")
        if expected:
            out.append(
                Message(
                    text=str(raw["q"]),
                    kind="faq",
                    shape="dev",
                    expected=[str(expected)],
                    satisfiable=str(expected) in answers,
                )
            )
        else:
            out.append(Message(text=str(raw["q"]), kind="unanswerable", shape="dev"))
    return out
