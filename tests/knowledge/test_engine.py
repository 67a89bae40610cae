"""The engine over the session's index: search, answer / decline, gaps, follow-ups, refusals."""

from __future__ import annotations

import dataclasses
import shutil

import pytest

from knowledge.engine import Engine, IndexMissing, IndexStale, IndexUnavailable, resolve_index_dir
from knowledge.paths import ROOT


def test_a_faq_question_is_answered_with_its_source(engine):
    d = engine.answer("证件照、手持身份证照、签名照有什么要求？")
    assert d.kind == "answer" and d.faq_id == "photo_rules"
    assert "30KB" in d.answer
    assert d.source_title == "福建省二级建造师注册办理指南"
    assert d.source_section.startswith("注意事项第2条")


@pytest.mark.parametrize(
    "question, faq_id",
    [
        ("注册时提示资格裤中没有数据", "error_no_qualification"),  # homophone typo
        ("mima 找不回来了", "password_reset"),  # pinyin
        ("二建註冊要甚麼條件", "reg_eligibility"),  # traditional characters
        ("ＡＩ私塾班全科多少钱？", "price_ai"),  # full width
        ("延续注册要多少个工作日", "time_renewal_added"),
    ],
)
def test_messy_questions_find_the_right_item(engine, question, faq_id):
    hits = [h for h in engine.search(question, k=5) if h.faq_id]
    assert hits[0].faq_id == faq_id


def test_off_topic_questions_are_declined_not_answered(engine):
    for q in ["帮我写一首关于秋天的诗", "今晚的足球比赛谁赢了", "红烧排骨怎么做好吃", "你好吗"]:
        d = engine.answer(q)
        assert d.kind == "decline", (q, d.kind, d.faq_id)
        assert d.faq_id is None and d.suggestions == [] and "转人工" in d.answer


def test_a_declined_question_that_names_the_material_offers_its_nearest_questions(engine):
    strict = Engine(engine.retriever, engine.manifest)
    for mode, model in strict.decision_models.items():  # the domain gate declines everything
        strict.decision_models[mode] = dataclasses.replace(model, domain_threshold=1.01)
    d = strict.answer("资格库里没有我的数据 注册不了")
    assert d.kind == "decline" and d.faq_id is None
    assert "error_no_qualification" in [s["faq_id"] for s in d.suggestions]
    assert 2 <= len(d.suggestions) <= 3
    assert strict.answer("帮我写一首关于秋天的诗").suggestions == [], "no domain word, nothing related"


def test_search_ranks_document_sections_too(engine):
    hits = engine.search("撤回数据菜单在哪里", k=10)
    assert any(h.kind == "doc" and h.id.startswith("doc:guide#") for h in hits)
    assert hits == sorted(hits, key=lambda h: -h.score)
    assert all(h.source_title and h.source_section for h in hits)


def test_a_moderately_sure_answer_offers_the_next_questions(engine):
    unsure = Engine(engine.retriever, engine.manifest)
    for mode, model in unsure.decision_models.items():  # every answer is only moderately sure
        unsure.decision_models[mode] = dataclasses.replace(
            model, answer_threshold=1.01, also_threshold=0.0, domain_threshold=0.0
        )
    d = unsure.answer("证件照要多大")
    assert d.kind == "answer" and d.faq_id == "photo_rules" and "30KB" in d.answer
    assert 2 <= len(d.suggestions) <= 3 and "photo_rules" not in [s["faq_id"] for s in d.suggestions]
    assert all(s["question"] == engine.faq_question(s["faq_id"]) for s in d.suggestions)
    assert engine.answer("证件照、手持身份证照、签名照有什么要求？").suggestions == [], "a sure answer comes alone"


@pytest.mark.parametrize(
    "question, gap",
    [
        ("能不能把证挂靠到别的单位赚点钱", "guakao"),
        ("我在湖南考的二建 能转到福建注册吗", "other_province"),
        ("二建考试一般几月份报名", "exam_schedule"),
    ],
)
def test_a_question_about_what_the_material_lacks_is_declined_with_the_reason(engine, question, gap):
    d = engine.answer(question)
    assert d.kind == "decline" and d.gap_id == gap and d.faq_id is None
    reason = next(e.text for e in engine.retriever.entries if e.gap_id == gap)
    assert reason.rstrip("。") in d.answer and "转人工" in d.answer


@pytest.mark.parametrize(
    "context, follow_up, faq_id",
    [
        ("个人实名认证有几种方式", "那企业呢", "auth_enterprise_methods"),
        ("初始注册多久能批下来", "那延续呢", "time_renewal_added"),
        ("无忧取证班多少钱", "AI私塾班呢", "price_ai"),
    ],
)
def test_an_elliptical_follow_up_uses_the_previous_question(engine, context, follow_up, faq_id):
    d = engine.answer(follow_up, context_question=context)
    assert d.kind == "answer" and d.faq_id == faq_id and d.used_context


def test_a_complete_question_ignores_the_context(engine):
    d = engine.answer("证件照有什么要求", context_question="无忧取证班多少钱")
    assert d.faq_id == "photo_rules" and not d.used_context


def test_a_clicked_suggestion_returns_that_answer(engine):
    d = engine.answer_by_id("seal_make")
    assert d.kind == "answer" and d.faq_id == "seal_make" and d.answer
    with pytest.raises(KeyError):
        engine.answer_by_id("no_such_item")


