"""GET /api/staff/unanswered and its export, as staff use them: questions declined through the
knowledge API, grouped by meaning with counts, times and the nearest FAQ item, exported in the
data/faq/ format that knowledge/ loads."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.app import create_app
from bot.models import Unanswered
from knowledge.corpus import load_documents, load_faq
from knowledge.paths import ROOT
from tests.knowledge.index_builder import built_index

LOST = ["二建证书丢了要怎么挂失", "证书弄丢了 怎么补办"]
SEAL = ["执业印章的样式在哪里看"]
REFUND = ["课程不想上了可以退款吗"]


@pytest.fixture
def api(app_settings):
    settings = app_settings.model_copy(update={"index_dir": built_index()})
    with TestClient(create_app(settings)) as client:
        yield client


def decline(api, question: str, sender: str) -> None:
    body = api.post("/api/knowledge/answer", json={"question": question, "sender": sender, "channel": "web"}).json()
    assert body["decision"] == "decline", (question, body)


def groups(api, staff_headers) -> list[dict]:
    response = api.get("/api/staff/unanswered", headers=staff_headers)
    assert response.status_code == 200
    return response.json()["groups"]


def group_with(found: list[dict], question: str) -> dict:
    return next(g for g in found if question in g["questions"])


def test_declined_questions_are_listed_by_meaning_with_counts_times_and_the_nearest_item(api, staff_headers):
    for i, q in enumerate(LOST + SEAL + REFUND):
        decline(api, q, f"web-{i}")
    decline(api, LOST[0], "web-9")  # asked again by someone else
    found = groups(api, staff_headers)
    lost = group_with(found, LOST[0])
    assert sorted(lost["questions"]) == sorted(LOST) and lost["count"] == 3 and lost["sender"] == "web-9"
    assert datetime.fromisoformat(lost["first_seen"]) <= datetime.fromisoformat(lost["last_seen"])
    seal = group_with(found, SEAL[0])
    assert seal["questions"] == SEAL and seal["nearest"]["faq_id"] == "seal_make"
    assert seal["nearest"]["question"] == "执业印章怎么刻制？" and 0 < seal["nearest"]["score"] <= 1
    assert group_with(found, REFUND[0])["questions"] == REFUND
    assert [g["count"] for g in found] == sorted((g["count"] for g in found), reverse=True)
    with api.app.state.db.transaction(write=False) as session:
        stored = session.scalars(select(Unanswered.reading)).all()
    assert all(json.loads(r) for r in stored), "the engine's reading is stored with each question"


def test_a_group_keeps_its_id_when_questions_join_it(api, staff_headers):
    decline(api, LOST[0], "web-1")
    decline(api, REFUND[0], "web-2")
    before = {g["questions"][0]: g["id"] for g in groups(api, staff_headers)}
    assert {g["id"] for g in groups(api, staff_headers)} == set(before.values())  # same call, same ids
    decline(api, LOST[1], "web-3")
    lost = group_with(groups(api, staff_headers), LOST[1])
    assert lost["id"] == before[LOST[0]] and lost["count"] == 2


def faq_file(tmp_path, text: str):
    """Load an exported file the way knowledge/ loads data/faq/ (with the real documents)."""
    (tmp_path / "faq").mkdir()
    (tmp_path / "faq" / "exported.yml").write_text(text, encoding="utf-8")
    sections, _, _ = load_documents(ROOT / "knowledge" / "documents")
    return load_faq(tmp_path / "faq", sections)


def test_export_as_variants_of_an_existing_item_loads_as_that_item_with_the_new_questions(api, staff_headers, tmp_path):
    decline(api, SEAL[0], "web-1")
    seal = group_with(groups(api, staff_headers), SEAL[0])
    response = api.get(
        "/api/staff/unanswered/export", params={"ids": seal["id"], "faq_id": "seal_make"}, headers=staff_headers
    )
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    items, _, problems = faq_file(tmp_path, response.text)
    assert problems == []
    sections, _, _ = load_documents(ROOT / "knowledge" / "documents")
    original = load_faq(ROOT / "data" / "faq", sections)[0]["seal_make"]
    exported = items["seal_make"]
    assert exported.variants == original.variants + tuple(SEAL)
    assert (exported.question, exported.answer, exported.source, exported.tags) == (
        original.question,
        original.answer,
        original.source,
        original.tags,
    )


def test_export_without_an_item_gives_drafts_whose_answer_staff_must_write(api, staff_headers, tmp_path):
    for i, q in enumerate(LOST + REFUND):
        decline(api, q, f"web-{i}")
    found = groups(api, staff_headers)
    ids = [group_with(found, LOST[0])["id"], group_with(found, REFUND[0])["id"]]
    response = api.get(
        "/api/staff/unanswered/export", params={"ids": ",".join(ids), "faq_id": ""}, headers=staff_headers
    )
    assert response.status_code == 200 and "待客服" in response.text
    data = yaml.safe_load(response.text)
    drafts = {item["id"]: item for item in data["items"]}
    assert set(drafts) == {f"draft_{i}" for i in ids}
    lost = drafts[f"draft_{ids[0]}"]
    assert sorted([lost["question"], *lost["variants"]]) == sorted(LOST)
    assert all(item["answer"] == "" and item["source"] == "" for item in drafts.values()), "no answer is invented"
    # knowledge/ refuses a draft until its answer is written, and accepts it then.
    _, _, problems = faq_file(tmp_path, response.text)
    assert sorted(problems) == sorted(f"exported.yml item draft_{i}: question and answer are required" for i in ids)
    for item in data["items"]:
        item.update(answer="（客服依据资料写的答案）", source="guide#process-4-seal")
    (tmp_path / "faq" / "exported.yml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    sections, _, _ = load_documents(ROOT / "knowledge" / "documents")
    items, _, problems = load_faq(tmp_path / "faq", sections)
    assert problems == [] and items[f"draft_{ids[1]}"].question == REFUND[0]


def test_unknown_groups_a_bad_item_and_no_ids_get_a_clear_chinese_answer(api, staff_headers):
    decline(api, SEAL[0], "web-1")
    seal_id = groups(api, staff_headers)[0]["id"]
    unknown = api.get("/api/staff/unanswered/export", params={"ids": f"{seal_id},gdeadbeef0000"}, headers=staff_headers)
    assert unknown.status_code == 404 and "找不到问题组 gdeadbeef0000" in unknown.json()["detail"]
    bad_item = api.get(
        "/api/staff/unanswered/export", params={"ids": seal_id, "faq_id": "no_such_item"}, headers=staff_headers
    )
    assert bad_item.status_code == 404 and "没有编号为 no_such_item 的 FAQ 条目" in bad_item.json()["detail"]
    none = api.get("/api/staff/unanswered/export", headers=staff_headers)
    assert none.status_code == 422 and "ids" in none.json()["detail"]
    assert api.get("/api/staff/unanswered/export", params={"ids": seal_id}).status_code == 401


def test_questions_stored_without_a_reading_are_read_once_and_grouped(api, staff_headers):
    now = datetime.now(timezone.utc)
    with api.app.state.db.transaction() as session:
        for i, q in enumerate(LOST):  # as stored before migration 0005
            session.add(
                Unanswered(
                    sender=f"s{i}",
                    question=q,
                    decision="decline",
                    created_at=now - timedelta(minutes=i),
                    last_seen=now - timedelta(minutes=i),
                )
            )
    (lost,) = groups(api, staff_headers)
    assert sorted(lost["questions"]) == sorted(LOST) and lost["first_seen"] < lost["last_seen"]
    with api.app.state.db.transaction(write=False) as session:
        assert all(json.loads(r) for r in session.scalars(select(Unanswered.reading)).all())


def test_without_the_index_questions_are_grouped_by_words_and_show_no_nearest_item(
    app_settings, staff_headers, tmp_path
):
    settings = app_settings.model_copy(update={"index_dir": tmp_path / "no-index"})
    now = datetime.now(timezone.utc)
    with TestClient(create_app(settings)) as client:
        with client.app.state.db.transaction() as session:
            for i, q in enumerate(["广东二建怎么注册", "广东的二建怎么注册呢", "广东二建怎么注册？", "明天天气怎么样"]):
                session.add(
                    Unanswered(
                        sender=f"s{i}",
                        channel="web",
                        question=q,
                        decision="decline",
                        created_at=now - timedelta(minutes=i),
                        last_seen=now - timedelta(minutes=i),
                    )
                )
        found = groups(client, staff_headers)
    assert [g["count"] for g in found] == [3, 1] and found[0]["sender"] == "s0"
    assert all(g["nearest"] is None for g in found)
