"""The hand-off queue as 客服 work it: waiting / taken / closed, who took it, how long it waited;
the user hears that a person took it (the widget by fetching, WeChat through the customer-service
message API, mocked at its HTTP boundary)."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from staff_helpers import audit_actions, logged_in, make_account

from bot.app import create_app
from bot.models import Handoff, HandoffMessage, utcnow
from bot.settings import Settings

ACTIONS_TOKEN = "actions-token-for-the-handoff-queue-tests"
OPENID = "oUser0123456789abcdefghijkl"


def ask_for_a_person(client, sender="web-abc", reason="转人工"):
    response = client.post("/api/handoffs", json={"sender": sender, "channel": "web", "reason": reason})
    assert response.status_code == 201
    return response.json()["id"]


@pytest.fixture
def staff(client):
    app = client.app
    make_account(app, "lisi", "support", "李四")
    make_account(app, "zhangsan", "support", "张三")
    return logged_in(app, "lisi"), logged_in(app, "zhangsan")


def test_a_waiting_request_is_taken_by_one_person_and_the_widget_hears_it(client, staff):
    lisi, zhangsan = staff
    first = ask_for_a_person(client, "web-abc")
    ask_for_a_person(client, "web-def")
    with client.app.state.db.transaction() as session:  # web-abc has waited 7 minutes
        session.execute(update(Handoff).where(Handoff.id == first).values(created_at=utcnow() - timedelta(minutes=7)))
    queue = lisi.get("/api/staff/handoffs", params={"status": "open"}).json()
    assert queue["counts"] == {"open": 2, "taken": 0, "closed": 0}
    assert [h["sender"] for h in queue["items"]] == ["web-abc", "web-def"]  # who waits longest first
    assert 7 * 60 <= queue["items"][0]["waited_seconds"] < 8 * 60 and queue["items"][0]["status_label"] == "等待接待"

    taken = lisi.post(f"/api/staff/handoffs/{first}/take")
    assert taken.status_code == 200
    assert (taken.json()["status"], taken.json()["taken_by"]) == ("taken", "李四")
    assert taken.json()["message"]["channel"] == "web"
    again = zhangsan.post(f"/api/staff/handoffs/{first}/take")
    assert again.status_code == 409 and "已被李四接手" in again.json()["detail"]

    updates = client.get("/api/handoffs/updates", params={"sender": "web-abc"}).json()
    assert updates["status"] == "taken" and updates["status_label"] == "已接手"
    assert [m["text"] for m in updates["messages"]] == ["人工客服李四已接手您的问题，会在这里回复您，请稍候。"]
    last = updates["messages"][-1]["id"]
    assert (
        lisi.post(f"/api/staff/handoffs/{first}/reply", json={"text": "您好，请问是哪一步没有数据？"}).status_code
        == 200
    )
    later = client.get("/api/handoffs/updates", params={"sender": "web-abc", "after": last}).json()
    assert [m["text"] for m in later["messages"]] == ["您好，请问是哪一步没有数据？"]
    with client.app.state.db.transaction(write=False) as session:
        assert all(session.scalars(select(HandoffMessage.delivered)))  # the widget has shown both

    closed = lisi.post(f"/api/staff/handoffs/{first}/close")
    assert closed.json()["status"] == "closed" and "已结束" in closed.json()["message"]["text"]
    assert lisi.post(f"/api/staff/handoffs/{first}/reply", json={"text": "还在吗"}).status_code == 409
    assert [(a, act) for a, act, t in audit_actions(client.app) if t == str(first)] == [
        ("lisi", "handoff_taken"),
        ("lisi", "handoff_reply"),
        ("lisi", "handoff_closed"),
    ]
    assert lisi.get("/api/staff/handoffs").json()["counts"] == {"open": 1, "taken": 0, "closed": 1}


def test_a_reply_needs_the_request_taken_and_some_text(client, staff):
    lisi, _ = staff
    handoff = ask_for_a_person(client)
    refused = lisi.post(f"/api/staff/handoffs/{handoff}/reply", json={"text": "你好"})
    assert refused.status_code == 409 and "请先接手" in refused.json()["detail"]
    lisi.post(f"/api/staff/handoffs/{handoff}/take")
    assert lisi.post(f"/api/staff/handoffs/{handoff}/reply", json={"text": "  "}).status_code == 409
    assert lisi.post(f"/api/staff/handoffs/{handoff}/reply", json={"text": "你好\x00"}).status_code == 422
    assert lisi.post("/api/staff/handoffs/9999/take").status_code == 404


def test_updates_for_a_sender_without_a_handoff_and_for_wechat_senders(client):
    assert client.get("/api/handoffs/updates", params={"sender": "web-nobody"}).json() == {
        "status": None,
        "status_label": None,
        "messages": [],
    }
    refused = client.get("/api/handoffs/updates", params={"sender": f"wx:{OPENID}"})
    assert refused.status_code == 422 and "wx:" in refused.json()["detail"]


def test_the_queue_is_the_support_area(client, staff):
    handoff = ask_for_a_person(client)
    make_account(client.app, "wangfang", "sales")
    consultant = logged_in(client.app, "wangfang")
    assert consultant.get("/api/staff/handoffs").status_code == 403
    assert consultant.post(f"/api/staff/handoffs/{handoff}/take").status_code == 403


def _wechat_app(database_url, sent: list, errcode: int = 0):
    settings = Settings(
        environment="test",
        database_url=database_url,
        action_server_token=ACTIONS_TOKEN,
        wechat_token="t",
        wechat_appid="wx0123456789abcdef",
        wechat_secret="s",
        rasa_url="http://127.0.0.1:9",
        action_server_url="http://127.0.0.1:9",
    )

    def wechat(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/cgi-bin/token":
            return httpx.Response(200, json={"access_token": "token-1", "expires_in": 7200})
        sent.append(json.loads(request.content))
        return httpx.Response(
            200, json={"errcode": errcode, "errmsg": "ok" if not errcode else "response out of time limit"}
        )

    app = create_app(settings)
    app.state.wechat_transport = httpx.MockTransport(wechat)
    return app


def test_a_wechat_user_is_told_through_the_customer_service_api(database_url):
    sent: list = []
    with TestClient(_wechat_app(database_url, sent)) as client:
        handoff = client.post(
            "/api/handoffs",
            json={"sender": f"wx:{OPENID}", "channel": "wechat", "reason": "转人工"},
            headers={"X-Action-Server-Token": ACTIONS_TOKEN},
        ).json()["id"]
        make_account(client.app, "lisi", "support", "李四")
        taken = logged_in(client.app, "lisi").post(f"/api/staff/handoffs/{handoff}/take").json()
    assert taken["message"]["delivered"] is True and taken["message"]["channel"] == "wechat"
    assert sent == [
        {
            "touser": OPENID,
            "msgtype": "text",
            "text": {"content": "人工客服李四已接手您的问题，会在这里回复您，请稍候。"},
        }
    ]


def test_a_refused_wechat_message_still_takes_the_request_and_says_so(database_url):
    sent: list = []
    with TestClient(_wechat_app(database_url, sent, errcode=45015)) as client:
        handoff = client.post(
            "/api/handoffs",
            json={"sender": f"wx:{OPENID}", "channel": "wechat"},
            headers={"X-Action-Server-Token": ACTIONS_TOKEN},
        ).json()["id"]
        make_account(client.app, "lisi", "support", "李四")
        taken = logged_in(client.app, "lisi").post(f"/api/staff/handoffs/{handoff}/take").json()
        with client.app.state.db.transaction(write=False) as session:
            assert session.get(Handoff, handoff).status == "taken"
    assert taken["status"] == "taken" and taken["message"]["delivered"] is False
    assert "没有发送成功" in taken["message"]["problem"]
