"""Pinyin keys of Chinese characters and terms, for matching what users type against words.

Toneless keys are fuzzy-folded (see _FUZZY); `tonal` keeps the tones for the cases where a
toneless match carries too little evidence.
"""

from __future__ import annotations

from functools import lru_cache

from knowledge.characters import is_cjk

# Fuzzy pinyin: initials and finals that speakers of southern Mandarin (Fujian included) and
# pinyin typists mix up. Applied to both sides, so "zhengjian" and "zenjian" meet.
_FUZZY = [("zh", "z"), ("ch", "c"), ("sh", "s"), ("ng", "n"), ("l", "n"), ("v", "u"), ("ü", "u")]


def fuzzy(syllable: str) -> str:
    for a, b in _FUZZY:
        syllable = syllable.replace(a, b)
    return syllable


@lru_cache(maxsize=20000)
def char_key(ch: str) -> str:
    """Toneless default reading of one character, fuzzy-folded ('' for non-CJK)."""
    if not is_cjk(ch):
        return ""
    from pypinyin import Style, lazy_pinyin

    readings = lazy_pinyin(ch, style=Style.NORMAL, errors="ignore")
    return fuzzy(readings[0]) if readings else ""


def tonal(text: str) -> tuple[str, ...]:
    """Pinyin with tone numbers, phrase-aware, no fuzzy folding."""
    from pypinyin import Style, lazy_pinyin

    return tuple(lazy_pinyin(text, style=Style.TONE3, errors="ignore", neutral_tone_with_five=True))


def term_keys(term: str) -> set[tuple[str, ...]]:
    """Per-character pinyin keys of a term: the phrase-aware reading and the per-character one."""
    from pypinyin import Style, lazy_pinyin

    phrase = tuple(fuzzy(s) for s in lazy_pinyin(term, style=Style.NORMAL, errors="ignore"))
    per_char = tuple(char_key(ch) for ch in term)
    return {k for k in (phrase, per_char) if len(k) == len(term)}
