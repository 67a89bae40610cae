"""Text clean-up shared by the chat gateway and the retrieval.

`clean_message` is what every user message goes through before it reaches Rasa: it must never
raise, whatever bytes a client sends.
"""
from __future__ import annotations

import re
import unicodedata

# Zero-width and bidi control characters survive NFKC; they only hide text from matching.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"[ \t\u3000]+")


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


def clean_message(text: str) -> str:
    """Trim, drop invisible and control characters, fold full-width alphanumerics, squeeze spaces."""
    text = _INVISIBLE.sub("", text)
    text = _CONTROL.sub("", text)
    text = to_half_width(text)
    text = "\n".join(_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return re.sub(r"\n{3,}", "\n\n", text).strip()
