"""Text clean-up shared by the chat gateway and the retrieval.

`clean_message` is what every user message goes through before it reaches Rasa: it must never
raise, whatever bytes a client sends.

`normalize_text` is what both sides of the retrieval go through (documents, FAQ items and user
questions): NFKC (full width to half width), traditional to simplified Chinese, lower case,
punctuation removed, synonyms folded into their canonical term (data/dictionary/synonyms.yml).

`normalize_query` adds what only user input needs: pinyin typed instead of characters
("mima 忘了" -> "密码 忘了") and homophone typos ("资格裤" -> "资格库"). Both are corrected against
the domain lexicon (dictionary terms, synonyms and the words of the knowledge base) by comparing
pinyin, never against a hand-written list of misspellings.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

# Zero-width and bidi control characters survive NFKC; they only hide text from matching.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"[ \t\u3000]+")

ROOT = Path(__file__).resolve().parent.parent
DICTIONARY_DIR = ROOT / "data" / "dictionary"


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
    """Trim, drop invisible and control characters, fold full-width alphanumerics, squeeze spaces,
    write traditional characters in simplified form and pinyin typed among Chinese in characters
    ("没guo" -> 没过, knowledge/chat_pinyin.py): Rasa's NLU and the forms read simplified characters."""
    text = _INVISIBLE.sub("", text)
    text = _CONTROL.sub("", text)
    text = to_half_width(text)
    text = "\n".join(_SPACES.sub(" ", line).strip() for line in text.splitlines())
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    if not _has_cjk(text):
        return text
    from knowledge.chat_pinyin import spell_chat_pinyin  # imports this module

    return spell_chat_pinyin(to_simplified(text))


def _has_cjk(text: str) -> bool:
    return any("\u3400" <= ch <= "\u9fff" for ch in text)


# ---------------------------------------------------------------------------------------------
# Character-level normalisation
# ---------------------------------------------------------------------------------------------

_opencc_lock = threading.Lock()
_opencc = None
_traditional_chars: frozenset[str] | None = None


def to_simplified(text: str) -> str:
    """Traditional to simplified Chinese (OpenCC t2s), loaded once on first use."""
    global _opencc, _traditional_chars
    if not _has_cjk(text):
        return text
    if _opencc is None:
        with _opencc_lock:
            if _opencc is None:
                import opencc

                converter = opencc.OpenCC("t2s")
                _traditional_chars = _keys_chars(converter)
                _opencc = converter
    if _traditional_chars is not None and _traditional_chars.isdisjoint(text):
        return text  # nothing to convert (almost every message); OpenCC costs ~14 ms per 1000 characters
    return _opencc.convert(text)


def _keys_chars(converter) -> frozenset[str] | None:
    """The characters OpenCC's t2s dictionaries convert (their one-character keys; a phrase entry
    only refines how such a character is converted in context). None if the package's layout is not
    the one known here: then every message is converted, as before."""
    try:
        converter.convert("測")  # loads the dictionaries
        chars = {
            key
            for group in converter._dict_chain_data
            for entry in (group if isinstance(group, list) else [group])
            for key in entry[-1]
            if len(key) == 1
        }
        return frozenset(chars) if chars else None
    except (AttributeError, TypeError, IndexError):
        return None


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


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
    text = _INVISIBLE.sub("", text or "")
    text = unicodedata.normalize("NFKC", text)
    text = to_simplified(text)
    return _strip_punctuation(text.lower())


# ---------------------------------------------------------------------------------------------
# Dictionary files
# ---------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------
# Pinyin keys
# ---------------------------------------------------------------------------------------------

# Fuzzy pinyin: initials and finals that speakers of southern Mandarin (Fujian included) and
# pinyin typists mix up. Applied to both sides, so "zhengjian" and "zenjian" meet.
_FUZZY = [("zh", "z"), ("ch", "c"), ("sh", "s"), ("ng", "n"), ("l", "n"), ("v", "u"), ("ü", "u")]


def _fuzzy(syllable: str) -> str:
    for a, b in _FUZZY:
        syllable = syllable.replace(a, b)
    return syllable


