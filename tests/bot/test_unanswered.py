"""Grouping of unanswered questions: the candidate filter never loses a group the full comparison finds."""
from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot import unanswered
from bot.unanswered import SIMILAR, _prefix, group_questions

TOKENS = st.sets(st.sampled_from(list("证照册认注库资") + ["实名认证", "资格库", "手机号", "密码", "继续教育", "二建"]),
                 min_size=1, max_size=8)


@given(TOKENS, TOKENS)
@settings(max_examples=500, deadline=None)
def test_sets_similar_enough_to_join_share_a_prefix_token(a, b):
    if len(a & b) / len(a | b) >= SIMILAR:
        assert set(_prefix(a)) & set(_prefix(b))


def brute_force(rows):
    """The plain algorithm: every question compared with every group."""
    groups = []
    for question, *_ in rows:
        toks = set(unanswered.tokens(unanswered.normalize_query(question))) or {question}
        scores = [len(toks & g[0]) / len(toks | g[0]) for g in groups]
        best = max(range(len(scores)), key=lambda i: (scores[i], -i), default=None)
        if best is None or scores[best] < SIMILAR:
            groups.append((toks, []))
            best = len(groups) - 1
        groups[best][1].append(question)
    return sorted(sorted(g[1]) for g in groups)


def test_grouping_matches_the_full_comparison_on_real_looking_questions():
    stems = ["资格库里没有我的数据", "手机号换了登不上", "密码忘了怎么办", "继续教育要多少学时", "实名认证去哪里弄",
             "证件照上传失败", "AI私塾班多少钱", "延续注册多久审完"]
    tails = ["", "急", "在线等", "，公司人事问的", "，厦门的", "？？", "，第二次问了"]
    now = datetime(2026, 12, 1)
    rows = [(stem + tail, now - timedelta(minutes=i), f"web-{i}") for i, (stem, tail) in
            enumerate((s, t) for s in stems for t in tails)]
    groups = group_questions(rows, max_examples=100)
    assert sorted(sorted(g.questions) for g in groups) == brute_force(rows)
    assert len(groups) <= len(stems) + 2, "each stem with its tails is (nearly) one gap"
