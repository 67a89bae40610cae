"""Readers of the dictionary files under data/dictionary/: the jieba user dictionary and the
synonym file (synonym groups and groups of alternatives)."""

from __future__ import annotations

from pathlib import Path

from knowledge.paths import DICTIONARY_DIR


def userdict_path(dictionary_dir: Path = DICTIONARY_DIR) -> Path | None:
    """The jieba user dictionary: data/dictionary/jieba/userdict.txt, else data/dictionary/userdict.txt."""
    for candidate in (dictionary_dir / "jieba" / "userdict.txt", dictionary_dir / "userdict.txt"):
        if candidate.is_file():
            return candidate
    return None


def read_userdict(path: Path | None) -> list[tuple[str, int | None, str | None]]:
    """(word, freq, tag) per line of a jieba user dictionary; blank and # lines skipped."""
    entries: list[tuple[str, int | None, str | None]] = []
    if path is None:
        return entries
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        freq = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
        tag = parts[2] if len(parts) > 2 else None
        entries.append((parts[0], freq, tag))
    return entries


def read_alternatives(path: Path) -> list[list[str]]:
    """Groups of alternatives ("那延续注册呢" after a question about 初始注册). Missing file: none."""
    if not path.is_file():
        return []
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [[str(t).strip() for t in group] for group in data.get("alternatives") or [] if len(group) >= 2]


def read_synonyms(path: Path) -> list[list[str]]:
    """Synonym groups, first term canonical. Missing file: no groups."""
    if not path.is_file():
        return []
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    groups = []
    for group in data.get("groups") or []:
        terms = [str(t).strip() for t in group if str(t).strip()]
        if len(terms) >= 2:
            groups.append(terms)
    return groups
