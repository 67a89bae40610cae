"""Feedback, hand-offs, unanswered questions and transcripts, as staff see them."""

from __future__ import annotations

import httpx
from fastapi.testclient import TestClient

from bot.app import create_app


def test_feedback_from_the_widget_shows_up_for_staff(client, staff_headers):
    created = client.post(
        "/api/feedback",
        json={"sender": "web-1", "rating": -1, "question": "证件照多大", "answer": "30KB以内", "faq_id": "photo_rules"},
    )
    assert created.status_code == 201 and "感谢" in created.json()["message"]
    items = client.get("/api/staff/feedback", headers=staff_headers).json()["items"]
    assert [(i["sender"], i["rating"], i["question"], i["faq_id"]) for i in items] == [
        ("web-1", -1, "证件照多大", "photo_rules")
    ]


def test_feedback_rating_must_be_thumbs_up_or_down(client):
    response = client.post("/api/feedback", json={"sender": "web-1", "rating": 5})
    assert response.status_code == 422


def test_handoff_request_is_listed_for_staff(client, staff_headers):
    # (wx: senders come only from the action server: tests/badinput/test_wechat_senders.py)
    assert (
        client.post("/api/handoffs", json={"sender": "web-abc", "channel": "web", "reason": "转人工"}).status_code
        == 201
    )
    items = client.get("/api/staff/handoffs", headers=staff_headers).json()["items"]
    assert items[0]["sender"] == "web-abc" and items[0]["channel"] == "web" and items[0]["status"] == "open"


def test_staff_lists_need_the_token(client):
    for path in ("/api/staff/feedback", "/api/staff/handoffs", "/api/staff/unanswered", "/api/staff/me"):
        assert client.get(path).status_code == 401
        assert client.get(path, headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_transcript_comes_from_rasa_tracker(app_settings, staff_headers):
    def rasa(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/conversations/web-7/tracker"
        return httpx.Response(
            200,
            json={
                "events": [
                    {"event": "action", "name": "action_listen"},
                    {"event": "user", "text": "你好", "timestamp": 1.0},
                    {"event": "bot", "text": "您好！", "timestamp": 2.0},
                ]
            },
        )

    with TestClient(create_app(app_settings, rasa_transport=httpx.MockTransport(rasa))) as client:
        body = client.get("/api/staff/conversations/web-7", headers=staff_headers).json()
    assert [(t["who"], t["text"]) for t in body["turns"]] == [("user", "你好"), ("bot", "您好！")]


def test_transcript_when_rasa_is_down_is_503_in_chinese(client, staff_headers):
    response = client.get("/api/staff/conversations/web-7", headers=staff_headers)
    assert response.status_code == 503 and "稍后" in response.json()["detail"]


def test_console_page_is_served(client):
    page = client.get("/staff")
    assert page.status_code == 200 and "员工工作台" in page.text and client.get("/staff.js").status_code == 200
