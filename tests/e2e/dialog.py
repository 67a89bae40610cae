"""A scripted user for e2e tests: answers whatever the assistant asks, from a table of cues.

Following the conversation (instead of a fixed list of messages) keeps the tests about what a user
notices, and lets the same user talk to different bot/ instances in turn.
"""

from __future__ import annotations

import re
from collections.abc import Callable

NUMBER = re.compile(r"EN\d{8}-[0-9A-Z]{4}(?:[0-9A-Z]{4})?")

# What this user says when asked about each thing (matched on words of the question, in order).
ANSWERS = [
    ("确认提交报名", "确认"),  # the summary mentions 姓名 and 手机 too: it comes first
    ("零基础吗", "我是零基础"),
    ("没通过", "考过几次都没通过"),
    ("工作忙", "时间比较充裕"),
    ("现场", "有现场经验"),
    ("哪个专业", "建筑实务"),
    ("哪几科", "全科 建筑实务"),
    ("哪个套餐", "无忧取证班"),
    ("姓名", "张三"),
    ("手机号", "138 1234 5678"),
    ("什么时间接电话", "工作日晚上"),
]


def answer_for(reply: str, answers=ANSWERS) -> str | None:
    for cue, answer in answers:
        if cue in reply:
            return answer
    return None


def converse(say: Callable[[str], str], opening: str, done: re.Pattern, max_turns: int = 12, answers=ANSWERS) -> str:
    """Say `opening`, then answer each question until a reply matches `done`; return that reply.

    `say` may be a different instance on every call (scale-out tests alternate bot/ workers)."""
    reply = say(opening)
    for _ in range(max_turns):
        if done.search(reply):
            return reply
        answer = answer_for(reply, answers)
        assert answer, f"the assistant said something this user cannot answer:\n{reply}"
        reply = say(answer)
    raise AssertionError(f"the conversation did not finish:\n{reply}")
