"""Pinyin typed among Chinese reaches Rasa and the forms as characters (bot/chat_pinyin.py)."""

import pytest

from bot.chat_cleaning import clean_message
from bot.chat_pinyin import ChatPinyin, read_words


@pytest.mark.parametrize(
    "typed, read",
    [
        (
            "我是ling基础 考了3次都没guo 工作不mang",
            "我是零基础 考了3次都没过 工作不忙",
        ),  # syllables completed by their neighbours
        ("na个班适合我", "哪个班适合我"),
        ("单科公共课多少qian", "单科公共课多少钱"),
        ("shenme时候能批下来", "什么时候能批下来"),  # a whole word
        ("mima忘了 zenme办", "密码忘了 怎么办"),
        ("tuijian一下", "推荐一下"),
    ],
)
def test_pinyin_among_chinese_becomes_the_word(typed, read):
    assert clean_message(typed) == read


@pytest.mark.parametrize(
    "typed",
    [
        "AI私塾班多少钱",  # latin names stay
        "app上传照片失败",
        "ok 谢谢",
        "ma 这个呢",  # a lone syllable with nothing around it that completes a word
        "我用的mac电脑",
    ],
)
def test_latin_that_is_not_a_sure_word_stays(typed):
    assert clean_message(typed) == typed


def test_a_lone_syllable_needs_its_neighbours():
    chat = ChatPinyin(["没过", "多少钱"])
    assert chat.convert("没guo") == "没过"
    assert chat.convert("guo了") == "guo了"  # 过 alone is not a word of the list
    assert chat.convert("qian") == "qian"


def test_every_word_of_the_list_is_chinese_and_can_be_typed_back():
    words = read_words()
    assert len(words) > 50
    chat = ChatPinyin(words)
    from pypinyin import lazy_pinyin

    for word in words:
        assert chat.convert("说" + "".join(lazy_pinyin(word)) + "。") == "说" + word + "。", word
