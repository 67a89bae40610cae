"""What kind of answer a question asks for, and whether an entry's text can give it.

A user who asks 多久 wants a time limit, 多少钱 a price, 电话 a number, 什么时候 a date. When the best
entry's text holds nothing of that kind ("私教精讲班什么时候开课" -> the class's description has
hours, no date), the entry may be on the topic but it does not answer the question: the decision
reads that as a clash (`clash`). Questions without such a word (how, may I, what is) never clash.

Patterns are read on the basic-normalised question (simplified, lower case, half width), before
synonyms are folded, so "多少钱" is still "多少钱".
"""

from __future__ import annotations

import re

# type -> (question pattern, pattern of what an answer of that type contains)
TYPES: dict[str, tuple[re.Pattern, re.Pattern]] = {
    # a time limit or a period: 10个工作日, 2年有效期, 1个工作日内
    # (a count of days that tells the situation, "等了好几天了", "前几年", is no question)
    "duration": (
        re.compile(
            r"多久|多长时间|多少天|(?<![好前这那有])几天(?![前了])|几个工作日|多少个工作日|时限|期限|"
            r"(?<![好前这那有])几年(?![前了])|多少年|(?<![好前这那有])几个月(?![前了])|多少个月|多长|"
            r"什么时候能|啥时候能|多快"
        ),
        re.compile(r"工作日|有效期|年有效|小时|\d+\s*[天年]|[一二两三四五六七八九十]+\s*个?[天年月]"),
    ),
    # hours of a class or of continuing education
    "hours": (
        re.compile(r"几个?小时|多少小时|多少课时|几节|课时|多少学时|几个?学时|学多少|学几"),
        re.compile(r"小时|学时"),
    ),
    "price": (
        re.compile(
            r"多少钱|价格|价钱|费用|学费|收费|几块|多少米|报价|价位|贵不贵|多贵|便宜|优惠|折扣|打折|划算|要钱|交钱|花钱|"
            r"(报|买|交|花).{0,10}多少(?!学时|小时|个|天|年|分|科|门)"
        ),
        re.compile(r"¥|\d+\s*元|定价|价格"),
    ),
    # a telephone number
    # (not "打电话也没人接": a number is asked for)
    "contact": (
        re.compile(r"电话(号码|号|是|多少|呢|给|发)|(客服|咨询|联系|办公)电话|热线|联系方式|客服号|打哪个电话|电话$"),
        re.compile(r"\d{5,}"),
    ),
    # a date or a time of day
    "when": (
        re.compile(r"什么时候(?!能)|啥时候(?!能)|几月|哪天|何时|几号|几点|开课"),
        re.compile(r"\d{4}\s*年\s*\d{1,2}\s*月|\d{1,2}\s*月\s*\d{1,2}\s*日"),
    ),
    # how early before a deadline ("延续注册要提前多久办"): a processing time (1个工作日内) does not say
    "advance": (
        re.compile(
            r"提前(多久|多长时间|多少天|几天|几个月|多少个月|多少时间)|(到期|过期|期满)(之?前|以前)(多久|多少天|几天|几个月)"
        ),
        re.compile(r"提前\d|提前[一二两三四五六七八九十]|(到期|期满|届满)(之?前|以前)"),
    ),
    # a year ("赠送的强化精讲班是哪一年的": 2024年)
    "year": (re.compile(r"哪一?年|几几年"), re.compile(r"(19|20)\d{2}\s*年")),
}


def question_types(basic_normalized_question: str) -> set[str]:
    q = basic_normalized_question
    found = {name for name, (pattern, _) in TYPES.items() if pattern.search(q)}
    if "duration" in found:
        found.discard("when")  # 什么时候能批下来 is a time limit, not a date
    if "advance" in found:
        found.discard("duration")  # 提前多久 asks how early, not how long something takes
    return found


def answer_types(text: str) -> set[str]:
    return {name for name, (_, pattern) in TYPES.items() if pattern.search(text)}


def clash(question: set[str], answer: set[str]) -> float:
    """1.0 when the question asks for a kind of answer the entry's text does not hold."""
    return 1.0 if question and not (question & answer) else 0.0
