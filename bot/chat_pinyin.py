"""Pinyin typed in the middle of a chat message, written back in characters.

People switch to pinyin for a word or a single syllable when the input method gets in the way:
"我是ling基础 考了3次都没guo 工作不mang". Rasa's NLU and the forms read characters, so the gateway
(bot/chat_cleaning.py, clean_message) rewrites such pinyin with the everyday words of
data/dictionary/chat_words.txt:

- a run of letters that spells a whole word is that word ("shenme" -> 什么);
- a run that spells part of a word is replaced only when the characters right next to it complete
  the word ("ling" + 基础 -> 零基础, 没 + "guo" -> 没过, 多少 + "qian" -> 多少钱), so a lone
  syllable is never guessed.

Each run costs a dictionary lookup and a few character comparisons: linear in the message.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from pathlib import Path

from knowledge.characters import is_cjk
from knowledge.paths import DICTIONARY_DIR
from knowledge.pinyin import fuzzy

CHAT_WORDS = DICTIONARY_DIR / "chat_words.txt"
_LETTERS = re.compile(r"[A-Za-z]+")
_CONTEXT = 3  # characters looked at on each side of a run (the longest word has 5)


def read_words(path: Path = CHAT_WORDS) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return [w.strip() for w in lines if w.strip() and not w.startswith("#") and len(w.strip()) >= 2]


class ChatPinyin:
    def __init__(self, words: Iterable[str]):
        from pypinyin import Style, lazy_pinyin

        # fuzzy pinyin of a part of a word -> (word, start, end) of that part
        self._parts: dict[str, list[tuple[str, int, int]]] = {}
        for word in dict.fromkeys(words):
            if not all(is_cjk(ch) for ch in word):
                continue
            syllables = lazy_pinyin(word, style=Style.NORMAL, errors="ignore")
            if len(syllables) != len(word):
                continue
            for start in range(len(word)):
                for end in range(start + 1, len(word) + 1):
                    part = syllables[start:end]
                    # Folding the joined letters can differ from joining folded syllables
                    # ("rengong": ren|gong, or re-ng-ong): both spellings find the word.
                    for key in {"".join(map(fuzzy, part)), fuzzy("".join(part))}:
                        self._parts.setdefault(key, []).append((word, start, end))

    def convert(self, text: str) -> str:
        out: list[str] = []
        pos = 0
        for match in _LETTERS.finditer(text):
            out.append(text[pos : match.start()])
            pos = match.end()
            left = "".join(out).rstrip(" ")[-_CONTEXT:]
            right = text[pos:].lstrip(" ")[:_CONTEXT]
            out.append(self._spell(match.group(0).lower(), left, right) or match.group(0))
        out.append(text[pos:])
        return "".join(out)

    def _spell(self, run: str, left: str, right: str) -> str | None:
        best: tuple[int, str] | None = None
        for word, start, end in self._parts.get(fuzzy(run), ()):
            whole = start == 0 and end == len(word)
            if not whole and (not left.endswith(word[:start]) or not right.startswith(word[end:])):
                continue
            if best is None or len(word) > best[0]:
                best = (len(word), word[start:end])
        return best[1] if best else None


_lock = threading.Lock()
_default: ChatPinyin | None = None


def spell_chat_pinyin(text: str) -> str:
    """`text` with pinyin words and syllables written in characters where they are sure (see above)."""
    global _default
    if not _LETTERS.search(text):
        return text
    if _default is None:
        with _lock:
            if _default is None:
                _default = ChatPinyin(read_words())
    return _default.convert(text)
