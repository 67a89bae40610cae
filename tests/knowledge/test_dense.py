"""The project's trained encoder and the FAISS index."""

from __future__ import annotations

import json

import numpy as np
import pytest

from knowledge.dense import PROJECT_MODEL, DenseIndex, encode_cached, load_encoder
from knowledge.engine import resolve_index_dir
from knowledge.tokenize import get_tokenizer


@pytest.fixture(scope="module")
def model_dir(index_dir):
    return resolve_index_dir(index_dir) / "model"


@pytest.fixture(scope="module")
def normalize_query(engine):
    return engine.retriever.lexicon.normalize_query


def test_the_built_model_is_the_projects_static_embedding(model_dir):
    meta = json.loads((model_dir / "encoder.json").read_text())
    assert meta["name"] == PROJECT_MODEL and meta["loss"] == "MultipleNegativesRankingLoss"
    modules = json.loads((model_dir / "modules.json").read_text())
    assert modules[0]["type"].endswith("StaticEmbedding")


def test_numpy_serving_matches_sentence_transformers(model_dir, normalize_query):
    tok = get_tokenizer()
    fast = load_encoder(model_dir, tok, prefer_numpy=True)
    slow = load_encoder(model_dir, tok, prefer_numpy=False)
    assert type(fast).__name__ == "StaticNumpyEncoder" and type(slow).__name__ == "SentenceTransformerEncoder"
    texts = [normalize_query(t) for t in ["证件照要多大", "无忧取证班多少钱", "忘记密码了", "股市行情"]]
    assert np.allclose(fast.encode(texts), slow.encode(texts), atol=1e-5)


def test_training_pulls_a_paraphrase_towards_its_own_question(model_dir, normalize_query):
    enc = load_encoder(model_dir, get_tokenizer())
    q_photo, q_price, para = enc.encode(
        [
            normalize_query("证件照、手持身份证照、签名照有什么要求？"),
            normalize_query("无忧取证班多少钱？"),
            normalize_query("上传的一寸照片有啥规定"),
        ]
    )
    assert float(para @ q_photo) > float(para @ q_price) + 0.2


def test_vectors_are_unit_length_and_empty_text_is_zero(model_dir):
    enc = load_encoder(model_dir, get_tokenizer())
    v = enc.encode(["证件照", ""])
    assert np.linalg.norm(v[0]) == pytest.approx(1.0, abs=1e-5)
    assert not v[1].any()


def test_flat_index_returns_the_nearest_vectors_and_survives_a_round_trip(tmp_path):
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(50, 16)).astype(np.float32)
    index = DenseIndex.build(vectors * 3.0)  # stored vectors are normalised: inner product = cosine
    query = vectors[7:8] / np.linalg.norm(vectors[7])
    scores, ids = index.search(query, 3)
    assert ids[0][0] == 7 and scores[0][0] == pytest.approx(1.0, abs=1e-5)
    assert scores[0][1] < scores[0][0]
    index.save(tmp_path / "x.faiss")
    assert DenseIndex.load(tmp_path / "x.faiss").search(query, 1)[1][0][0] == 7


def test_embeddings_are_cached_per_model_and_texts(tmp_path):
    class Counting:
        dim = 4
        calls = 0

        def encode(self, texts):
            Counting.calls += 1
            return np.ones((len(texts), 4), dtype=np.float32)

    enc = Counting()
    encode_cached(enc, ["a", "b"], tmp_path, "model-1")
    encode_cached(enc, ["a", "b"], tmp_path, "model-1")
    assert Counting.calls == 1
    encode_cached(enc, ["a", "b"], tmp_path, "model-2")  # another model: encoded again
    encode_cached(enc, ["a", "c"], tmp_path, "model-1")  # other texts: encoded again
    assert Counting.calls == 3
