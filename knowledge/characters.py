"""Character-level normalisation: no dictionary, no lexicon.

`basic_normalize` is the first step of everything retrieval reads (documents, FAQ items, user
questions): NFKC (full width to half width), traditional to simplified Chinese, lower case,
punctuation and symbols replaced by spaces.
"""

from __future__ import annotations

import functools
import re
import unicodedata

# Zero-width and bidi control characters survive NFKC; they only hide text from matching.
INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")


def to_half_width(text: str) -> str:
    """Full-width ASCII letters, digits and space to half width; Chinese punctuation is kept."""
    out = []
    for ch in text:
        code = ord(ch)
        if code == 0x3000:
            out.append(" ")
        elif 0xFF10 <= code <= 0xFF19 or 0xFF21 <= code <= 0xFF3A or 0xFF41 <= code <= 0xFF5A:
            out.append(chr(code - 0xFEE0))
        else:
            out.append(ch)
    return "".join(out)


def has_cjk(text: str) -> bool:
    return any("\u3400" <= ch <= "\u9fff" for ch in text)


def is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


@functools.cache
def _t2s():
    import opencc  # the OpenCC library's own wheel (C++): loaded on first use, shared by threads

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional to simplified Chinese (OpenCC t2s, characters and phrases: 批覆 -> 批复)."""
    if not has_cjk(text):
        return text
    return _t2s().convert(text)


def _strip_punctuation(text: str) -> str:
    """Every punctuation mark or symbol becomes a space; letters, digits and CJK stay."""
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat[0] in "PSZC":
            out.append(" ")
        else:
            out.append(ch)
    return " ".join("".join(out).split())


def basic_normalize(text: str) -> str:
    """NFKC, simplified Chinese, lower case, punctuation to spaces. No dictionary needed."""
    text = INVISIBLE.sub("", text or "")
    text = unicodedata.normalize("NFKC", text)
    text = to_simplified(text)
    return _strip_punctuation(text.lower())
