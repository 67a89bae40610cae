"""Segmentation with the project dictionary."""

from __future__ import annotations

import threading

from knowledge.tokenize import STOPWORDS, get_tokenizer, tokens


def test_domain_terms_stay_one_word(engine):
    tok = get_tokenizer()
    assert "资格库" in tok.words("资格库里没有我的数据")
    assert "闽政通" in tok.words("闽政通扫码认证")
    assert "无忧取证班" in tok.words("无忧取证班多少钱")
    # Dictionary words are added in normalised (lower-case) form, matching normalised text.
    assert "secseal安全阅览器" in tok.words(engine.retriever.lexicon.normalize_text("SecSeal安全阅览器怎么装"))


def test_retrieval_tokens_drop_stopwords_and_punctuation_but_keep_content_characters():
    words = get_tokenizer().tokens("执业印章去哪里刻 的了吗", chars=False)
    assert "执业印章" in words and "刻" in words  # a one-character content word is kept
    assert not {"的", "了", "吗", "去"} & set(words)
    assert all(w.strip() for w in words)


def test_search_mode_adds_sub_words_and_characters():
    toks = tokens("二级建造师注册管理信息系统")
    assert "二级建造师注册管理信息系统" in toks and "建造师" in toks
    assert "统" in toks  # characters too, so a different segmentation still overlaps
    assert not [t for t in tokens("的了吗呢") if t in STOPWORDS]


def test_one_shared_tokenizer_even_under_concurrent_first_use():
    seen = []
    threads = [threading.Thread(target=lambda: seen.append(get_tokenizer())) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(t) for t in seen}) == 1
