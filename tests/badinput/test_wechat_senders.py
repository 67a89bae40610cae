"""wechat_sender_outside_wechat (issue #13, finding 4): a `wx:<OpenID>` sender sent to bot/'s HTTP
API by anyone but the action server.

Conversations "wx:<OpenID>" are WeChat users' (bot/senders.py). Named by a web client they would
put feedback, hand-offs, enrollments, leads and unanswered questions on a WeChat user's record, or
chat as them; every route but /wechat refuses them, and nothing is stored. The action server, with
its credential, still writes them: that is how a WeChat user's enrollment is stored.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from bot import replies

from .helpers import STAFF, make_app, make_settings

ACTIONS_TOKEN = "actions-token-for-the-wechat-sender-tests"
AS_ACTION_SERVER = {"X-Action-Server-Token": ACTIONS_TOKEN}
OPENID_SENDER = "wx:oUser0123456789abcdefghijkl"

REQUESTS = {
    "chat": ("/api/chat", {"message": "我的报名信息"}),
    "feedback": ("/api/feedback", {"rating": -1, "question": "证件照多大", "channel": "wechat"}),
    "handoff": ("/api/handoffs", {"reason": "转人工", "channel": "wechat"}),
    "enrollment": (
        "/api/enrollments",
        {"name": "张三", "mobile": "13812345678", "package": "wuyou", "subjects": ["施工管理"], "channel": "wechat"},
    ),
    "lead": ("/api/leads", {"name": "王芳", "mobile": "13912345678", "channel": "wechat"}),
    "knowledge": ("/api/knowledge/answer", {"question": "公司倒闭了社保怎么办", "channel": "wechat"}),
}
# What staff would see of each write, to check that nothing was stored.
STORED = {
    "feedback": "/api/staff/feedback",
    "handoff": "/api/staff/handoffs",
    "enrollment": "/api/enrollments",
    "lead": "/api/leads",
    "knowledge": "/api/staff/unanswered",
}


@pytest.fixture(scope="module")
def client(tmp_path_factory, knowledge_index):
    path = tmp_path_factory.mktemp("wechat-senders") / "bot.db"
    app = make_app(make_settings(f"sqlite:///{path}", knowledge_index, action_server_token=ACTIONS_TOKEN))
    with TestClient(app) as client:
        yield client


def _stored(client: TestClient, what: str) -> list:
    body = client.get(STORED[what], headers=STAFF).json()
    return body.get("items", body.get("groups", body.get("questions", [])))


@pytest.mark.parametrize("what", sorted(REQUESTS))
@pytest.mark.parametrize("sender", [OPENID_SENDER, "WX:oUser0123456789abcdefghijkl"])
def test_wechat_sender_outside_wechat_is_refused_and_nothing_is_stored(client, what, sender):
    path, body = REQUESTS[what]
    response = client.post(path, json={**body, "sender": sender})
    assert response.status_code == 422, response.text
    assert response.json()["detail"] == replies.RESERVED_SENDER
    if what in STORED:
        assert not any(OPENID_SENDER.lower() in str(item).lower() for item in _stored(client, what))


@pytest.mark.parametrize("what", ["handoff", "enrollment", "lead"])
def test_wechat_sender_outside_wechat_the_action_server_still_writes_for_wechat_users(client, what):
    path, body = REQUESTS[what]
    response = client.post(path, json={**body, "sender": "wx:oActionServerUser0123456789ab"}, headers=AS_ACTION_SERVER)
    assert response.status_code == 201, response.text
    assert any("wx:oActionServerUser0123456789ab" in str(item) for item in _stored(client, what))


def test_wechat_sender_outside_wechat_web_senders_are_unaffected(client):
    response = client.post("/api/handoffs", json={"sender": "web-wx-fan", "reason": "转人工"})
    assert response.status_code == 201
