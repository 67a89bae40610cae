"""unanswered_flood (issue #13, finding 1): declined questions sent in bulk leave a bounded, deduplicated store.

Through POST /api/knowledge/answer (the real index) as the chat actions call it, then the staff
console's view (GET /api/staff/unanswered). Bounds are made small here (UNANSWERED_MAX_ROWS,
UNANSWERED_MAX_PER_SENDER) so that a flood of a few dozen requests meets them.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot.models import Unanswered

from .helpers import STAFF, make_app, make_settings

MAX_ROWS, PER_SENDER = 12, 4


@pytest.fixture
def client(tmp_path, knowledge_index):
    app = make_app(
        make_settings(
            f"sqlite:///{tmp_path / 'bot.db'}",
            knowledge_index,
            unanswered_max_rows=MAX_ROWS,
            unanswered_max_per_sender=PER_SENDER,
        )
    )
    with TestClient(app) as c:
        yield c


def ask(client, sender: str, question: str) -> None:
    response = client.post("/api/knowledge/answer", json={"question": question, "sender": sender, "channel": "web"})
    assert response.status_code == 200 and response.json()["decision"] == "decline", response.text


def rows(client) -> list[Unanswered]:
    with client.app.state.db.transaction(write=False) as session:
        return list(session.scalars(select(Unanswered).order_by(Unanswered.id)))


def test_unanswered_flood_of_one_question_is_one_row_with_its_count(client):
    for i in range(15):
        ask(client, f"web-{i}", "火星上能种土豆吗" if i % 2 else "火星上能种土豆吗？？")  # same once normalised
    ask(client, "web-14", "火星上能种土豆吗")  # the same person again, right after: counts once
    stored = rows(client)
    assert [(r.question, r.asks) for r in stored] == [("火星上能种土豆吗？？", 15)]
    groups = client.get("/api/staff/unanswered", headers=STAFF).json()["groups"]
    assert [(g["count"], g["sender"]) for g in groups] == [(15, "web-14")]


def test_unanswered_flood_from_one_sender_cannot_fill_the_store(client):
    for i in range(30):
        ask(client, "web-flood", f"第{i}号火车几点到火星")
    assert len(rows(client)) == PER_SENDER
    ask(client, "web-other", "月球上的房子多少钱一平")  # another person is still heard
    assert len(rows(client)) == PER_SENDER + 1


def test_unanswered_flood_never_grows_the_store_past_its_cap(client):
    for i in range(3):  # asked by three people: the most asked question
        ask(client, f"web-fan-{i}", "火星上能种土豆吗")
    for i in range(40):  # forty senders, one new question each
        ask(client, f"web-bot-{i}", f"第{i}号飞船几点到月球")
    stored = rows(client)
    with client.app.state.db.transaction(write=False) as session:
        assert session.scalar(select(func.count()).select_from(Unanswered)) == MAX_ROWS
    assert ("火星上能种土豆吗", 3) in [(r.question, r.asks) for r in stored], "the most asked stays"
    assert "第39号飞船几点到月球" in [r.question for r in stored], "the newest stays; the oldest least asked went"
    groups = client.get("/api/staff/unanswered", headers=STAFF).json()["groups"]
    assert sum(g["count"] for g in groups) == 3 + MAX_ROWS - 1


def test_unanswered_flood_stores_questions_with_numbers_masked(client):
    ask(client, "web-pii", "我手机13812345678身份证350102900101123，火星上能种土豆吗")
    assert [r.question for r in rows(client)] == ["我手机138****5678身份证350102********3，火星上能种土豆吗"]
