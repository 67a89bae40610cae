"""Normalisation of what users type: width, script, punctuation, case, synonyms, pinyin, typos."""

from __future__ import annotations

from knowledge.textnorm import Lexicon, basic_normalize, clean_message, normalize_query, normalize_text, to_half_width


def test_clean_message_keeps_its_contract():
    assert clean_message("  ＡＢＣ１２３\u200b　你好\x07  ") == "ABC123 你好"
    assert to_half_width("，。") == "，。"  # Chinese punctuation is left to the caller
    assert clean_message("a\n\n\n\nb") == "a\n\nb"


def test_full_width_punctuation_and_case_are_folded():
    assert normalize_query("ＡＩ私塾班多少钱？？！") == normalize_query("ai私塾班多少钱")
    assert "?" not in normalize_query("证件照要求？") and "？" not in normalize_query("证件照要求？")


def test_traditional_chinese_becomes_simplified():
    q = normalize_query("資格庫中目前沒有您的數據 怎麼處理")
    assert "资格库" in q and "数据" in q and "处理" in q


def test_synonyms_fold_into_the_canonical_term():
    assert "二级建造师" in normalize_query("二建注册要什么条件")
    # A canonical term is not split into a shorter synonym plus a leftover character.
    assert normalize_query("手机号码怎么改") == normalize_query("手机号怎么改")


def test_pinyin_typed_instead_of_characters_becomes_the_domain_term():
    assert normalize_query("mima 忘了").startswith("密码")
    assert "闽政通" in normalize_query("用minzhengtong认证")
    assert "手机号" in normalize_query("shouji hao 怎么改")
    # A pinyin run followed by the rest of the term in characters.
    assert "通关必背班" in normalize_query("bibei班讲什么")


def test_homophone_typos_are_corrected_against_the_dictionary():
    assert "资格库" in normalize_query("资格裤里没有我的数据")
    assert "闽政通" in normalize_query("闽正通扫码认证")
    assert "证件照" in normalize_query("证件找要什么底色")


def test_correct_text_is_left_alone():
    # Two characters are corrected only when they are a true homophone (same tones):
    # "课是" is not "课时", "新名" is not "姓名".
    assert normalize_query("考前强化的课是哪个") == "考前强化的课是哪个"
    assert "新名称" in normalize_query("新名称账号内无注册人员")
    # English words of the material are not read as pinyin.
    assert "app" in normalize_query("下载的app打不开")
    assert "vip" in normalize_query("vip服务有什么")


def test_correction_comes_from_the_lexicon_not_from_a_list_of_typos():
    lex = Lexicon.from_dictionary(extra_terms=["测绘仪器"])
    assert "测绘仪器" in lex.normalize_query("侧绘仪器怎么校准")
    assert "测绘仪器" in lex.normalize_query("cehui yiqi 怎么校准")
    assert "测绘仪器" not in Lexicon.from_dictionary().normalize_query("侧绘仪器怎么校准")


def test_indexed_text_gets_the_same_folding_without_spelling_correction():
    assert normalize_text("二建 证件照。") == "二级建造师 证件照"
    assert basic_normalize("Ａ，Ｂ") == "a b"


def test_garbage_never_raises():
    for text in ["", "   ", "\x00\x01", "？？？", "😀😀", "a" * 5000, "ｍｉｍａ"]:
        assert isinstance(normalize_query(text), str)


def test_a_measure_word_inside_a_verb_object_synonym_is_read_through():
    assert normalize_query("换了家公司 二建怎么弄") == normalize_query("换公司 二建怎么弄")
    assert "变更注册" in normalize_query("想调个单位")
    assert "姓名变更" in normalize_query("身份证上改了个名字")
    assert "换个" in normalize_query("换个手机号"), "only where the verb and its object are a synonym"
