"""The knowledge engine: search, and answer / decline, over a built index folder.

    engine = Engine.load("var/index")          # refuses a missing or stale index
    engine.search("证件照要求", k=5)             # ranked hits (FAQ items and document sections)
    engine.answer("那企业呢", context_question="个人实名认证有几种方式")
    engine.answer_by_id("photo_rules")         # an offered question was clicked

`Retriever` holds the indexes and scores a question against every entry; the build uses it too
(for the final index and for the cross-validation folds that calibrate the decision), so what is
calibrated is exactly what serves.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from knowledge.bm25 import BM25Index
from knowledge.characters import basic_normalize
from knowledge.corpus import Entry, data_hash
from knowledge.dense import DenseIndex, Encoder, configured_model, load_encoder
from knowledge.fusion import (
    FEATURES,
    MODES,
    SURE_ANSWER,
    DecisionModel,
    Fusion,
    coverage,
    per_entry_max,
    unknown_share,
)
from knowledge.lexicon import Lexicon
from knowledge.paths import ROOT
from knowledge.qtype import TYPES, answer_types, clash, question_types
from knowledge.split import question_focus, split_questions
from knowledge.tokenize import STOPWORDS, get_tokenizer

log = logging.getLogger(__name__)

FORMAT_VERSION = 3
DENSE_TOP_UNITS = 512  # units fetched from FAISS per question; entries outside score 0

DECLINE_TEXT = (
    "抱歉，这个问题在我掌握的资料（福建省二级建造师注册办理指南和课程介绍）里没有答案，"
    "我不能凭猜测回答。您可以换个说法再问，或回复“转人工”联系客服。"
)
GAP_TEXT = "抱歉，{reason}。我不能凭猜测回答，需要的话请回复“转人工”，由客服为您处理。"

# A follow-up that only names what changes ("那企业呢", "延续的话") leans on the previous question.
_FOLLOW_UP = re.compile(
    r"^(那|那么|那如果|如果是|要是|还有|换成|换做)?(.{1,8}?)(呢|的话|怎么样|咋样|怎么办|也是|也一样吗|也要吗|一样吗)?$"
)
_YES_NO = re.compile(r"吗|是不是|要不要|需不需要|能不能|可不可以|用不用|会不会|有没有|算不算|[不没]$")
# "不合格的原因去哪看", "在哪查": where to find something, which only the previous topic says
_WHERE = re.compile(r"去哪|在哪|哪里|哪儿|哪个(网站|栏目|菜单|地方)|怎么看|咋看|怎么查|咋查")
_STILL_FAILING = re.compile(r"还是不行|还不行|不管用|没用|还是一样|还是报错|还是提示|照样|依然|仍然|还是不能|还是没")
# "那另一个呢": the other one of a pair the previous question named (data/dictionary/synonyms.yml `alternatives`).
# "A和B各多少钱", "两个班分别多久": one question about each member of a pair (or of a group).
_EACH = re.compile(r"各自|各|分别|每个|两个都|都")
_EACH_OF_BOTH = re.compile(r"各自|各|分别")  # without naming them: the ones the previous question named
_JOINED = "(?:和|跟|与|及|以及|还有|、|/|或|或者)"
_THE_OTHER = re.compile(
    r"^(那|那么|还有)?(另一个|另外一个|另外那个|另一种|另外一种|另一家|另一个班|另一个套餐|另外的|另个|其他的|别的)"
    r"(班|套餐|方式)?(呢|怎么样|咋样|多少钱|价格呢)?$"
)


# The longest question read whole; a longer message (a pasted page, a hostile one) is read as its
# beginning and its end, where the situation and the question are. Keeps a 1000-character
# message's cost within a few times a normal question's.
MAX_QUESTION_CHARS = 300
SHORT_PART_CHARS = 6  # a part of a message this short that only asks 多少钱/多久 leans on the part before
HEAD_CHARS = 100


def bounded(text: str) -> str:
    if len(text) <= MAX_QUESTION_CHARS:
        return text
    return f"{text[:HEAD_CHARS]} {text[-(MAX_QUESTION_CHARS - HEAD_CHARS) :]}"


class IndexUnavailable(RuntimeError):
    """The index cannot be used; the message (Chinese first) says what to do."""


class IndexMissing(IndexUnavailable):
    pass


class IndexStale(IndexUnavailable):
    pass


# ---------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------


@dataclass
class Hit:
    id: str  # "faq:<id>" or "doc:<doc>#<section>"
    kind: str  # "faq" | "doc"
    faq_id: str | None
    title: str  # the FAQ question or the section title
    text: str  # the answer or the section text
    score: float
    bm25: float
    dense: float
    source_title: str
    source_section: str

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Decision:
    kind: str  # "answer" | "decline"
    answer: str
    faq_id: str | None = None
    source_title: str | None = None
    source_section: str | None = None
    # declined: the nearest FAQ questions when the question names a term of the material;
    # answered while only moderately sure: the next questions ("您可能还想问"). [{"faq_id", "question"}]
    suggestions: list[dict] = field(default_factory=list)
    hits: list[Hit] = field(default_factory=list)
    confidence: float = 0.0  # p(the best entry is the right one)
    in_domain: float = 0.0  # p(the question is about the material at all)
    query: str = ""  # the normalised question that was scored
    used_context: bool = False
    gap_id: str | None = None  # declined because the material lacks this (data/faq/gaps.yml)
    parts: list[Decision] = field(default_factory=list)  # a message that asks several things: one each
    asked: str = ""  # for a part: the words of the user's question it answers

    def to_dict(self) -> dict:
        d = asdict(self)
        d["hits"] = [h.to_dict() for h in self.hits]
        return d


# ---------------------------------------------------------------------------------------------
# The retriever: units, indexes, scoring
# ---------------------------------------------------------------------------------------------


@dataclass
class Scores:
    """Per-entry component scores of one question, each on 0..1."""

    query: str
    tokens: list[str]
    bm25_units: np.ndarray  # best unit, BM25 / IDF weight of the question, capped at 1
    bm25_items: np.ndarray  # the entry's pseudo-document, likewise
    dense_units: np.ndarray  # best unit cosine
    dense_items: np.ndarray  # centroid cosine
    qtypes: frozenset[str] = frozenset()  # what kind of answer it asks for (knowledge.qtype)
    clash: np.ndarray | None = None  # per entry: 1.0 where its text cannot give that kind of answer

    def masked(self, keep: np.ndarray) -> Scores:
        z = lambda a: np.where(keep, a, 0.0)  # noqa: E731
        return Scores(
            self.query,
            self.tokens,
            z(self.bm25_units),
            z(self.bm25_items),
            z(self.dense_units),
            z(self.dense_items),
            self.qtypes,
            self.clash,
        )


class Retriever:
    """Entries with their units, indexed twice for each retriever:

    - units: every question / variant / answer / section on its own (an entry's score is the
      maximum over its units: one variant phrased like the question is enough);
    - items: one pseudo-document per entry (all its units together for BM25, the centroid of its
      unit vectors for the dense index), which rewards words spread over several variants.

    `Scores` keeps the four components per entry; `Fusion` (fitted at build time) blends them.
    """

    def __init__(
        self,
        entries: list[Entry],
        lexicon: Lexicon,
        tokenizer,
        bm25_units: BM25Index,
        bm25_items: BM25Index,
        dense_units: DenseIndex,
        dense_items: DenseIndex,
        encoder: Encoder,
        unit_entry: np.ndarray,
        entry_tokens: list[frozenset[str]],
        mention_tokens: list[frozenset[str]] | None = None,
    ):
        self.entries = entries
        self.lexicon = lexicon
        self.tokenizer = tokenizer
        self.bm25_units = bm25_units
        self.bm25_items = bm25_items
        self.dense_units = dense_units
        self.dense_items = dense_items
        self.encoder = encoder
        self.unit_entry = unit_entry
        self.entry_starts = (
            np.flatnonzero(np.r_[True, unit_entry[1:] != unit_entry[:-1]]) if len(unit_entry) else np.zeros(0, int)
        )
        self.entry_tokens = entry_tokens
        # What an entry is said to mention, for reading follow-ups ("那企业呢": the entries that
        # mention 企业): its own question, variants and answer. User-style messages name situations
        # and feelings ("这是啥原因") that are not what the entry is about.
        self.mention_tokens = mention_tokens if mention_tokens is not None else entry_tokens
        self.vocabulary = frozenset(bm25_units.idf)
        self.material = np.array([e.kind != "gap" for e in entries])  # what search lists: a gap is nothing to read
        cited_docs = {e.source_key.split("#")[0] for e in entries if e.kind == "faq"}
        # What a decision may pick: every FAQ item and gap, and the sections of documents that no
        # FAQ item cites (documents added later); a curated document is answered through its FAQ.
        self.candidate = np.array(
            [e.kind in ("faq", "gap") or e.source_key.split("#")[0] not in cited_docs for e in entries]
        )
        # A gap answers every kind of question (with "the material lacks it").
        self.answer_types = [set(TYPES) if e.kind == "gap" else answer_types(e.text) for e in entries]

    # -- construction ---------------------------------------------------------------------------
    @staticmethod
    def unit_texts(
        entries: list[Entry], skip: set[tuple[str, int]] = frozenset()
    ) -> tuple[list[str], np.ndarray, list[str]]:
        """(texts, owning entry index, field) of every unit not in `skip`."""
        texts, owner, fields = [], [], []
        for i, e in enumerate(entries):
            for j, (fieldname, text) in enumerate(e.units):
                if (e.id, j) not in skip:
                    texts.append(text)
                    owner.append(i)
                    fields.append(fieldname)
        return texts, np.asarray(owner, dtype=np.int64), fields

    @classmethod
    def build(
        cls,
        entries: list[Entry],
        lexicon: Lexicon,
        tokenizer,
        encoder: Encoder,
        *,
        skip: set[tuple[str, int]] = frozenset(),
        bm25_params: tuple[float, float] = (0.6, 0.6),
        item_b: float = 0.75,
        unit_vectors: np.ndarray | None = None,
        dense_factory=None,
        normalized_units: list[str] | None = None,
    ) -> Retriever:
        """Index the units of `entries` (except those in `skip`: (entry id, unit index))."""
        raw, owner, fields = cls.unit_texts(entries, skip)
        normed = normalized_units if normalized_units is not None else [lexicon.normalize_text(t) for t in raw]
        toks = [tokenizer.tokens(t) for t in normed]
        bm25_units = BM25Index(*bm25_params).build(toks)
        item_toks: list[list[str]] = [[] for _ in entries]
        own_toks: list[list[str]] = [[] for _ in entries]
        for o, t, f in zip(owner, toks, fields):
            item_toks[o].extend(t)
            if f != "written":
                own_toks[o].extend(t)
        bm25_items = BM25Index(bm25_params[0], item_b).build(item_toks)
        vectors = unit_vectors if unit_vectors is not None else encoder.encode(normed)
        dense_units = DenseIndex.build(vectors, dense_factory)
        centroids = np.zeros((len(entries), vectors.shape[1]), dtype=np.float32)
        np.add.at(centroids, owner, vectors)
        dense_items = DenseIndex.build(centroids, dense_factory)
        entry_tokens = [frozenset(t) for t in item_toks]
        mention_tokens = [frozenset(t) for t in own_toks]
        return cls(
            entries,
            lexicon,
            tokenizer,
            bm25_units,
            bm25_items,
            dense_units,
            dense_items,
            encoder,
            owner,
            entry_tokens,
            mention_tokens,
        )

    # -- scoring -------------------------------------------------------------------------------
    def _bm25_entries(self, tokens: list[str]) -> tuple[np.ndarray, np.ndarray]:
        units = per_entry_max(self.bm25_units.normalized_scores(tokens), self.entry_starts)
        items = self.bm25_items.normalized_scores(tokens)
        return np.minimum(units, 1.0), np.minimum(items, 1.0)

    def _dense_entries(self, vector: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        units = np.zeros(len(self.entries), dtype=np.float32)
        items = np.zeros(len(self.entries), dtype=np.float32)
        if self.dense_units.size == 0 or not np.any(vector):
            return units, items
        q = vector.reshape(1, -1)
        scores, ids = self.dense_units.search(q, DENSE_TOP_UNITS)
        valid = ids[0] >= 0
        owners = self.unit_entry[ids[0][valid]]
        # Scores come sorted high to low: the first time an entry appears is its maximum.
        _, first = np.unique(owners, return_index=True)
        units[owners[first]] = scores[0][valid][first]
        scores, ids = self.dense_items.search(q, DENSE_TOP_UNITS)
        valid = ids[0] >= 0
        items[ids[0][valid]] = scores[0][valid]
        return np.maximum(units, 0.0), np.maximum(items, 0.0)

    def score(self, query: str, normalized: bool = False) -> Scores:
        q = query if normalized else self.lexicon.normalize_query(query)
        # A word said twice adds nothing, and a message of one word repeated must not cost more per word.
        tokens = list(dict.fromkeys(self.tokenizer.tokens(q)))
        vector = self.encoder.encode([q])[0]
        qtypes = frozenset(question_types(q if normalized else basic_normalize(query)))
        clashes = np.array([clash(set(qtypes), t) for t in self.answer_types], dtype=np.float32) if qtypes else None
        return Scores(q, tokens, *self._bm25_entries(tokens), *self._dense_entries(vector), qtypes, clashes)

    def ranked(
        self, scores: Scores, mode: str, fusion: Fusion, candidates_only: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        fused = fusion.fuse(mode, scores)
        idx = np.flatnonzero(self.candidate) if candidates_only else np.arange(len(self.entries))
        order = idx[np.argsort(-fused[idx], kind="stable")]
        return order, fused

    def features(self, scores: Scores, order: np.ndarray, fused: np.ndarray) -> dict[str, float]:
        """What the decision looks at: the best entry's fused score, its four components and its
        lead over the next entry; the IDF-weighted share of the question's words found in that
        entry, and the share found nowhere in the knowledge base (words only: characters would
        blur both); whether the question asks for a kind of answer the entry cannot give."""
        if len(order) == 0 or not scores.tokens:
            return dict.fromkeys(FEATURES, 0.0) | {"unknown": 1.0}
        words = self.tokenizer.tokens(scores.query, chars=False)
        weights = [self.bm25_units.token_weight(t) for t in words]
        top = order[0]
        second = float(fused[order[1]]) if len(order) > 1 else 0.0
        return {
            "score": float(fused[top]),
            "margin": float(fused[top]) - second,
            "coverage": coverage(words, weights, self.entry_tokens[top]),
            "unknown": unknown_share(words, weights, self.vocabulary),
            # a term of the domain dictionary (二建, 实名认证, 无忧取证班 ...) anywhere in the question
            "domain_term": float(any(w in self.tokenizer.domain_words for w in self.tokenizer.words(scores.query))),
            "bm25_units": float(scores.bm25_units[top]),
            "bm25_items": float(scores.bm25_items[top]),
            "dense_units": float(scores.dense_units[top]),
            "dense_items": float(scores.dense_items[top]),
            "qtype_clash": float(scores.clash[top]) if scores.clash is not None else 0.0,
        }

    # -- persistence ---------------------------------------------------------------------------
    def save(self, folder: Path) -> None:
        np.save(folder / "unit_entry.npy", self.unit_entry)
        self.bm25_units.save(folder / "bm25_units")
        self.bm25_items.save(folder / "bm25_items")
        self.dense_units.save(folder / "dense_units.faiss")
        self.dense_items.save(folder / "dense_items.faiss")

    @classmethod
    def load(
        cls,
        folder: Path,
        entries: list[Entry],
        lexicon: Lexicon,
        tokenizer,
        encoder: Encoder,
        entry_tokens: list[frozenset[str]],
        mention_tokens: list[frozenset[str]] | None = None,
    ) -> Retriever:
        return cls(
            entries,
            lexicon,
            tokenizer,
            BM25Index.load(folder / "bm25_units"),
            BM25Index.load(folder / "bm25_items"),
            DenseIndex.load(folder / "dense_units.faiss"),
            DenseIndex.load(folder / "dense_items.faiss"),
            encoder,
            np.load(folder / "unit_entry.npy"),
            entry_tokens,
            mention_tokens,
        )


# ---------------------------------------------------------------------------------------------
# Index folder
# ---------------------------------------------------------------------------------------------


def resolve_index_dir(index_dir: Path | str) -> Path:
    """A version folder (with manifest.json) or a parent folder with a `current` pointer."""
    index_dir = Path(index_dir)
    if (index_dir / "manifest.json").is_file():
        return index_dir
    pointer = index_dir / "current"
    if pointer.is_file():
        version = index_dir / pointer.read_text(encoding="utf-8").strip()
        if (version / "manifest.json").is_file():
            return version
    raise IndexMissing(
        f"知识库索引不存在：{index_dir}。请先运行 make train"
        f"（python -m knowledge.build --out {index_dir}）。 / no knowledge index at {index_dir}"
    )


def check_fresh(manifest: dict, root: Path = ROOT) -> None:
    """Refuse an index built from other data files or for another embedding model."""
    current = data_hash(root)
    if manifest.get("format") != FORMAT_VERSION:
        raise IndexStale(
            f"知识库索引格式已过期（{manifest.get('format')} ≠ {FORMAT_VERSION}），请重新运行 make train。"
            " / the index was built by another version of knowledge/"
        )
    if manifest.get("data_hash") != current:
        raise IndexStale(
            "知识库索引已过期：FAQ、文档或词典在索引构建之后有改动，请重新运行 make train。"
            f" / stale index: data hash {str(manifest.get('data_hash'))[:12]} ≠ current {current[:12]}"
        )
    configured = configured_model()
    if manifest.get("model", {}).get("name") != configured:
        raise IndexStale(
            f"知识库索引使用的向量模型（{manifest.get('model', {}).get('name')}）与当前配置"
            f"（EMBEDDING_MODEL={configured}）不一致，请重新运行 make train。"
        )


# ---------------------------------------------------------------------------------------------
# The engine
# ---------------------------------------------------------------------------------------------


class Engine:
    def __init__(self, retriever: Retriever, manifest: dict, index_dir: Path | None = None):
        self.retriever = retriever
        self.manifest = manifest
        self.index_dir = index_dir
        self.fusion = Fusion(**manifest["fusion"]["weights"])
        self.decision_models = {m: DecisionModel.from_dict(d) for m, d in manifest["decision"].items()}
        self._faq_index = {e.faq_id: i for i, e in enumerate(retriever.entries) if e.faq_id}

    # -- loading -------------------------------------------------------------------------------
    @classmethod
    def load(cls, index_dir: Path | str, root: Path = ROOT, check: bool = True) -> Engine:
        version = resolve_index_dir(index_dir)
        try:
            manifest = json.loads((version / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise IndexUnavailable(
                f"知识库索引的 manifest.json 无法读取：{version}（{exc}），请重新运行 make train。"
            ) from exc
        if check:
            check_fresh(manifest, root)
        try:
            return cls._from_folder(version, manifest, root)
        except (OSError, KeyError, ValueError, RuntimeError) as exc:
            raise IndexUnavailable(f"知识库索引不完整或已损坏：{version}（{exc}），请重新运行 make train。") from exc

    @classmethod
    def _from_folder(cls, version: Path, manifest: dict, root: Path) -> Engine:
        tokenizer = get_tokenizer(root / "data" / "dictionary")
        stored = json.loads((version / "entries.json").read_text(encoding="utf-8"))
        entries = [Entry(**{**e, "units": [tuple(u) for u in e["units"]]}) for e in stored["entries"]]
        lexicon = Lexicon.from_dictionary(
            root / "data" / "dictionary", extra_terms=stored["vocabulary"], common_words=tokenizer.common_words()
        )
        encoder = load_encoder(version / "model", tokenizer)
        entry_tokens = [frozenset(t) for t in stored["entry_tokens"]]
        mention_tokens = [frozenset(t) for t in stored["mention_tokens"]]
        retriever = Retriever.load(version, entries, lexicon, tokenizer, encoder, entry_tokens, mention_tokens)
        return cls(retriever, manifest, version)

    # -- search --------------------------------------------------------------------------------
    def _hit(self, i: int, fused: np.ndarray, bm25: np.ndarray, dense: np.ndarray) -> Hit:
        e = self.retriever.entries[i]
        return Hit(
            e.id,
            e.kind,
            e.faq_id,
            e.title,
            e.text,
            round(float(fused[i]), 4),
            round(float(bm25[i]), 4),
            round(float(dense[i]), 4),
            e.source_doc,
            e.source_section,
        )

    def _hits(self, scores: Scores, mode: str, fused: np.ndarray, k: int) -> list[Hit]:
        """The k best entries of any kind (FAQ items, gaps, document sections) as hits."""
        everything = np.argsort(-fused, kind="stable")
        if mode == "bm25":
            bm25, dense = fused, self.fusion.dense(scores)
        elif mode == "dense":
            bm25, dense = self.fusion.bm25(scores), fused
        else:
            bm25, dense = self.fusion.bm25(scores), self.fusion.dense(scores)
        return [self._hit(i, fused, bm25, dense) for i in everything[:k] if fused[i] > 0]

    def search(self, query: str, k: int = 5, mode: str = "hybrid") -> list[Hit]:
        """The k best entries (FAQ items and document sections) for a question."""
        scores = self.retriever.score(bounded(query))
        if not scores.tokens:
            return []
        return self._hits(scores, mode, np.where(self.retriever.material, self.fusion.fuse(mode, scores), 0.0), k)

    # -- decisions -----------------------------------------------------------------------------
    def assess(self, scores: Scores, mode: str) -> tuple[np.ndarray, np.ndarray, float, float]:
        """(candidates best first, fused scores, p_domain, p_answer) of a scored question."""
        r = self.retriever
        fused = self.fusion.fuse(mode, scores)
        everything = np.argsort(-fused, kind="stable")
        order = everything[r.candidate[everything]]
        p_domain, p = self.decision_models[mode].probabilities(r.features(scores, order, fused))
        return order, fused, p_domain, p

    def read(self, query: str, mode: str) -> Scores:
        """The reading of a message that is decided on. A long message is also read by its asking
        part alone, without the situation and feelings around it (knowledge.split.question_focus);
        when both readings pick the same entry, the one the decision model is surer of counts.
        knowledge/build.py chooses the thresholds on this reading too."""
        whole = self.retriever.score(query)
        focus = question_focus(query)
        if focus is None or not whole.tokens:
            return whole
        part = self.retriever.score(focus)
        if not part.tokens:
            return whole
        order_w, _, _, p_w = self.assess(whole, mode)
        order_p, _, _, p_p = self.assess(part, mode)
        return part if order_p[0] == order_w[0] and p_p > p_w else whole

    def _decide(self, scores: Scores, mode: str, k: int = 5, on_topic: bool = False) -> Decision:
        """`on_topic`: a follow-up read with the previous question, which the material answered; it
        is about the material, whatever its own words sound like."""
        r = self.retriever
        if not scores.tokens:  # nothing but punctuation, particles or an empty string
            return Decision("decline", DECLINE_TEXT, None, None, None, [], [], 0.0, 0.0, scores.query)
        model = self.decision_models[mode]
        order, fused, p_domain, p = self.assess(scores, mode)
        hits = self._hits(scores, mode, fused, k)
        kind = model.kind(1.0 if on_topic else p_domain, p)
        e = r.entries[order[0]]
        if (
            kind != "decline"
            and e.kind == "faq"
            and scores.clash is not None
            and scores.clash[order[0]]
            and p < SURE_ANSWER
        ):
            # "帮忙办营业执照注册吗 多少钱" answered with the materials of an enterprise account: the
            # answer cannot give the kind asked for (a price), so it answers another question
            kind = "decline"
        if kind != "decline" and e.kind == "gap":  # sure enough that it is about what the material lacks
            return Decision(
                "decline",
                GAP_TEXT.format(reason=e.text.rstrip("。")),
                None,
                None,
                None,
                [],
                hits,
                p,
                p_domain,
                scores.query,
                gap_id=e.gap_id,
            )
        if kind != "decline":
            also = self._offers(order, fused, skip=e.faq_id) if kind == "answer_also" else []
            return Decision(
                "answer", e.text, e.faq_id, e.source_doc, e.source_section, also, hits, p, p_domain, scores.query
            )
        # Declined. When the question names a term of the material (二建, 资格库, 电子证书, a package ...),
        # the nearest FAQ questions go with the refusal: the user who phrased an answerable question
        # in an unusual way is one click from the answer; nothing is stated as fact.
        related = self._offers(order, fused) if self.names_domain_term(scores.query) else []
        return Decision("decline", DECLINE_TEXT, None, None, None, related, hits, p, p_domain, scores.query)

    def _offers(self, order: np.ndarray, fused: np.ndarray, skip: str | None = None) -> list[dict]:
        """2-3 FAQ questions (no gaps): the best ones, within half the best score."""
        r = self.retriever
        faq = [i for i in order[:6] if r.entries[i].faq_id and r.entries[i].faq_id != skip]
        if not faq:
            return []
        top = fused[faq[0]]
        picks = [i for i in faq[:3] if fused[i] >= 0.5 * top]
        if len(picks) < 2:
            picks = faq[:2]
        return [{"faq_id": r.entries[i].faq_id, "question": r.entries[i].title} for i in picks]

    def names_domain_term(self, normalized_query: str) -> bool:
        """Does the (normalised) question contain a word of the project's domain dictionary?"""
        tokenizer = self.retriever.tokenizer
        return any(w in tokenizer.domain_words for w in tokenizer.words(normalized_query))

    def answer(self, query: str, context_question: str | None = None, mode: str = "hybrid", k: int = 5) -> Decision:
        """Answer (when only moderately sure, with the next 2-3 questions as `suggestions`) or decline
        (with the gap's reason when the material lacks what is asked); `hits` holds the k best entries.
        `context_question` is the user's previous question: an elliptical follow-up ("那企业呢")
        is read together with it. A message that asks several things ("多久能批 顺便问下多少钱")
        gets one decision per question in `parts`, in the order asked."""
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}")
        query, context_question = bounded(query), bounded(context_question) if context_question else context_question
        whole = self._answer_one(query, context_question, mode, k)
        questions = [each for q in split_questions(query) for each in self._distributed(q, context_question)]
        if len(questions) < 2:
            return whole
        if whole.gap_id:  # the message is about something the material lacks
            return whole
        parts: list[Decision] = []
        for i, q in enumerate(questions):
            # "身份锁在哪买 要多少钱", "有教师资格证的课吗 报名多少钱": a short part that only asks for a kind
            # of answer is about the part before it, and is read together with it.
            if i > 0 and self._asks_only_a_kind(q):
                part = dataclasses.replace(self._answer_one(f"{questions[i - 1]} {q}", None, mode, k), asked=q)
            else:
                part = dataclasses.replace(self._answer_one(q, context_question, mode, k), asked=q)
            if part.kind == "answer" and any(p.kind == "answer" and p.faq_id == part.faq_id for p in parts):
                continue  # "各" asked of one item that answers for both
            parts.append(part)
        # Separate questions only if at least two of them are settled on their own (answered, or
        # declined for a known gap), by different items; otherwise the message asked one thing.
        settled = {d.faq_id or d.gap_id for d in parts if d.kind == "answer" or d.gap_id}
        if len(settled) < 2:
            gap = next((d for d in parts if d.gap_id), None)
            if whole.kind != "answer" and gap is not None and not any(d.kind == "answer" for d in parts):
                return dataclasses.replace(gap, asked="")  # what the material lacks, said plainly
            return whole
        first = next(d for d in parts if d.kind == "answer" or d.gap_id)
        return dataclasses.replace(
            first, parts=parts, kind="answer" if any(d.kind == "answer" for d in parts) else "decline"
        )

    def _distributed(self, question: str, context_question: str | None) -> list[str]:
        """A question asked of each member of a pair at once, as one question per member:
        "无忧取证班和AI私塾班全科各多少钱" -> "无忧取证班全科多少钱", "AI私塾班全科多少钱"; after a
        question that named both, "有效期各是多久" -> one per package. Else the question itself."""
        lexicon = self.retriever.lexicon
        q = lexicon.normalize_query(question)
        if not _EACH.search(q):
            return [question]
        for group in lexicon.alternatives:
            named = [m for m in group if m in q]
            if len(named) >= 2:
                members = "|".join(map(re.escape, sorted(named, key=len, reverse=True)))
                pair = re.compile(f"(?:{members})(?:{_JOINED}(?:{members}))+")
                if not pair.search(q):
                    continue
                rest = _EACH.sub("", q, count=1)
                return [pair.sub(m, rest, count=1) for m in named]
            if not named and context_question and _EACH_OF_BOTH.search(q):
                c = lexicon.normalize_query(context_question)
                in_context = [m for m in group if m in c]
                if len(in_context) >= 2:
                    rest = _EACH.sub("", q, count=1)
                    return [f"{m}{rest}" for m in in_context]
        return [question]

    def _answer_one(self, query: str, context_question: str | None, mode: str, k: int) -> Decision:
        # After an answer to two questions ("延续注册多久审批？ 证件照有什么要求？"), a follow-up leans on
        # one of them ("增项也是这么快吗"): each is tried as the context, the surest answer that used it wins.
        reading = self.read(query, mode)  # the message alone: read and decided once, whatever context is tried
        alone = self._decide(reading, mode, k)
        contexts = split_questions(context_question) if context_question else []
        if len(contexts) > 1:
            tried = [self._answer_in_context(query, reading, alone, c, mode, k) for c in contexts]
            leaning = [d for d in tried if d.used_context and d.kind == "answer"]
            if leaning:
                return max(leaning, key=lambda d: d.confidence)
            return tried[-1]
        return self._answer_in_context(query, reading, alone, context_question, mode, k)

    def _answer_in_context(
        self, query: str, reading: Scores, alone: Decision, context_question: str | None, mode: str, k: int
    ) -> Decision:
        """`reading` and `alone`: the message read and decided without the context."""
        if not context_question or not context_question.strip():
            return alone
        other = self._the_other(context_question, query)
        if other is not None:  # "那另一个呢" after a question about one of a pair
            decided = self._decide(self.read(other, mode), mode, k)
            decided.used_context = True
            return decided
        scores = self._follow_up_scores(context_question, query, mode) if self.is_follow_up(query) else None
        if scores is None and alone.kind == "answer" and self._answers_the_other(context_question, query, alone):
            # "报市政实务单科要多少" after AI私塾班 was recommended: read alone it found 无忧取证班's price
            combined = self._decide(self.retriever.score(f"{context_question} {query}"), mode, k, on_topic=True)
            if combined.kind == "answer" and combined.faq_id != alone.faq_id:
                combined.used_context = True
                return combined
            return alone
        if scores is None and alone.kind != "answer" and self._continues_topic(context_question, alone, mode):
            # "手机号确实不一样 闽政通那个是我老号": more about the situation just answered; read alone it
            # points at the same item, and it is about the material whatever its words sound like
            scores = reading
        elif scores is None:
            where = alone.kind != "answer" and len(query) <= 15 and bool(_WHERE.search(basic_normalize(query)))
            if not where and (alone.kind == "answer" or len(query) > 15 or not self._leans_on_context(query)):
                return alone  # complete, or naming nothing the material knows
            # "交上去以后几天能批", "省份选的就是福建 还是不行": about the previous question's topic
            scores = self.retriever.score(f"{context_question} {query}")
            if where and not self._all_words_in_top(query, scores, mode):
                return alone  # "公司附近哪里有吃饭的": where, but of something the previous topic does not hold
        combined = self._decide(scores, mode, k, on_topic=True)
        combined.used_context = True
        if combined.kind == "answer" and (alone.kind != "answer" or combined.confidence > alone.confidence):
            return combined
        return alone

    def _follow_up_scores(self, context: str, follow_up: str, mode: str) -> Scores | None:
        """Read an elliptical follow-up against the previous question: its words take the place of
        one word of the previous question ("个人实名认证有几种方式" + "那企业呢" -> "企业实名认证有几种方式").
        Each replacement is scored over the entries that mention the new words and not the
        replaced one (the user moved from one to the other); so is the previous question with the
        new words added ("无忧取证班多少钱" + "单科呢": the same package, one more detail), over the
        entries that mention them. The best reading wins. None when no entry mentions the new
        words at all."""
        r = self.retriever
        c = r.lexicon.normalize_query(context)
        f = r.lexicon.normalize_query(follow_up)
        f_words = r.tokenizer.tokens(f, chars=False)
        mentions = np.array([all(t in et for t in f_words) for et in r.mention_tokens]) & r.candidate
        if not f_words or not mentions.any():
            return None
        new = "".join(w for w in r.tokenizer.words(f) if w not in STOPWORDS)
        # One alternative for another ("个人…" + "那企业呢", "延续注册…" + "那重新注册呢"): that
        # replacement is the reading.
        swapped = [t for group in r.lexicon.alternatives if new in group for t in group if t != new and t in c]
        best = r.score(f"{c} {new}", normalized=True)
        best_mask, best_score = mentions, float(self.fusion.fuse(mode, best)[mentions].max())
        if all(w in c for w in f_words):  # "初始注册、重新注册多久" + "那重新注册呢": already asked about it
            return best.masked(best_mask)
        if swapped:
            best_score = -1.0
        for word in dict.fromkeys(swapped or r.tokenizer.tokens(c, chars=False)):
            if word in f_words or word not in c:
                continue
            mask = mentions & np.array([word not in et for et in r.mention_tokens])
            if not mask.any():
                continue
            scores = r.score(c.replace(word, new, 1), normalized=True)
            top = float(self.fusion.fuse(mode, scores)[mask].max())
            if top > best_score:
                best, best_mask, best_score = scores, mask, top
        return best.masked(best_mask)

    def _the_other(self, context: str, follow_up: str) -> str | None:
        """The previous question about the other one of a pair, when the follow-up asks for "the
        other one" and the previous question named exactly one member of a pair; else None."""
        lexicon = self.retriever.lexicon
        f = lexicon.normalize_query(follow_up).replace(" ", "")
        if not _THE_OTHER.match(f):
            return None
        c = lexicon.normalize_query(context)
        for group in lexicon.alternatives:
            if len(group) == 2 and (group[0] in c) != (group[1] in c):
                a, b = group
                return c.replace(a, b) if a in c else c.replace(b, a)
        return None

    def _answers_the_other(self, context: str, query: str, alone: Decision) -> bool:
        """Is the item that answers the message read alone about the other member of a pair than the
        one the previous question named, while the message names neither? ("单科要多少" answered with
        无忧取证班's price after a question about AI私塾班.) What an item is about is its question:
        an answer may mention both (一建 authentication holds for persons and enterprises)."""
        lexicon = self.retriever.lexicon
        c, q = lexicon.normalize_query(context), lexicon.normalize_query(query)
        entry = self.retriever.entries[self._faq_index[alone.faq_id]] if alone.faq_id in self._faq_index else None
        if entry is None:
            return False
        said = lexicon.normalize_query(entry.title)
        for group in lexicon.alternatives:
            named = [m for m in group if m in c]
            if len(named) == 1 and not any(m in q for m in group):
                if named[0] not in said and any(m in said for m in group if m != named[0]):
                    return True
        return False

    def _all_words_in_top(self, query: str, scores: Scores, mode: str) -> bool:
        """Are the follow-up's own words ("不合格的原因去哪看": 合格, 原因) all in the entry its reading
        with the previous question ranks first? Then it asks where to find something that entry says."""
        r = self.retriever
        words = [
            t
            for t in r.tokenizer.tokens(r.lexicon.normalize_query(query), chars=False)
            if len(t) > 1 and t in r.vocabulary and not _WHERE.search(t)
        ]
        order, _fused, _pd, _p = self.assess(scores, mode)
        return bool(words) and len(order) > 0 and all(t in r.mention_tokens[order[0]] for t in words)

    def _continues_topic(self, context_question: str, alone: Decision, mode: str) -> bool:
        """Does a declined message, read alone, point at the item that answered the previous question?"""
        top = next((h.faq_id for h in alone.hits[:1] if h.faq_id), None)
        if top is None or alone.confidence < self.decision_models[mode].also_threshold:
            return False
        previous = self._decide(self.read(context_question, mode), mode, 1)
        return previous.kind == "answer" and previous.faq_id == top

    def _asks_only_a_kind(self, question: str) -> bool:
        basic = basic_normalize(question).replace(" ", "")
        return len(basic) <= SHORT_PART_CHARS and bool(question_types(basic))

    def _leans_on_context(self, query: str) -> bool:
        """A short message that only makes sense with the previous topic: it asks for a kind of
        answer (多久, 多少钱), asks yes or no about something the material knows, or says the
        previous answer did not help ("还是不行")."""
        basic = basic_normalize(query)
        if question_types(basic) or _STILL_FAILING.search(basic):
            return True
        known = [
            t
            for t in self.retriever.tokenizer.tokens(self.retriever.lexicon.normalize_query(query), chars=False)
            if t in self.retriever.vocabulary
        ]
        return bool(_YES_NO.search(basic)) and bool(known)

    def is_follow_up(self, query: str) -> bool:
        q = self.retriever.lexicon.normalize_query(query).replace(" ", "")
        if not q or len(q) > 10:
            return False
        words = [w for w in self.retriever.tokenizer.words(q) if w not in STOPWORDS]
        return bool(_FOLLOW_UP.match(q)) and len(words) <= 2

    def answer_by_id(self, faq_id: str) -> Decision:
        """The answer of one FAQ item (an offered question was clicked). KeyError if there is no such item."""
        i = self._faq_index.get(faq_id)
        if i is None:
            raise KeyError(faq_id)
        e = self.retriever.entries[i]
        return Decision("answer", e.text, e.faq_id, e.source_doc, e.source_section, [], [], 1.0, 1.0, "")

    def faq_question(self, faq_id: str) -> str | None:
        i = self._faq_index.get(faq_id)
        return self.retriever.entries[i].title if i is not None else None

    @property
    def faq_ids(self) -> list[str]:
        return list(self._faq_index)


# ---------------------------------------------------------------------------------------------
# A process-wide engine, loaded lazily once (bot/ uses this)
# ---------------------------------------------------------------------------------------------

_engines: dict[Path, Engine] = {}
_engines_lock = threading.Lock()


def shared_engine(index_dir: Path | str, root: Path = ROOT) -> Engine:
    """The engine for an index folder, loaded on first use and again when `current` points at a
    new version (after `make train`). A missing or stale index raises IndexUnavailable, each time:
    nothing is cached until a load succeeds."""
    version = resolve_index_dir(index_dir).resolve()
    engine = _engines.get(version)
    if engine is not None:
        return engine
    with _engines_lock:
        engine = _engines.get(version)
        if engine is None:
            engine = Engine.load(version, root)
            for old in [v for v in _engines if v.parent == version.parent]:
                del _engines[old]  # the previous version of the same index folder
            _engines[version] = engine
    return engine


def reset_shared_engines() -> None:
    with _engines_lock:
        _engines.clear()
