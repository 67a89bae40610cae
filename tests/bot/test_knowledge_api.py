"""GET /api/knowledge/search and POST /api/knowledge/answer against an index built from the real data."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from knowledge.engine import reset_shared_engines
from tests.knowledge.index_builder import built_index


@pytest.fixture(scope="session")
def knowledge_index():
    return built_index()  # one build per test session, shared with tests/knowledge


@pytest.fixture
def api(app_settings, knowledge_index):
    settings = app_settings.model_copy(update={"index_dir": knowledge_index})
    with TestClient(create_app(settings)) as client:
        yield client


def test_search_returns_ranked_hits_with_sources_and_the_decision(api):
    r = api.get("/api/knowledge/search", params={"q": "证件照要多大 什么底色", "k": 3})
    assert r.status_code == 200
    body = r.json()
    assert len(body["hits"]) == 3
    assert [h["score"] for h in body["hits"]] == sorted((h["score"] for h in body["hits"]), reverse=True)
    top = body["hits"][0]
    assert top["faq_id"] == "photo_rules" and "30KB" in top["text"]
    assert top["source"] == {"title": "福建省二级建造师注册办理指南", "section": "注意事项第2条（照片要求）"}
    assert body["decision"]["decision"] == "answer" and body["decision"]["faq_id"] == "photo_rules"


def test_answer_gives_the_text_and_the_source_to_cite(api):
    r = api.post("/api/knowledge/answer", json={"question": "执业印章要去哪里刻"})
    assert r.status_code == 200
    body = r.json()
    assert body["decision"] == "answer" and body["faq_id"] == "seal_make"
    assert "印章" in body["answer"]
    assert body["question"]  # the FAQ's own question: the context for a follow-up
    assert body["source"]["section"] == "办理流程·执业印章制作"


def test_answer_declines_what_the_material_does_not_cover(api):
    body = api.post("/api/knowledge/answer", json={"question": "明天去三亚的机票多少钱"}).json()
    assert body["decision"] == "decline" and body["faq_id"] is None
    assert body["suggestions"] == [] and "转人工" in body["answer"]


def test_a_follow_up_is_read_with_the_previous_question(api):
    body = api.post(
        "/api/knowledge/answer", json={"question": "那企业呢", "context_question": "个人实名认证有几种方式"}
    ).json()
    assert body["decision"] == "answer" and body["faq_id"] == "auth_enterprise_methods"


def test_a_clicked_suggestion_is_answered_by_id(api):
    body = api.post("/api/knowledge/answer", json={"faq_id": "ce_hotline"}).json()
    assert body["decision"] == "answer" and "968823" in body["answer"]
    r = api.post("/api/knowledge/answer", json={"faq_id": "nope"})
    assert r.status_code == 404 and "nope" in r.json()["detail"]


@pytest.mark.parametrize("q", ["", "   ", "问" * 1001])
def test_empty_or_overlong_questions_are_422_in_chinese(api, q):
    r = api.get("/api/knowledge/search", params={"q": q})
    assert r.status_code == 422
    assert any("\u4e00" <= ch <= "\u9fff" for ch in r.json()["detail"])
    r = api.post("/api/knowledge/answer", json={"question": q})
    assert r.status_code == 422


def test_a_question_of_exactly_1000_characters_is_accepted(api):
    assert api.get("/api/knowledge/search", params={"q": "证件照" + "啊" * 997}).status_code == 200


def test_a_missing_index_is_503_with_a_chinese_message(app_settings, tmp_path):
    reset_shared_engines()
    settings = app_settings.model_copy(update={"index_dir": tmp_path / "no-index"})
    with TestClient(create_app(settings)) as client:
        r = client.get("/api/knowledge/search", params={"q": "证件照"})
        assert r.status_code == 503
        assert "知识库" in r.json()["detail"]
        assert client.post("/api/knowledge/answer", json={"question": "证件照"}).status_code == 503


def test_declined_question_with_a_sender_reaches_the_staff_console(api):
    client = api
    body = client.post(
        "/api/knowledge/answer", json={"question": "明天福州会下雨吗", "sender": "web-77", "channel": "web"}
    ).json()
    assert body["decision"] == "decline"
    groups = client.get(
        "/api/staff/unanswered", headers={"Authorization": f"Bearer {client.app.state.settings.staff_token}"}
    ).json()["groups"]
    assert any("明天福州会下雨吗" in g["questions"] and g["sender"] == "web-77" for g in groups)
