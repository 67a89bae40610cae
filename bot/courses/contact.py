"""The one rule for the contact a user gives: a mainland mobile number and a name.

The chat asks bot/ (POST /api/contact/check) instead of keeping its own copy, so what the chat
accepts and what the enrollment and lead endpoints accept are the same set. A refusal is a
ValueError whose text tells the user what to type instead.
"""

from __future__ import annotations

import re
import unicodedata

MOBILE_EXAMPLE = "请重新输入11位中国大陆手机号，例如 138 1234 5678。"
MOBILE_HINT = "手机号格式不正确：请填写11位中国大陆手机号（以1开头、第二位是3-9），例如 138 1234 5678。"
NAME_HINT = "姓名请填写2-30个字的中文或英文（可以有空格、“·”或“-”），不要包含数字或其他符号。"

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
# What people put between the digits: spaces, dashes, brackets around a country code.
SEPARATORS = re.compile(r"[\s\-()]")
COUNTRY_PREFIXES = ("+86", "0086", "86")
_NAME = re.compile(
    r"^[\u3400-\u4dbf\u4e00-\u9fffA-Za-z][\u3400-\u4dbf\u4e00-\u9fffA-Za-z ·•.'\-]*[\u3400-\u4dbf\u4e00-\u9fffA-Za-z.]$"
)


def normalize_mobile(value: str) -> str:
    """'+86 138-1234-5678', '0086 138 1234 5678', '１３８１２３４５６７８' -> '13812345678'.

    ValueError with what to fix: the number of digits when it is not 11, the first two digits when
    they cannot start a mainland mobile, the general hint for anything that is not digits."""
    # NFKC: full-width digits, ＋ and （）, and the ideographic space become their ASCII forms.
    digits = SEPARATORS.sub("", unicodedata.normalize("NFKC", str(value or "")))
    for prefix in COUNTRY_PREFIXES:
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            digits = digits[len(prefix) :]
            break
    if not digits.isascii() or not digits.isdigit():
        raise ValueError(MOBILE_HINT)
    if len(digits) != 11:
        raise ValueError(f"手机号应该是11位数字，您输入的是{len(digits)}位。{MOBILE_EXAMPLE}")
    if not _MOBILE.match(digits):
        raise ValueError(f"这不像中国大陆手机号（应以1开头，第二位是3-9）。{MOBILE_EXAMPLE}")
    return digits


def normalize_name(value: str) -> str:
    """Runs of spaces folded into one; ValueError(NAME_HINT) unless 2-30 letters of a name."""
    name = re.sub(r"\s+", " ", str(value or "")).strip()
    if not 2 <= len(name) <= 30 or not _NAME.match(name):
        raise ValueError(NAME_HINT)
    return name
