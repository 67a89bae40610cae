"""What a user's message looks like when it reaches Rasa (bot/chat_cleaning.py)."""

from __future__ import annotations

import pytest

from bot.chat_cleaning import clean_message


def test_clean_message_keeps_its_contract():
    assert clean_message("  ＡＢＣ１２３\u200b　你好\x07  ") == "ABC123 你好"
    assert clean_message("a\n\n\n\nb") == "a\n\nb"


@pytest.mark.parametrize(
    "typed, read",
    [
        ("資格庫里沒有我的數據", "资格库里没有我的数据"),
        ("繼續教育怎麼報名", "继续教育怎么报名"),
        ("註冊要多久", "注册要多久"),
        ("證書丟了怎麼辦", "证书丢了怎么办"),
    ],
)
def test_traditional_characters_reach_rasa_in_simplified_form(typed, read):
    assert clean_message(typed) == read