def test_each_mode_has_its_own_calibrated_decision(engine):
    for mode in ("bm25", "dense", "hybrid"):
        assert engine.answer("证件照有什么要求", mode=mode).faq_id == "photo_rules"
    with pytest.raises(ValueError):
        engine.answer("证件照", mode="nope")


def test_a_missing_index_is_refused_with_a_clear_message(tmp_path):
    with pytest.raises(IndexMissing) as err:
        Engine.load(tmp_path / "nothing-here")
    assert "make train" in str(err.value)


def test_a_stale_index_is_refused(index_dir, tmp_path):
    root = tmp_path / "project"
    for rel in (
        "knowledge/documents",
        "data/faq",
        "data/train",
        "data/dictionary",
        "knowledge/calibration",
        "data/eval",
    ):
        if (ROOT / rel).exists():
            shutil.copytree(ROOT / rel, root / rel)
    assert Engine.load(index_dir, root=root)  # same data: fresh
    faq = root / "data/faq/courses.yml"
    faq.write_text(faq.read_text(encoding="utf-8").replace("6280", "6180"), encoding="utf-8")
    with pytest.raises(IndexStale) as err:
        Engine.load(index_dir, root=root)
    assert "make train" in str(err.value)


def test_a_damaged_index_is_refused(index_dir, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(resolve_index_dir(index_dir), copy)
    (copy / "dense_units.faiss").unlink()
    with pytest.raises(IndexUnavailable):
        Engine.load(copy)


def test_an_index_built_for_another_model_is_refused(index_dir, monkeypatch):
    monkeypatch.setenv("EMBEDDING_MODEL", "BAAI/bge-small-zh-v1.5")
    with pytest.raises(IndexStale) as err:
        Engine.load(index_dir)
    assert "EMBEDDING_MODEL" in str(err.value)


def test_an_off_topic_question_after_a_context_is_still_declined(engine):
    d = engine.answer("今晚的足球比赛谁赢了", context_question="证件照有什么要求")
    assert d.kind == "decline" and not d.used_context
    d = engine.answer("那足球呢", context_question="证件照有什么要求")
    assert d.kind == "decline"


def test_a_question_asked_of_both_packages_at_once_is_answered_for_each(engine):
    d = engine.answer("无忧取证班和AI私塾班全科各多少钱")
    answered = [p for p in d.parts if p.kind == "answer"] or [d]
    text = "".join(p.answer for p in answered)
    assert d.kind == "answer" and "6280" in text and "4880" in text


def test_each_of_the_pair_the_previous_question_named(engine):
    asked = engine._distributed("有效期各是多久", "无忧取证班和AI私塾班全科各多少钱")
    assert len(asked) == 2 and all("有效期" in q and "各" not in q for q in asked)
    assert "无忧取证班" in asked[0] and "私塾班" in asked[1]
    d = engine.answer("有效期各是多久", context_question="无忧取证班和AI私塾班全科各多少钱")
    text = "".join(p.answer for p in d.parts) or d.answer
    assert d.kind == "answer" and "2年" in text and "1年" in text


def test_each_needs_both_named_or_a_context_that_named_both(engine):
    assert engine._distributed("无忧取证班全科各科多少钱", None) == ["无忧取证班全科各科多少钱"]
    assert engine._distributed("各科都要考吗", "无忧取证班多少钱") == ["各科都要考吗"]


def test_a_follow_up_to_an_answer_of_two_questions_leans_on_either(engine):
    context = "初始注册多久能批？ 签名照有什么要求？"
    assert engine.answer("那延续呢", context_question=context).faq_id == "time_renewal_added"
    assert engine.answer("那手持照呢", context_question=context).faq_id == "photo_rules"


def test_where_to_find_what_the_previous_answer_names_is_answered_with_it(engine):
    d = engine.answer("原因在哪查", context_question="实名认证被驳回了 登录说用户不存在")
    assert d.kind == "answer" and d.faq_id == "error_user_not_exist" and d.used_context
    # where, but of something the previous topic does not hold
    d = engine.answer("那个公司附近哪里有吃饭的", context_question="初始注册多久能批？ 签名照有什么要求？")
    assert d.kind == "decline" and not d.used_context


def test_an_answer_that_cannot_give_the_kind_asked_for_is_not_given(engine):
    # a price asked of something the material only names: the enterprise account's materials hold
    # no price, so they answer another question; the nearest questions are still offered
    d = engine.answer("你们能帮忙办公司营业执照注册吗 多少钱")
    assert d.kind == "decline" and d.suggestions
    assert engine.answer("无忧取证班多少钱").faq_id == "price_wuyou"


def test_a_follow_up_that_names_neither_of_a_pair_is_read_with_the_one_named_before(engine):
    # read alone, "报市政实务单科要多少" finds 无忧取证班's price; the user was talking about AI私塾班
    d = engine.answer("报市政实务单科要多少", context_question="AI私塾班")
    assert d.kind == "answer" and d.faq_id == "price_ai" and d.used_context
    assert "2380" in d.answer
    same = engine.answer("报市政实务单科要多少", context_question="无忧取证班")
    assert same.faq_id == "price_wuyou"
