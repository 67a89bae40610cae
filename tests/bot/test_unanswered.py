"""Grouping of unanswered questions: by meaning with the knowledge engine's readings (the cases the
issue names kept apart, paraphrases kept together, candidate pruning that never loses a group the
full comparison finds), and by token overlap when there is no index."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import unanswered
from bot.unanswered import (
    SIMILAR,
    WORDS_SIMILAR,
    Row,
    _prefix,
    _topic_prefix,
    group_by_meaning,
    group_by_words,
    reading_of,
    similarity,
    topic_vector,
)
from bot.unanswered_store import question_key
from tests.knowledge.index_builder import built_index

T0 = datetime(2026, 12, 1, tzinfo=timezone.utc)


def rows_of(questions: list[str], readings: list[dict] | None = None) -> list[Row]:
    """The questions as stored rows, asked one minute apart in this order."""
    return [
        Row(
            i,
            question_key(q)[0],
            q,
            1,
            T0 + timedelta(minutes=i),
            T0 + timedelta(minutes=i),
            f"web-{i}",
            question_key(q)[1].split(),
            readings[i] if readings else None,
        )
        for i, q in enumerate(questions)
    ]


# ---------------------------------------------------------------------------------------------
# By meaning, with the real knowledge index
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def engine():
    from knowledge.engine import Engine

    return Engine.load(built_index())


def grouped(engine, questions: list[str]) -> list[list[str]]:
    rows = rows_of(questions, [reading_of(engine.answer(q).hits) for q in questions])
    return [sorted(g.questions) for g in group_by_meaning(rows, engine.retriever.bm25_units.token_weight)]


# The issue: 挂失, 退款, 挂证 and 印章 ended up in one group; so did a transfer from another province,
# 增项 and looking up a registration. Two wordings of each, written for this test.
ISSUE = {
    "挂失": ["二建证书丢了要怎么挂失", "证书弄丢了 怎么补办"],
    "退款": ["课程不想上了可以退款吗", "申请退款要多久到账"],
    "挂证": ["二建挂证一年多少钱", "挂证一年能拿多少钱"],
    "印章": ["执业印章的样式在哪里看", "二建印章去哪刻 多少钱"],
    "外省转入": ["外省的二建怎么转到福建注册", "在广东注册的二建 想转来福建"],
    "增项": ["二建增项注册怎么办理", "二建增项怎么申请"],
    "查询注册": ["怎么查询我的注册信息", "在哪能查到我的注册信息"],
}


def meaning_of(question: str, meanings: dict[str, list[str]]) -> str:
    return next(m for m, qs in meanings.items() if question in qs)


# Paraphrases the index reads differently since the user-style training messages (2026-12-03):
# "二建增项注册怎么办理" leans to dual_certificate and "二建增项怎么申请" to added_specialty_as_main;
# "…多少钱" brings the price items into the seal question's reading. Kept apart from the others,
# never mixed with them.
READ_APART = ("增项", "印章")


def test_the_meanings_the_issue_names_are_kept_apart_and_their_paraphrases_together(engine):
    questions = [q for qs in ISSUE.values() for q in qs]
    groups = grouped(engine, questions)
    mixed = [g for g in groups if len({meaning_of(q, ISSUE) for q in g}) > 1]
    assert mixed == []
    together = [sorted(qs) for m, qs in ISSUE.items() if m not in READ_APART]
    assert all(g in groups for g in together)


@pytest.mark.xfail(strict=True, reason="the index reads these paraphrases apart (READ_APART): known limit")
@pytest.mark.parametrize("meaning", READ_APART)
def test_paraphrases_the_index_reads_apart_are_still_split(engine, meaning):
    assert sorted(ISSUE[meaning]) in grouped(engine, ISSUE[meaning])


@pytest.mark.xfail(
    strict=True,
    reason="one gap of the material (other_province) covers both, and the "
    "encoder reads them alike: known limit, see make eval-unanswered",
)
def test_transfer_from_another_province_is_kept_apart_from_nationwide_use(engine):
    meanings = {"外省转入": ISSUE["外省转入"], "全国通用": ["二建证书全国通用吗", "二建在全国都能用吗"]}
    groups = grouped(engine, [q for qs in meanings.values() for q in qs])
    assert all(len({meaning_of(q, meanings) for q in g}) == 1 for g in groups)


def test_a_repeated_question_joins_its_group_and_the_group_keeps_its_id(engine):
    first = ["二建证书丢了要怎么挂失", "课程不想上了可以退款吗"]
    rows = rows_of(
        first + ["证书弄丢了 怎么补办"], [reading_of(engine.answer(q).hits) for q in first + ["证书弄丢了 怎么补办"]]
    )
    idf = engine.retriever.bm25_units.token_weight
    before = {g.questions[0]: g.id for g in group_by_meaning(rows[:2], idf)}
    after = group_by_meaning(rows, idf)
    lost = next(g for g in after if "二建证书丢了要怎么挂失" in g.questions)
    assert lost.id == before["二建证书丢了要怎么挂失"] and lost.count == 2
    assert lost.first_seen == T0 and lost.last_seen == T0 + timedelta(minutes=2) and lost.sender == "web-2"


def test_the_nearest_faq_item_is_the_one_the_questions_read_closest_to(engine):
    rows = rows_of(["执业印章的样式在哪里看"], [reading_of(engine.answer("执业印章的样式在哪里看").hits)])
    (group,) = group_by_meaning(rows, engine.retriever.bm25_units.token_weight)
    faq_id, score = group.nearest_faq()
    assert faq_id == "seal_make" and 0 < score <= 1


# ---------------------------------------------------------------------------------------------
# The pruning is exact
# ---------------------------------------------------------------------------------------------

ENTRIES = [f"gap:g{i}" for i in range(6)] + [f"faq:f{i}" for i in range(6)]
READINGS = st.dictionaries(st.sampled_from(ENTRIES), st.floats(0.05, 1.0), min_size=1, max_size=5)
WORDS = st.lists(
    st.sampled_from(["证书", "挂失", "退费", "印章", "增项", "注册", "证", "章", "退"]), min_size=1, max_size=5
)


@given(READINGS, READINGS, st.floats(0.05, 0.95))
@settings(max_examples=300, deadline=None)
def test_readings_close_enough_share_a_prefix_entry(a, b, floor):
    va, vb = topic_vector(a), topic_vector(b)
    if sum(w * vb.get(k, 0.0) for k, w in va.items()) >= floor:
        assert set(_topic_prefix(va, floor)) & set(vb)


def brute_force(rows: list[Row], idf, threshold: float) -> list[list[str]]:
    """The plain algorithm: every question compared with every group's leader."""
    leaders: list[Row] = []
    members: list[list[str]] = []
    for row in sorted(rows, key=lambda r: (r.first_seen, r.id)):
        scored = [(similarity(row, leader, idf), -g) for g, leader in enumerate(leaders)]
        best = max(scored, default=None)
        if best is None or best[0] < threshold:
            leaders.append(row)
            members.append([])
            best = (0, -(len(leaders) - 1))
        members[-best[1]].append(row.question)
    return sorted(sorted(m) for m in members)


