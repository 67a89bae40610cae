"""What every user message goes through before it reaches Rasa (the widget's /api/chat, WeChat).

`clean_message` must never raise, whatever bytes a client sends.
"""

from __future__ import annotations

import re

from bot.chat_pinyin import spell_chat_pinyin
from knowledge.characters import INVISIBLE, has_cjk, to_half_width, to_simplified

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"[ \t\u3000]+")


def clean_message(text: str) -> str:
    """Trim, drop invisible and control characters, fold full-width alphanumerics, squeeze spaces,
    write traditional characters in simplified form and pinyin typed among Chinese in characters
    ("没guo" -> 没过, bot/chat_pinyin.py): Rasa's NLU and the forms read simplified characters."""
    text = INVISIBLE.sub("", text)
    text = _CONTROL.sub("", text)
    text = to_half_width(text)
    text = "\n".join(_SPACES.sub(" ", line).strip() for line in text.splitlines())
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    if not has_cjk(text):
        return text
    return spell_chat_pinyin(to_simplified(text))
