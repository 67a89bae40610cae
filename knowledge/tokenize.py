"""Chinese word segmentation for retrieval: one jieba Tokenizer with the project's dictionary.

The tokenizer is built lazily, once, under a lock (jieba's dictionary takes about a second to
load); after that, segmentation only reads shared state and is safe from several threads.

Input is text that already went through the lexicon (knowledge/lexicon.py: lower case, simplified Chinese,
punctuation replaced by spaces, synonyms folded), so the dictionary words are added in the same
normalised form.
"""

from __future__ import annotations

import functools
import logging
import threading
from pathlib import Path

from knowledge.characters import basic_normalize
from knowledge.dictionaries import read_synonyms, read_userdict, userdict_path
from knowledge.paths import DICTIONARY_DIR

log = logging.getLogger(__name__)

# Function words, pronouns and question filler that carry no topic, and request verbs (推荐, 帮忙:
# "推荐个耐摔的手机" is about the phone). Single characters that do carry one (章, 锁, 证, 课, 钱,
# 退, 刻 ...) are kept.
STOPWORDS = frozenset(
    """
的 地 得 了 着 过 吗 呢 啊 吧 呀 哦 嘛 么 哈 嗯 啦 喔 噢 呗 咧 哇 哎 诶 嘞 咯 呐 撒
我 你 您 他 她 它 我们 你们 他们 她们 咱 咱们 自己 人家 大家 本人
是 在 和 与 及 跟 或 或者 还 也 都 就 才 又 而 但 但是 并 并且 以及 如果 的话 因为 所以 然后 那么
这 那 这个 那个 这样 那样 这些 那些 这里 那里 这边 那边 一个 一下 个 些 点 一点
什么 怎么 怎么样 怎样 如何 为什么 为啥 咋 啥 哪 哪个 哪些 哪里 哪儿 多 呀 么
请问 请 能 能不能 可以 可不可以 可否 会 要 想 想要 问 问下 问一下 一下子 知道 告诉 麻烦 谢谢 您好 你好
里 说 去 来 把 被 给 让 向 从 到 为 弄 搞 干 下 上 中 呃 额 不 没 没有 有没有 是不是 是否 还是 不是 有 有人
一样 东西 可以 能够 可能 大概 具体 以后 之后 之前 以前 时候 一直 特别 平时 真的 还要 需不需要 要不要 行不行
能不能 会不会 好不好 对不对 有点 一些 那种 这种 怎么回事 咋办 怎么办 怎么弄 怎么搞 咋弄 咋搞 如何是好
吗吗 呢呢 啊啊 好 好的 行 对 嗯嗯 哈哈 急 急急 救命 求 求助 老师 客服 一直 老是 总是 已经 现在 刚 刚刚 到底 究竟
推荐 帮忙 帮我 帮
""".split()
)


class Tokenizer:
    """jieba with the project dictionary. `words` = precise mode; `tokens` = what retrieval indexes."""

    def __init__(self, dictionary_dir: Path = DICTIONARY_DIR):
        import jieba

        self._jieba = jieba.Tokenizer()
        self._jieba.initialize()
        self.dictionary_dir = dictionary_dir
        self.domain_words: set[str] = set()
        path = userdict_path(dictionary_dir)
        if path is None:
            log.warning("no jieba user dictionary under %s: domain terms may be split", dictionary_dir)
        for word, freq, tag in read_userdict(path):
            self._add(word, freq, tag)
        for group in read_synonyms(dictionary_dir / "synonyms.yml"):
            for term in group:
                self._add(term, None, None)
        self._common: frozenset[str] | None = None

    def _add(self, word: str, freq: int | None, tag: str | None) -> None:
        word = basic_normalize(word).replace(" ", "")
        if not word:
            return
        self.domain_words.add(word)
        self._jieba.add_word(word, freq, tag)

    def words(self, text: str) -> list[str]:
        """Precise-mode segmentation, whitespace dropped, nothing else removed."""
        return [w for w in self._jieba.cut(text, HMM=False) if w.strip()]

    def tokens(self, text: str, chars: bool = True) -> list[str]:
        """Retrieval tokens: search-mode segmentation (long words also yield their sub-words),
        without stopwords, whitespace or stray symbols; with `chars`, followed by every Chinese
        character that is not a stopword, so a word jieba splits differently, a typo or an
        abbreviation ("精讲课" / "精讲班") still shares characters with the indexed text."""
        return list(self._tokens(text, chars))

    @functools.lru_cache(maxsize=16_384)  # noqa: B019 - one tokenizer per dictionary, lives as long as the process
    def _tokens(self, text: str, chars: bool) -> tuple[str, ...]:
        out = []
        for w in self._jieba.cut_for_search(text, HMM=False):
            w = w.strip()
            if not w or w in STOPWORDS:
                continue
            if len(w) == 1 and not w.isalnum():
                continue
            out.append(w)
        if chars:
            out += [ch for ch in text if "\u4e00" <= ch <= "\u9fff" and ch not in STOPWORDS]
        return tuple(out)

    def common_words(self) -> frozenset[str]:
        """Words of jieba's general dictionary (frequency >= 5); spelling correction leaves them alone."""
        if self._common is None:
            words = set()
            with self._jieba.get_dict_file() as fh:  # jieba's own dict.txt, opened in binary mode
                for raw in fh:
                    parts = raw.decode("utf-8").split()
                    if len(parts) >= 2 and 2 <= len(parts[0]) <= 6 and parts[1].isdigit() and int(parts[1]) >= 5:
                        words.add(parts[0])
            self._common = frozenset(words - self.domain_words)
        return self._common


_lock = threading.Lock()
_instances: dict[Path, Tokenizer] = {}


def get_tokenizer(dictionary_dir: Path = DICTIONARY_DIR) -> Tokenizer:
    """The shared tokenizer for a dictionary folder, built on first use."""
    key = Path(dictionary_dir).resolve()
    tok = _instances.get(key)
    if tok is None:
        with _lock:
            tok = _instances.get(key)
            if tok is None:
                tok = Tokenizer(key)
                _instances[key] = tok
    return tok


def tokens(text: str) -> list[str]:
    """Retrieval tokens of already-normalised text, with the project tokenizer."""
    return get_tokenizer().tokens(text)
