"""BM25 over jieba tokens (bm25s)."""

from __future__ import annotations

import numpy as np

from knowledge.bm25 import BM25Index
from knowledge.tokenize import tokens

UNITS = ["证件照大小必须在30KB以内", "个人版登录密码忘了怎么找回", "企业版忘记登录账号", "无忧取证班全科价格"]


def _index():
    return BM25Index().build([tokens(u.lower()) for u in UNITS])


def test_the_unit_sharing_the_rare_words_ranks_first():
    idx = _index()
    scores = idx.scores(tokens("密码忘了"))
    assert int(np.argmax(scores)) == 1
    assert int(np.argmax(idx.scores(tokens("企业账号忘了")))) == 2


def test_normalised_scores_are_on_a_fixed_scale():
    idx = _index()
    long_match = idx.normalized_scores(tokens("无忧取证班全科价格")).max()
    short_match = idx.normalized_scores(tokens("企业版账号")).max()
    partial = idx.normalized_scores(tokens("无忧取证班全科价格 下雨 天气")).max()
    # A question fully contained in a unit scores about the same whatever its length ...
    assert 0.3 < short_match <= 1.5 and 0.3 < long_match <= 1.5
    assert abs(long_match - short_match) < 0.5
    # ... and words the index never saw count against the match.
    assert partial < long_match


def test_unknown_words_score_nothing_and_weigh_like_the_rarest_word():
    idx = _index()
    assert not idx.scores(["股市"]).any()
    assert idx.token_weight("股市") == max(idx.idf.values())


def test_save_and_load_give_the_same_scores(tmp_path):
    idx = _index()
    idx.save(tmp_path / "bm25")
    again = BM25Index.load(tmp_path / "bm25")
    q = tokens("证件照多大")
    assert np.allclose(idx.scores(q), again.scores(q))
