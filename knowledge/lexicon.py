"""The domain lexicon: what normalisation derives from the dictionary and the knowledge base.

`Lexicon.normalize_text` is what both sides of the retrieval go through (documents, FAQ items and
user questions): `basic_normalize`, then synonyms folded into their canonical term
(data/dictionary/synonyms.yml).

`Lexicon.normalize_query` adds what only user input needs: pinyin typed instead of characters
("mima 忘了" -> "密码 忘了") and homophone typos ("资格裤" -> "资格库"). Both are corrected against
the lexicon's terms (dictionary terms, synonyms and the words of the knowledge base) by comparing
pinyin, never against a hand-written list of misspellings.

There is no process-wide default: the knowledge engine builds the lexicon from its index and
everything that reads text the way the search does uses that one (`engine.retriever.lexicon`).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from knowledge.characters import basic_normalize, is_cjk
from knowledge.dictionaries import read_alternatives, read_synonyms, read_userdict, userdict_path
from knowledge.paths import DICTIONARY_DIR
from knowledge.pinyin import char_key, fuzzy, term_keys, tonal

_LATIN_RUN = re.compile(r"[a-z]+(?: [a-z]+)*")
_MIN_PINYIN_LETTERS = 4
_QUERY_CACHE_SIZE = 512
_MAX_PINYIN_WORD = 80  # letters; nobody types more pinyin without a space (bounds the segmentation)
# A one-character verb and its object, as a synonym lists them ("换单位", "调单位", "改名字"), are often
# typed with a measure word or an aspect particle between them ("换个单位", "换了家公司", "改了个名字").
_PHRASE_VERBS = "换调改转加"
_PHRASE_INFIX = "(?:了一个|了一家|了个|了家|一个|一家|了|个|家|下)"


@dataclass
class Lexicon:
    """Domain terms and what normalisation derives from them.

    terms: term -> weight (larger wins when two terms share a pinyin).
    synonyms: variant -> canonical term (already basic-normalised).
    common_words: words of the general jieba dictionary; a window that is one is never "corrected".
    latin_words: latin words that occur in the knowledge base ("app", "secseal", "vip"): kept as is.
    """

    terms: dict[str, float] = field(default_factory=dict)
    synonyms: dict[str, str] = field(default_factory=dict)
    alternatives: list[list[str]] = field(default_factory=list)  # groups of alternatives, canonical spelling
    common_words: frozenset[str] | set[str] = field(default_factory=frozenset)
    latin_words: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._compiled = False
        self._lock = threading.Lock()
        self._query_cache: dict[str, str] = {}

    # -- construction ---------------------------------------------------------------------------
    @classmethod
    def from_dictionary(
        cls,
        dictionary_dir: Path = DICTIONARY_DIR,
        extra_terms: Iterable[str] = (),
        common_words: frozenset[str] | set[str] | None = None,
    ) -> Lexicon:
        """Terms of the jieba user dictionary and the synonym groups, plus `extra_terms`
        (the engine adds the words of the knowledge base)."""
        lex = cls(common_words=common_words if common_words is not None else frozenset())
        for word, freq, _tag in read_userdict(userdict_path(dictionary_dir)):
            lex.add_term(word, 2.0 + (freq or 0) / 1000.0)
        for group in read_synonyms(dictionary_dir / "synonyms.yml"):
            canonical = basic_normalize(group[0])
            lex.add_term(canonical, 3.0)
            for variant in group[1:]:
                v = basic_normalize(variant)
                if v and v != canonical:
                    lex.synonyms[v] = canonical
        for term in extra_terms:
            lex.add_term(term, 1.0)
        lex.alternatives = [
            [lex.fold_synonyms(basic_normalize(t)) for t in group]
            for group in read_alternatives(dictionary_dir / "synonyms.yml")
        ]
        return lex

    def add_term(self, term: str, weight: float = 1.0) -> None:
        term = basic_normalize(term).replace(" ", "")
        if not term:
            return
        if all(ch.isascii() for ch in term):
            if term.isalpha():
                self.latin_words.add(term)
            return
        self.terms[term] = max(weight, self.terms.get(term, 0.0)) + 0.01
        self._compiled = False

    # -- derived indexes ------------------------------------------------------------------------
    def _compile(self) -> None:
        if self._compiled:
            return
        with self._lock:
            if self._compiled:
                return
            cjk: dict[tuple[str, ...], list[tuple[float, str]]] = {}
            latin: dict[str, tuple[float, str]] = {}
            for term, weight in self.terms.items():
                if len(term) < 2 or not all(is_cjk(ch) for ch in term):
                    continue
                for key in term_keys(term):
                    cjk.setdefault(key, []).append((weight, term))
                    joined = "".join(key)
                    if joined not in latin or latin[joined][0] < weight:
                        latin[joined] = (weight, term)
            for values in cjk.values():
                values.sort(key=lambda wt: (-wt[0], wt[1]))
            self._cjk_index = cjk
            self._latin_index = {k: v[1] for k, v in latin.items()}
            # Every beginning of a term's pinyin: a span of words that is not one cannot grow into a term.
            self._latin_prefixes = {k[:n] for k in self._latin_index for n in range(1, len(k) + 1)}
            self._max_latin_key = max((len(k) for k in self._latin_index), default=0)
            # Canonical terms match themselves, so "手机号" is not read as "手机" + "号".
            self._fold = dict(self.synonyms)
            for canonical in set(self.synonyms.values()):
                self._fold.setdefault(canonical, canonical)
            syn_terms = sorted(self._fold, key=len, reverse=True)
            self._synonym_re = re.compile("|".join(re.escape(t) for t in syn_terms)) if syn_terms else None
            objects = sorted({t[1:] for t in syn_terms if len(t) >= 3 and t[0] in _PHRASE_VERBS}, key=len, reverse=True)
            self._infix_re = (
                re.compile(f"([{_PHRASE_VERBS}]){_PHRASE_INFIX}(?=" + "|".join(map(re.escape, objects)) + ")")
                if objects
                else None
            )
            self._compiled = True

    # -- steps ---------------------------------------------------------------------------------
    def fold_synonyms(self, text: str) -> str:
        """Replace every synonym by its canonical term, longest match first, in one pass."""
        self._compile()
        if self._synonym_re is None:
            return text
        if self._infix_re is not None:  # "换个单位" is "换单位"
            text = self._infix_re.sub(r"\1", text)
        return self._synonym_re.sub(lambda m: self._fold[m.group(0)], text)

    def convert_pinyin(self, text: str) -> str:
        """Runs of latin letters that spell a domain term in pinyin become that term. A run may
        also spell the start of a term whose last characters follow it ("bibei班" -> 必背班)."""
        self._compile()
        if not self._latin_index:
            return text
        out: list[str] = []
        pos = 0
        for match in _LATIN_RUN.finditer(text):
            out.append(text[pos : match.start()])
            pos = match.end()
            words = match.group(0).split(" ")
            pieces: list[str] = []
            keys = [fuzzy(w) for w in words]
            i = 0
            while i < len(words):
                # Longest span of consecutive words that spells one term ("shouji hao" -> 手机号);
                # a single word may spell several ("shoujihao"). Spans longer than the longest
                # term's pinyin are not tried: the work stays linear in the message's length
                # (every span of a long run of letters cost seconds).
                found: tuple[str, int] | None = None
                if words[i] not in self.synonyms and words[i] not in self.latin_words:
                    term = self._spell(words[i])
                    if term is not None:
                        found = (term, i + 1)
                key = keys[i]
                for j in range(i + 2, len(words) + 1):
                    key += keys[j - 1]
                    if key not in self._latin_prefixes:
                        break
                    if key in self._latin_index:
                        found = (self._latin_index[key], j)
                if found is not None:
                    pieces.append(found[0])
                    i = found[1]
                else:
                    pieces.append(words[i])
                    i += 1
            if len(pieces) == 1 and pieces[0] == words[-1] and len(words) == 1:
                # Nothing converted: try the run together with the Chinese characters after it.
                extended = self._spell_with_tail(words[0], text[pos : pos + 3])
                if extended is not None:
                    term, used = extended
                    pieces = [term]
                    pos += used
            joined = ""
            for piece in pieces:
                # Chinese needs no spaces between converted terms; keep them around latin leftovers.
                if joined and (piece[0].isascii() or joined[-1].isascii()):
                    joined += " "
                joined += piece
            out.append(joined)
        out.append(text[pos:])
        return "".join(out)

    def _spell_with_tail(self, word: str, following: str) -> tuple[str, int] | None:
        if len(word) < _MIN_PINYIN_LETTERS - 1 or word in self.latin_words or word in self.synonyms:
            return None
        for n in range(len(following), 0, -1):
            tail = following[:n]
            if not all(is_cjk(ch) for ch in tail):
                continue
            term = self._latin_index.get(fuzzy(word) + "".join(char_key(ch) for ch in tail))
            if term is not None and term.endswith(tail):
                return term, n
        return None

    def _spell(self, word: str) -> str | None:
        """The term(s) a latin word spells in pinyin, or None. Splits "shoujihao" into terms."""
        if len(word) < _MIN_PINYIN_LETTERS or word in self.latin_words or len(word) > _MAX_PINYIN_WORD:
            return None
        key = fuzzy(word)
        if key in self._latin_index:
            return self._latin_index[key]
        # Segment into several terms (every piece must be a term of >= 2 characters).
        n = len(key)
        best: list[list[str] | None] = [None] * (n + 1)
        best[0] = []
        for i in range(n):
            if best[i] is None:
                continue
            for j in range(i + _MIN_PINYIN_LETTERS - 1, min(n, i + self._max_latin_key) + 1):
                term = self._latin_index.get(key[i:j])
                if term is not None:
                    candidate = best[i] + [term]
                    if best[j] is None or len(candidate) < len(best[j]):
                        best[j] = candidate
        return "".join(best[n]) if best[n] else None

    def correct_homophones(self, text: str) -> str:
        """Replace a non-word whose pinyin is that of a domain term and which shares characters
        with it ("资格裤" -> "资格库", "闽正通" -> "闽政通", "证件找" -> "证件照")."""
        self._compile()
        if not self._cjk_index:
            return text
        chars = list(text)
        n = len(chars)
        out: list[str] = []
        i = 0
        while i < n:
            replaced = False
            if is_cjk(chars[i]):
                for length in range(min(6, n - i), 1, -1):
                    window = "".join(chars[i : i + length])
                    if not all(is_cjk(c) for c in window):
                        continue
                    if window in self.terms or window in self.synonyms:
                        out.append(window)  # a known term or listed variant: keep it whole
                        i += length
                        replaced = True
                        break
                    target = self._homophone_target(window)
                    if target is not None:
                        out.append(target)
                        i += length
                        replaced = True
                        break
            if not replaced:
                out.append(chars[i])
                i += 1
        return "".join(out)

    def _homophone_target(self, window: str) -> str | None:
        if window in self.common_words or window in self.synonyms:
            return None
        candidates = self._cjk_index.get(tuple(char_key(ch) for ch in window))
        if not candidates:
            return None
        allowed = 1 if len(window) <= 4 else 2
        for _weight, term in candidates:
            differ = sum(1 for a, b in zip(window, term) if a != b)
            if not (0 < differ <= allowed and differ < len(window)):
                continue
            # Two characters carry little evidence: only a true homophone (same tones, exact
            # initials) counts there, so "课是" does not become "课时" nor "新名" "姓名".
            if len(window) == 2 and tonal(window) != tonal(term):
                continue
            return term
        return None

    def clear_cache(self) -> None:
        self._query_cache.clear()

    # -- the whole pipeline --------------------------------------------------------------------
    def normalize_text(self, text: str) -> str:
        return self.fold_synonyms(basic_normalize(text))

    def normalize_query(self, text: str) -> str:
        # One answer normalises the same message several times (whole, parts, follow-up checks).
        cached = self._query_cache.get(text)
        if cached is not None:
            return cached
        normalized = self.fold_synonyms(self.correct_homophones(self.convert_pinyin(basic_normalize(text))))
        if len(self._query_cache) >= _QUERY_CACHE_SIZE:
            try:
                self._query_cache.pop(next(iter(self._query_cache)))  # oldest first
            except (KeyError, StopIteration, RuntimeError):  # another thread trimmed it first
                pass
        self._query_cache[text] = normalized
        return normalized