@lru_cache(maxsize=20000)
def _char_key(ch: str) -> str:
    """Toneless default reading of one character, fuzzy-folded ('' for non-CJK)."""
    if not _is_cjk(ch):
        return ""
    from pypinyin import Style, lazy_pinyin

    readings = lazy_pinyin(ch, style=Style.NORMAL, errors="ignore")
    return _fuzzy(readings[0]) if readings else ""


def _tonal(text: str) -> tuple[str, ...]:
    """Pinyin with tone numbers, phrase-aware, no fuzzy folding."""
    from pypinyin import Style, lazy_pinyin

    return tuple(lazy_pinyin(text, style=Style.TONE3, errors="ignore", neutral_tone_with_five=True))


def _term_keys(term: str) -> set[tuple[str, ...]]:
    """Per-character pinyin keys of a term: the phrase-aware reading and the per-character one."""
    from pypinyin import Style, lazy_pinyin

    phrase = tuple(_fuzzy(s) for s in lazy_pinyin(term, style=Style.NORMAL, errors="ignore"))
    per_char = tuple(_char_key(ch) for ch in term)
    return {k for k in (phrase, per_char) if len(k) == len(term)}


# ---------------------------------------------------------------------------------------------
# The lexicon: synonyms, pinyin and homophone correction against domain terms
# ---------------------------------------------------------------------------------------------

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
                if len(term) < 2 or not all(_is_cjk(ch) for ch in term):
                    continue
                for key in _term_keys(term):
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
            keys = [_fuzzy(w) for w in words]
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
            if not all(_is_cjk(ch) for ch in tail):
                continue
            term = self._latin_index.get(_fuzzy(word) + "".join(_char_key(ch) for ch in tail))
            if term is not None and term.endswith(tail):
                return term, n
        return None

    def _spell(self, word: str) -> str | None:
        """The term(s) a latin word spells in pinyin, or None. Splits "shoujihao" into terms."""
        if len(word) < _MIN_PINYIN_LETTERS or word in self.latin_words or len(word) > _MAX_PINYIN_WORD:
            return None
        key = _fuzzy(word)
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
            if _is_cjk(chars[i]):
                for length in range(min(6, n - i), 1, -1):
                    window = "".join(chars[i : i + length])
                    if not all(_is_cjk(c) for c in window):
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
        candidates = self._cjk_index.get(tuple(_char_key(ch) for ch in window))
        if not candidates:
            return None
        allowed = 1 if len(window) <= 4 else 2
        for _weight, term in candidates:
            differ = sum(1 for a, b in zip(window, term) if a != b)
            if not (0 < differ <= allowed and differ < len(window)):
                continue
            # Two characters carry little evidence: only a true homophone (same tones, exact
            # initials) counts there, so "课是" does not become "课时" nor "新名" "姓名".
            if len(window) == 2 and _tonal(window) != _tonal(term):
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


# ---------------------------------------------------------------------------------------------
# Module-level defaults: the project dictionary, loaded lazily once
# ---------------------------------------------------------------------------------------------

_default_lock = threading.Lock()
_default_lexicon: Lexicon | None = None


def default_lexicon() -> Lexicon:
    """The project's lexicon: dictionary + synonyms + the words of the knowledge base."""
    global _default_lexicon
    if _default_lexicon is None:
        with _default_lock:
            if _default_lexicon is None:
                from knowledge.corpus import load_corpus
                from knowledge.tokenize import get_tokenizer

                tokenizer = get_tokenizer()
                try:
                    extra = load_corpus().vocabulary(tokenizer)
                except Exception:  # noqa: BLE001 - a broken corpus must not break normalisation
                    extra = set()
                _default_lexicon = Lexicon.from_dictionary(extra_terms=extra, common_words=tokenizer.common_words())
    return _default_lexicon


def normalize_text(text: str, lexicon: Lexicon | None = None) -> str:
    """Normalisation for indexed text and queries alike (no spelling correction)."""
    return (lexicon or default_lexicon()).normalize_text(text)


def normalize_query(text: str, lexicon: Lexicon | None = None) -> str:
    """A user's question ready for retrieval: half width, simplified, lower case, no punctuation,
    pinyin and homophone typos turned into domain terms, synonyms folded into canonical terms."""
    return (lexicon or default_lexicon()).normalize_query(clean_message(text or ""))
