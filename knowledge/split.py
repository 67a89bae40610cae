"""Split a message into the questions it asks: "延续注册多久能批 顺便问下无忧班多少钱" -> two.

People tell their situation first and ask last, and sometimes ask twice in one breath. A message
is cut into clauses (at sentence punctuation, commas, spaces and words like 顺便问下 / 另外),
and clauses are grouped so that each group ends with a clause that asks something: the situation
stays with the question it explains. The engine decides whether the groups really are separate
questions (each must be answered on its own, by different items).
"""

from __future__ import annotations

import re

# Words that open a second question.
_JOINERS = re.compile(
    r"(?:顺便|另外|还有|再|还想|另)(?:问|请问)(?:一)?下|顺便说一下|顺便|另外|还有个问题|还有一个问题|还有就是"
)
_CUT = re.compile(r"[？?。!！；;\n]+|[,，、\s]+")
# A clause that asks something.
_ASKS = re.compile(
    r"吗|嘛|呢|么|不$|没$|什么|啥|谁|怎么|咋|怎样|如何|哪|(?<![好前这那有])几(?!乎)|有几[种个类项门科家样]|多少|多久|多长|多大|是否|是不是|能不能|可不可以|"
    r"要不要|需不需要|有没有|会不会|行不行|对不对|好不好|用不用|算不算|能否|可否|求|请问|"
    r"是.{1,8}还是"  # 是市里审还是省里审 (not 还是不行: "still")
)
MIN_QUESTION_CHARS = 4


def clauses(text: str) -> list[str]:
    marked = _JOINERS.sub(lambda m: "\n", text)
    return [c.strip() for c in _CUT.split(marked) if c and c.strip()]


def split_questions(text: str) -> list[str]:
    """The questions of a message in the order asked (one element when it asks one thing)."""
    groups: list[list[str]] = [[]]
    for clause in clauses(text):
        groups[-1].append(clause)
        if _ASKS.search(clause):
            groups.append([])
    if not groups[-1]:
        groups.pop()
    elif len(groups) > 1:  # trailing words without a question belong to the last question
        tail = groups.pop()
        groups[-1].extend(tail)
    questions = [" ".join(g) for g in groups]
    if len(questions) < 2 or any(len(q.replace(" ", "")) < MIN_QUESTION_CHARS for q in questions):
        return [text]
    return questions


def question_focus(text: str) -> str | None:
    """The asking part of a long message: its clauses that ask something (a short one keeps the
    clause before it), without the situation and the feelings around them; None when that is the
    whole message or nothing."""
    parts = clauses(text)
    if len(parts) < 2:
        return None
    keep: list[str] = []
    for i, clause in enumerate(parts):
        if _ASKS.search(clause):
            if len(clause) < 6 and i > 0 and parts[i - 1] not in keep:
                keep.append(parts[i - 1])
            keep.append(clause)
    focus = " ".join(keep)
    if len(focus.replace(" ", "")) < MIN_QUESTION_CHARS or len(keep) == len(parts):
        return None
    return focus
