"""Merge writers' user-style messages into data/train/user_style.yml (training data).

    python -m scripts.written_messages --index var/index WRITER.yml [WRITER.yml ...]

A writer (a helper with a fresh context, the source document, a persona brief and the section
labels; never data/faq/, data/nlu/ or data/eval/) labels each message with a `section` label of
data/eval/sections.yml, a `gap` id of data/faq/gaps.yml (`none`: the material lacks it, no gap
says so) or `kind: unrelated`. Here:
- a section with one FAQ item gives that item; a section with several (变更单位与注销) gives the
  one of them the knowledge engine ranks highest for the message;
- `gap: none` and unrelated messages become out-of-domain messages;
- a message that is a near copy of an evaluation message (either half or dev) is dropped, so the
  training data never holds what is scored;
- multi-question messages are left out (an item's variants ask one thing).
The file is rewritten whole, sorted, with the messages already in it kept.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from knowledge.corpus import WRITTEN_FILE
from knowledge.labelled import load_section_map, squash
from knowledge.paths import ROOT

NEAR_COPY = 0.8  # Jaccard similarity of character bigrams at which two messages are one


def bigrams(text: str) -> set[str]:
    s = squash(text)
    return {s[i : i + 2] for i in range(len(s) - 1)} or {s}


def near_copy(a: set[str], b: set[str]) -> bool:
    return len(a & b) / max(1, len(a | b)) >= NEAR_COPY


def evaluation_texts(root: Path) -> list[set[str]]:
    out = []
    for name in ("test.yml", "calibration.yml", "dev.yml"):
        path = root / "data" / "eval" / name
        if path.is_file():
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            rows = data.get("messages") or data.get("questions") or []
            out += [bigrams(str(m.get("text") or m.get("q") or "")) for m in rows]
    return out


def choose_item(engine, text: str, candidates: list[str]) -> str:
    """The candidate item the engine ranks highest for `text` (the first when none is ranked)."""
    if len(candidates) == 1 or engine is None:
        return candidates[0]
    ranked = [h.faq_id for h in engine.search(text, k=30) if h.faq_id in candidates]
    return ranked[0] if ranked else candidates[0]


def merge(writer_files: list[Path], root: Path, engine) -> tuple[dict, dict]:
    path = root / WRITTEN_FILE
    current = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else {}
    items = {k: list(v) for k, v in (current.get("items") or {}).items()}
    gaps = {k: list(v) for k, v in (current.get("gaps") or {}).items()}
    out_of_domain = list(current.get("out_of_domain") or [])
    sections = load_section_map(root / "data" / "eval" / "sections.yml")
    scored = evaluation_texts(root)
    counts = {"items": 0, "gaps": 0, "out_of_domain": 0, "near_copy": 0, "skipped": 0}
    for wf in writer_files:
        for m in (yaml.safe_load(wf.read_text(encoding="utf-8")) or {}).get("messages") or []:
            text = " ".join(str(m.get("text") or "").split())
            section, gap = m.get("section"), m.get("gap")
            if not text or isinstance(section, list) or (section and section not in sections):
                counts["skipped"] += 1
                continue
            pairs = bigrams(text)
            if any(near_copy(pairs, other) for other in scored):
                counts["near_copy"] += 1
                continue
            if section:
                items.setdefault(choose_item(engine, text, sections[section]), []).append(text)
                counts["items"] += 1
            elif gap and gap != "none":
                gaps.setdefault(str(gap), []).append(text)
                counts["gaps"] += 1
            elif gap == "none" or m.get("kind") == "unrelated":
                out_of_domain.append(text)
                counts["out_of_domain"] += 1
            else:
                counts["skipped"] += 1

    def unique(values):
        return list(dict.fromkeys(values))

    merged = {
        "items": {k: unique(v) for k, v in sorted(items.items())},
        "gaps": {k: unique(v) for k, v in sorted(gaps.items())},
        "out_of_domain": unique(out_of_domain),
    }
    return merged, counts


HEADER = """\
# User-style training messages: written the way people type in WeChat by writers (helpers with a
# fresh context) who had only the source document, a persona brief and the section labels, and
# never saw data/faq/, data/nlu/, data/eval/ or the code. Merged by scripts/written_messages.py,
# which drops near copies of any evaluation message. Used like FAQ variants (retrieval units,
# encoder pairs, held-out questions of the calibration folds) and, for out_of_domain, as
# questions the decision model must decline. NEVER add a message of data/eval/ here, nor a
# rewrite of a failing test message.
"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="+", type=Path)
    ap.add_argument("--index", type=Path, help="index to rank a several-item section's items with")
    args = ap.parse_args(argv)
    engine = None
    if args.index:
        from knowledge.engine import Engine

        engine = Engine.load(args.index, check=False)
    merged, counts = merge(args.files, ROOT, engine)
    out = ROOT / WRITTEN_FILE
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(HEADER + yaml.safe_dump(merged, allow_unicode=True, sort_keys=False, width=1000), encoding="utf-8")
    print(f"[written] {out.relative_to(ROOT)}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