@given(st.lists(st.tuples(WORDS, READINGS), min_size=1, max_size=25), st.sampled_from([0.45, SIMILAR, 0.8]))
@settings(max_examples=150, deadline=None)
def test_grouping_by_meaning_matches_the_full_comparison(items, threshold):
    idf = {"证书": 1.0, "注册": 0.5}.get
    rows = [
        Row(i, f"k{i}", f"q{i}", 1, T0 + timedelta(minutes=i), T0 + timedelta(minutes=i), None, words, reading)
        for i, (words, reading) in enumerate(items)
    ]
    weight = lambda t: idf(t) or 2.0  # noqa: E731
    found = sorted(sorted(g.questions) for g in group_by_meaning(rows, weight, threshold))
    assert found == brute_force(rows, weight, threshold)


# ---------------------------------------------------------------------------------------------
# By words only (no index)
# ---------------------------------------------------------------------------------------------

TOKENS = st.sets(
    st.sampled_from(list("证照册认注库资") + ["实名认证", "资格库", "手机号", "密码", "继续教育", "二建"]),
    min_size=1,
    max_size=8,
)


@given(TOKENS, TOKENS)
@settings(max_examples=500, deadline=None)
def test_sets_similar_enough_to_join_share_a_prefix_token(a, b):
    if len(a & b) / len(a | b) >= WORDS_SIMILAR:
        assert set(_prefix(a)) & set(_prefix(b))


def words_brute_force(rows: list[Row]) -> list[list[str]]:
    groups = []
    for row in rows:
        toks = set(unanswered_tokens(row.question)) or {row.question}
        scores = [len(toks & g[0]) / len(toks | g[0]) for g in groups]
        best = max(range(len(scores)), key=lambda i: (scores[i], -i), default=None)
        if best is None or scores[best] < WORDS_SIMILAR:
            groups.append((toks, []))
            best = len(groups) - 1
        groups[best][1].append(row.question)
    return sorted(sorted(g[1]) for g in groups)


def unanswered_tokens(question: str) -> list[str]:
    return question_key(question)[1].split()


def test_grouping_by_words_matches_the_full_comparison_on_real_looking_questions():
    stems = [
        "资格库里没有我的数据",
        "手机号换了登不上",
        "密码忘了怎么办",
        "继续教育要多少学时",
        "实名认证去哪里弄",
        "证件照上传失败",
        "AI私塾班多少钱",
        "延续注册多久审完",
    ]
    tails = ["", "急", "在线等", "，公司人事问的", "，厦门的", "？？", "，第二次问了"]
    rows = rows_of([stem + tail for stem in stems for tail in tails])
    groups = group_by_words(rows)
    assert sorted(sorted(g.questions) for g in groups) == words_brute_force(rows)
    assert len(groups) <= len(stems) + 2, "each stem with its tails is (nearly) one gap"
    assert math.isclose(sum(g.count for g in groups), len(rows))
    assert all(g.id.startswith("g") for g in groups) and len({g.id for g in groups}) == len(groups)
    assert unanswered.group_id(rows[0]) in {g.id for g in groups}
