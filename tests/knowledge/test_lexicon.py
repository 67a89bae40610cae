"""Normalisation of what users type: width, script, punctuation, case, synonyms, pinyin, typos."""

from __future__ import annotations

import pytest

from knowledge.characters import basic_normalize, to_half_width
from knowledge.lexicon import Lexicon


@pytest.fixture(scope="module")
def lexicon(engine) -> Lexicon:
    """The engine's lexicon (dictionary, synonyms and the words of the index), as the service reads."""
    return engine.retriever.lexicon


def test_full_width_punctuation_and_case_are_folded(lexicon):
    assert lexicon.normalize_query("ＡＩ私塾班多少钱？？！") == lexicon.normalize_query("ai私塾班多少钱")
    assert "?" not in lexicon.normalize_query("证件照要求？") and "？" not in lexicon.normalize_query("证件照要求？")


def test_traditional_chinese_becomes_simplified(lexicon):
    q = lexicon.normalize_query("資格庫中目前沒有您的數據 怎麼處理")
    assert "资格库" in q and "数据" in q and "处理" in q


def test_traditional_phrases_and_regional_variants_become_the_simplified_words(lexicon):
    # Taiwan and Hong Kong forms, and 批覆 (a phrase whose simplified form is 批复, not 批覆).
    assert basic_normalize("審批多久能批覆") == "审批多久能批复"
    assert basic_normalize("哪裡辦理繼續教育") == basic_normalize("哪裏辦理繼續教育") == "哪里办理继续教育"
    assert basic_normalize("延續註冊") == "延续注册"


def test_synonyms_fold_into_the_canonical_term(lexicon):
    assert "二级建造师" in lexicon.normalize_query("二建注册要什么条件")
    # A canonical term is not split into a shorter synonym plus a leftover character.
    assert lexicon.normalize_query("手机号码怎么改") == lexicon.normalize_query("手机号怎么改")


def test_pinyin_typed_instead_of_characters_becomes_the_domain_term(lexicon):
    assert lexicon.normalize_query("mima 忘了").startswith("密码")
    assert "闽政通" in lexicon.normalize_query("用minzhengtong认证")
    assert "手机号" in lexicon.normalize_query("shouji hao 怎么改")
    # A pinyin run followed by the rest of the term in characters.
    assert "通关必背班" in lexicon.normalize_query("bibei班讲什么")


def test_homophone_typos_are_corrected_against_the_dictionary(lexicon):
    assert "资格库" in lexicon.normalize_query("资格裤里没有我的数据")
    assert "闽政通" in lexicon.normalize_query("闽正通扫码认证")
    assert "证件照" in lexicon.normalize_query("证件找要什么底色")


def test_correct_text_is_left_alone(lexicon):
    # Two characters are corrected only when they are a true homophone (same tones):
    # "课是" is not "课时", "新名" is not "姓名".
    assert lexicon.normalize_query("考前强化的课是哪个") == "考前强化的课是哪个"
    assert "新名称" in lexicon.normalize_query("新名称账号内无注册人员")
    # English words of the material are not read as pinyin.
    assert "app" in lexicon.normalize_query("下载的app打不开")
    assert "vip" in lexicon.normalize_query("vip服务有什么")


def test_correction_comes_from_the_lexicon_not_from_a_list_of_typos():
    lex = Lexicon.from_dictionary(extra_terms=["测绘仪器"])
    assert "测绘仪器" in lex.normalize_query("侧绘仪器怎么校准")
    assert "测绘仪器" in lex.normalize_query("cehui yiqi 怎么校准")
    assert "测绘仪器" not in Lexicon.from_dictionary().normalize_query("侧绘仪器怎么校准")


def test_half_width_keeps_chinese_punctuation():
    assert to_half_width("，。") == "，。"  # Chinese punctuation is left to the caller


def test_indexed_text_gets_the_same_folding_without_spelling_correction(lexicon):
    assert lexicon.normalize_text("二建 证件照。") == "二级建造师 证件照"
    assert basic_normalize("Ａ，Ｂ") == "a b"


def test_garbage_never_raises(lexicon):
    for text in ["", "   ", "\x00\x01", "？？？", "😀😀", "a" * 5000, "ｍｉｍａ"]:
        assert isinstance(lexicon.normalize_query(text), str)


def test_a_measure_word_inside_a_verb_object_synonym_is_read_through(lexicon):
    assert lexicon.normalize_query("换了家公司 二建怎么弄") == lexicon.normalize_query("换公司 二建怎么弄")
    assert "变更注册" in lexicon.normalize_query("想调个单位")
    assert "姓名变更" in lexicon.normalize_query("身份证上改了个名字")
    assert "换个" in lexicon.normalize_query("换个手机号"), "only where the verb and its object are a synonym"
