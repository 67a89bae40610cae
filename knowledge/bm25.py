"""BM25 over jieba tokens (bm25s), one BM25 document per unit (a FAQ question, variant or answer,
or a document section).

Besides raw scores, `normalized_scores` divides by the query's own weight (the sum of the IDF of
its tokens, unknown tokens counting as the rarest known one), so that a score says "how much of
the question this unit covers" on a scale that does not grow with the length of the question.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)


class BM25Index:
    def __init__(self, k1: float = 1.2, b: float = 0.5):
        self.k1 = k1
        self.b = b
        self._retriever = None
        self.idf: dict[str, float] = {}
        self.max_idf = 1.0
        self.n_docs = 0

    # -- build ---------------------------------------------------------------------------------
    def build(self, unit_tokens: list[list[str]]) -> BM25Index:
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every build at DEBUG
        # An empty unit would make bm25s fail; a placeholder token matches nothing a user types.
        corpus = [toks if toks else ["\u0000"] for toks in unit_tokens]
        retriever = bm25s.BM25(k1=self.k1, b=self.b, method="lucene")
        retriever.index(corpus, show_progress=False)
        self._retriever = retriever
        self.n_docs = len(corpus)
        self._compute_idf()
        return self

    def _compute_idf(self) -> None:
        r = self._retriever
        indptr = np.asarray(r.scores["indptr"])
        df = np.diff(indptr)
        n = self.n_docs
        idf = np.log(1.0 + (n - df + 0.5) / (df + 0.5))
        self.idf = {tok: float(idf[i]) for tok, i in r.vocab_dict.items() if i < len(idf) and tok}
        self.max_idf = max(self.idf.values(), default=1.0)

    # -- query ---------------------------------------------------------------------------------
    def token_weight(self, token: str) -> float:
        """IDF of a token; a token the index has never seen weighs like the rarest known one."""
        return self.idf.get(token, self.max_idf)

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        """Raw BM25 score of every unit (zeros when no query token is known)."""
        known = [t for t in query_tokens if t in self.idf]
        if not known:
            return np.zeros(self.n_docs, dtype=np.float32)
        return np.asarray(self._retriever.get_scores(known), dtype=np.float32)

    def query_weight(self, query_tokens: list[str]) -> float:
        return float(sum(self.token_weight(t) for t in query_tokens)) or 1.0

    def normalized_scores(self, query_tokens: list[str]) -> np.ndarray:
        return self.scores(query_tokens) / self.query_weight(query_tokens)

    # -- persistence ---------------------------------------------------------------------------
    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self._retriever.save(str(directory))
        (directory / "params.json").write_text(json.dumps({"k1": self.k1, "b": self.b, "n_docs": self.n_docs}))

    @classmethod
    def load(cls, directory: Path) -> BM25Index:
        import bm25s

        params = json.loads((directory / "params.json").read_text())
        index = cls(params["k1"], params["b"])
        index._retriever = bm25s.BM25.load(str(directory), load_corpus=False)
        index.n_docs = params["n_docs"]
        index._compute_idf()
        return index
