"""Dense retrieval: a sentence-transformers encoder and a FAISS inner-product index.

The default encoder is one the project trains itself in `make train` (no Chinese embedding model
can be downloaded here): a sentence-transformers `StaticEmbedding` over a vocabulary of jieba words
and single characters, trained with MultipleNegativesRankingLoss on (variant -> standard question)
and (answer -> standard question) pairs of the FAQ. Its input is the normalised text rewritten as
space-separated words and characters (`encoder.json` records that).

`EMBEDDING_MODEL` (environment) names any sentence-transformers model (hub name or local path)
to use instead; it receives the normalised text as it is. Either way the build saves the model
inside the index folder, so serving never downloads anything and always encodes queries with the
model that encoded the passages.

A model that is a single StaticEmbedding module is served by a numpy implementation of the same
computation (mean of token rows), which needs neither torch nor sentence-transformers at query
time; `tests/knowledge/test_dense.py` checks it against SentenceTransformer.encode.

Vectors are L2-normalised, so inner product in `faiss.IndexFlatIP` is cosine similarity.
Embeddings of the passages are cached per (model, texts) hash.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

ENV_MODEL = "EMBEDDING_MODEL"
PROJECT_MODEL = "project:static-jieba-char"
INPUT_WORDS_CHARS = "words+chars"  # the project model's input format
INPUT_TEXT = "text"

# The project model's training hyper-parameters (chosen by cross-validation on the FAQ variants).
STATIC_DIM = 128
EPOCHS = 20
LEARNING_RATE = 0.2
BATCH_SIZE = 64


def configured_model() -> str:
    """The model this process is configured to use: EMBEDDING_MODEL, or the project model."""
    return os.environ.get(ENV_MODEL, "").strip() or PROJECT_MODEL


def _l2(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 1:
        x = x[None, :]
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, 1e-12)


# ---------------------------------------------------------------------------------------------
# Input preparation for the project model
# ---------------------------------------------------------------------------------------------


def words_and_chars(text: str, tokenizer) -> list[str]:
    """Retrieval tokens of normalised text followed by its Chinese characters (not stopwords)."""
    return tokenizer.tokens(text, chars=True)


# ---------------------------------------------------------------------------------------------
# Encoders
# ---------------------------------------------------------------------------------------------


class Encoder:
    """Turns normalised texts into L2-normalised float32 vectors."""

    name: str = ""
    input_format: str = INPUT_TEXT
    dim: int = 0

    def __init__(self, tokenizer=None):
        self.tokenizer = tokenizer

    def prepare(self, texts: Sequence[str]) -> list[str]:
        if self.input_format == INPUT_WORDS_CHARS:
            vocab = self.vocab
            return [" ".join(t for t in words_and_chars(text, self.tokenizer) if t in vocab) for text in texts]
        return list(texts)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        raise NotImplementedError

    vocab: dict[str, int] = {}


class StaticNumpyEncoder(Encoder):
    """A StaticEmbedding model computed with numpy: the mean of the rows of its tokens."""

    def __init__(self, model_dir: Path, module_dir: Path, input_format: str, tokenizer=None, name: str = ""):
        super().__init__(tokenizer)
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        self.name = name or str(model_dir)
        self.input_format = input_format
        self._tok = Tokenizer.from_file(str(module_dir / "tokenizer.json"))
        self._tok.no_padding()
        self._tok.no_truncation()
        self.vocab = self._tok.get_vocab()
        weights_file = module_dir / "model.safetensors"
        weights = load_file(str(weights_file))
        key = "embedding.weight" if "embedding.weight" in weights else next(iter(weights))
        self.weights = np.ascontiguousarray(weights[key], dtype=np.float32)
        self.dim = int(self.weights.shape[1])

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        prepared = self.prepare(texts)
        out = np.zeros((len(prepared), self.dim), dtype=np.float32)
        for i, enc in enumerate(self._tok.encode_batch(prepared, add_special_tokens=False)):
            if enc.ids:
                out[i] = self.weights[enc.ids].mean(axis=0)
        return _l2(out)


class SentenceTransformerEncoder(Encoder):
    """Any sentence-transformers model (loaded from a local folder)."""

    def __init__(self, model_dir: Path, input_format: str, tokenizer=None, name: str = ""):
        super().__init__(tokenizer)
        from sentence_transformers import SentenceTransformer

        self.name = name or str(model_dir)
        self.input_format = input_format
        self.model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
        first = self.model[0]
        tok = getattr(first, "tokenizer", None)
        if input_format == INPUT_WORDS_CHARS and tok is not None and hasattr(tok, "get_vocab"):
            self.vocab = tok.get_vocab()
        dim_fn = getattr(self.model, "get_embedding_dimension", None) or getattr(
            self.model, "get_sentence_embedding_dimension", None
        )
        self.dim = int(dim_fn()) if dim_fn else 0

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self.model.encode(
            self.prepare(texts),
            batch_size=128,
            show_progress_bar=False,
            convert_to_numpy=True,
            normalize_embeddings=False,
        )
        return _l2(vectors)


def load_encoder(model_dir: Path, tokenizer=None, prefer_numpy: bool = True) -> Encoder:
    """The encoder saved in an index folder (`<index>/model`)."""
    model_dir = Path(model_dir)
    meta = json.loads((model_dir / "encoder.json").read_text()) if (model_dir / "encoder.json").is_file() else {}
    input_format = meta.get("input", INPUT_TEXT)
    name = meta.get("name", str(model_dir))
    modules_file = model_dir / "modules.json"
    if prefer_numpy and modules_file.is_file():
        modules = json.loads(modules_file.read_text())
        if len(modules) == 1 and modules[0].get("type", "").endswith("StaticEmbedding"):
            module_dir = model_dir / modules[0].get("path", "")
            if (module_dir / "model.safetensors").is_file():
                return StaticNumpyEncoder(model_dir, module_dir, input_format, tokenizer, name)
    return SentenceTransformerEncoder(model_dir, input_format, tokenizer, name)


# ---------------------------------------------------------------------------------------------
# Training the project model / fetching a configured one
# ---------------------------------------------------------------------------------------------


def _quiet_training() -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    for name in ("sentence_transformers", "transformers", "accelerate", "datasets"):
        logging.getLogger(name).setLevel(logging.ERROR)


def train_project_model(
    pairs: list[tuple[str, str]],
    vocabulary_texts: Sequence[str],
    tokenizer,
    out_dir: Path,
    seed: int = 13,
    epochs: int = EPOCHS,
    lr: float = LEARNING_RATE,
    dim: int = STATIC_DIM,
) -> Path:
    """Train the StaticEmbedding on (anchor, positive) pairs of normalised texts; save to out_dir.

    The vocabulary is every word and character of `vocabulary_texts` (normalised texts of the
    knowledge base). A batch never holds two pairs with the same positive, so the in-batch
    negatives of MultipleNegativesRankingLoss are always other FAQ items.

    The loop is written out (AdamW, linear warm-up and decay, like SentenceTransformerTrainer's
    defaults) because the Trainer's data pipeline costs ~6 s per model for ~0.3 s of arithmetic,
    and the build trains one model per calibration fold.
    """
    _quiet_training()
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
    from sentence_transformers.sentence_transformer.modules import StaticEmbedding
    from tokenizers import Tokenizer, models, pre_tokenizers

    vocab: dict[str, int] = {"[UNK]": 0}
    for text in vocabulary_texts:
        for tok in words_and_chars(text, tokenizer):
            vocab.setdefault(tok, len(vocab))
    hf_tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    hf_tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()

    def ids(texts: list[str]) -> list[list[int]]:
        out = []
        for text in texts:
            found = [vocab[t] for t in words_and_chars(text, tokenizer) if t in vocab]
            out.append(found or [0])
        return out

    rng = random.Random(seed)
    torch.manual_seed(seed)
    static = StaticEmbedding(hf_tok, embedding_dim=dim)
    with torch.no_grad():
        static.embedding.weight.normal_(0.0, 0.1)
        static.embedding.weight[0].zero_()
    model = SentenceTransformer(modules=[static], device="cpu")
    loss_fn = MultipleNegativesRankingLoss(model)

    anchors = ids([a for a, _ in pairs])
    positives_text = [p for _, p in pairs]
    positives = ids(positives_text)

    def batches() -> list[list[int]]:
        """Shuffled pairs dealt into batches of BATCH_SIZE, no positive twice in a batch."""
        order = list(range(len(pairs)))
        rng.shuffle(order)
        out: list[tuple[list[int], set[str]]] = []
        for i in order:
            for members, seen in out:
                if len(members) < BATCH_SIZE and positives_text[i] not in seen:
                    members.append(i)
                    seen.add(positives_text[i])
                    break
            else:
                out.append(([i], {positives_text[i]}))
        return [members for members, _ in out if len(members) > 1]

    def embed(rows: list[list[int]]) -> torch.Tensor:
        flat = torch.tensor([t for r in rows for t in r], dtype=torch.long)
        offsets = torch.tensor(np.cumsum([0] + [len(r) for r in rows[:-1]]), dtype=torch.long)
        return static.embedding(flat, offsets)

    # One thread: the matrices are tiny, and with two threads on two busy cores every step waits
    # on the other thread (measured: 1.5 s with one thread, 20-30 s with two).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        _run_training(static, loss_fn, anchors, positives, batches, epochs, lr, embed)
    finally:
        torch.set_num_threads(threads)
    with torch.no_grad():
        static.embedding.weight[0].zero_()
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save(str(out_dir), create_model_card=False)
    (out_dir / "encoder.json").write_text(
        json.dumps(
            {
                "name": PROJECT_MODEL,
                "input": INPUT_WORDS_CHARS,
                "dim": dim,
                "epochs": epochs,
                "lr": lr,
                "pairs": len(pairs),
                "vocabulary": len(vocab),
                "loss": "MultipleNegativesRankingLoss",
            },
            ensure_ascii=False,
            indent=2,
        )
    )
    return out_dir


def _run_training(static, loss_fn, anchors, positives, batches, epochs: int, lr: float, embed) -> None:
    """AdamW with a linear warm-up over the first 10% of the steps, then a linear decay."""
    import torch

    plan = [batches() for _ in range(epochs)]
    total = sum(len(b) for b in plan)
    warmup = max(1, int(0.1 * total))
    optimizer = torch.optim.AdamW(static.parameters(), lr=lr, weight_decay=0.0)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min((step + 1) / warmup, max(0.0, (total - step) / max(1, total - warmup)))
    )
    static.train()
    for epoch_batches in plan:
        for batch in epoch_batches:
            a = embed([anchors[i] for i in batch])
            p = embed([positives[i] for i in batch])
            loss = loss_fn.compute_loss_from_embeddings([a, p], None)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
    static.eval()


def save_configured_model(name: str, out_dir: Path) -> Path:
    """Copy a configured sentence-transformers model (hub name or path) into the index folder."""
    _quiet_training()
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(name, device="cpu")
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save(str(out_dir))
    (out_dir / "encoder.json").write_text(json.dumps({"name": name, "input": INPUT_TEXT}, ensure_ascii=False))
    return out_dir


def model_fingerprint(model_dir: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(Path(model_dir).rglob("*")):
        if path.is_file():
            h.update(str(path.relative_to(model_dir)).encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def encode_cached(encoder: Encoder, texts: Sequence[str], cache_dir: Path | None, fingerprint: str) -> np.ndarray:
    """Encode passages, reusing `<cache_dir>/<hash(model, texts)>.npy` when it exists."""
    key = hashlib.sha256((fingerprint + "\0" + "\0".join(texts)).encode()).hexdigest()[:24]
    if cache_dir is not None:
        path = cache_dir / f"{key}.npy"
        if path.is_file():
            vectors = np.load(path)
            if vectors.shape[0] == len(texts):
                os.utime(path)  # used: the build keeps what it touched
                return vectors
    vectors = encoder.encode(list(texts)) if texts else np.zeros((0, encoder.dim), dtype=np.float32)
    if cache_dir is not None:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = cache_dir / f".{key}.{os.getpid()}.npy"
        np.save(tmp, vectors)
        os.replace(tmp, cache_dir / f"{key}.npy")
    return vectors


# ---------------------------------------------------------------------------------------------
# The FAISS index
# ---------------------------------------------------------------------------------------------


SINGLE_THREAD_BELOW = 20  # faiss itself switches to BLAS from 20 queries on


class DenseIndex:
    """Normalised unit vectors in an exact inner-product index (or any faiss index given)."""

    def __init__(self, index=None):
        self.index = index

    @classmethod
    def build(cls, vectors: np.ndarray, factory: Callable[[int], object] | None = None) -> DenseIndex:
        import faiss

        vectors = _l2(vectors) if len(vectors) else np.zeros((0, vectors.shape[1]), dtype=np.float32)
        dim = vectors.shape[1]
        index = factory(dim) if factory else faiss.IndexFlatIP(dim)
        if not index.is_trained:
            index.train(vectors)
        index.add(vectors)
        return cls(index)

    @property
    def size(self) -> int:
        return int(self.index.ntotal)

    def search(self, query_vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        import faiss

        k = max(1, min(k, self.size))
        queries = np.ascontiguousarray(query_vectors, dtype=np.float32)
        if len(queries) < SINGLE_THREAD_BELOW:
            # For a handful of queries OpenMP's start-up costs far more than the scan itself
            # (measured: 100k vectors, 1 query, 2 busy cores: 33 ms with 2 threads, 2-4 ms with 1).
            faiss.omp_set_num_threads(1)
        scores, ids = self.index.search(queries, k)
        return scores, ids

    def save(self, path: Path) -> None:
        import faiss

        faiss.write_index(self.index, str(path))

    @classmethod
    def load(cls, path: Path) -> DenseIndex:
        import faiss

        return cls(faiss.read_index(str(path)))
