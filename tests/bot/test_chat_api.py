"""POST /api/chat and GET /healthz with Rasa mocked at the HTTP client boundary."""

from __future__ import annotations

import json

import httpx
import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from bot.settings import Settings


class FakeRasa:
    """Stands in for Rasa's REST webhook; records what bot/ sent."""

    def __init__(self, reply=None, status=200, fail=False):
        self.reply = reply if reply is not None else [{"recipient_id": "u1", "text": "您好！"}]
        self.status = status
        self.fail = fail
        self.received: list[dict] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.fail:
            raise httpx.ConnectError("connection refused", request=request)
        if request.url.path == "/status":
            return httpx.Response(200, json={"model_file": "x"})
        self.received.append(json.loads(request.content))
        return httpx.Response(self.status, json=self.reply)


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(
        environment="test", database_url=f"sqlite:///{tmp_path / 'bot.db'}", action_server_url="http://127.0.0.1:9"
    )


def client_for(settings, rasa: FakeRasa) -> TestClient:
    return TestClient(create_app(settings, rasa_transport=httpx.MockTransport(rasa)))


def test_message_is_forwarded_and_reply_returned(settings):
    rasa = FakeRasa(
        reply=[
            {"recipient_id": "u1", "text": "您好！", "buttons": [{"title": "课程", "payload": "/ask", "extra": 1}]},
            {"recipient_id": "u1", "custom": {"type": "answer", "faq_id": "photo_rules"}},
        ]
    )
    with client_for(settings, rasa) as client:
        response = client.post("/api/chat", json={"sender": "u1", "message": "你好"})
    assert response.status_code == 200
    assert response.json() == {
        "messages": [
            {"text": "您好！", "buttons": [{"title": "课程", "payload": "/ask"}]},
            {"custom": {"type": "answer", "faq_id": "photo_rules"}},
        ]
    }
    assert rasa.received == [{"sender": "u1", "message": "你好"}]


def test_message_is_normalised_before_rasa_sees_it(settings):
    rasa = FakeRasa()
    with client_for(settings, rasa) as client:
        client.post("/api/chat", json={"sender": "u1", "message": "  ＡＩ私塾班\u200b多少钱\x07？  "})
    assert rasa.received[0]["message"] == "AI私塾班多少钱？"


@pytest.mark.parametrize("message", ["", "   ", "\u200b\u200b", "\n\t"])
def test_empty_message_gets_a_polite_prompt_without_calling_rasa(settings, message):
    rasa = FakeRasa()
    with client_for(settings, rasa) as client:
        response = client.post("/api/chat", json={"sender": "u1", "message": message})
    assert response.status_code == 200
    assert "请问有什么可以帮您" in response.json()["messages"][0]["text"]
    assert rasa.received == []


def test_overlong_message_is_refused_politely(settings):
    rasa = FakeRasa()
    with client_for(settings, rasa) as client:
        response = client.post("/api/chat", json={"sender": "u1", "message": "证" * 1001})
    assert response.status_code == 200
    assert "太长" in response.json()["messages"][0]["text"]
    assert rasa.received == []


def test_message_of_exactly_the_limit_is_forwarded(settings):
    rasa = FakeRasa()
    with client_for(settings, rasa) as client:
        client.post("/api/chat", json={"sender": "u1", "message": "证" * 1000})
    assert len(rasa.received[0]["message"]) == 1000


@pytest.mark.parametrize("sender", ["", "a" * 129, "bad\nsender", "tab\there"])
def test_invalid_sender_is_422_in_chinese(settings, sender):
    with client_for(settings, FakeRasa()) as client:
        response = client.post("/api/chat", json={"sender": sender, "message": "你好"})
    assert response.status_code == 422
    assert "sender" in response.json()["detail"] and "字符" in response.json()["detail"]


@pytest.mark.parametrize("body", ["not json", "[]", '{"message": "hi"}', '{"sender": "u1", "message": 5}'])
def test_malformed_body_is_422_not_500(settings, body):
    with client_for(settings, FakeRasa()) as client:
        response = client.post("/api/chat", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert "Traceback" not in response.text


def test_rasa_down_is_503_with_a_chinese_message(settings):
    with client_for(settings, FakeRasa(fail=True)) as client:
        response = client.post("/api/chat", json={"sender": "u1", "message": "你好"})
    assert response.status_code == 503
    body = response.json()
    assert "稍后再试" in body["detail"]
    assert body["messages"][0]["text"] == body["detail"]


def test_rasa_error_status_is_503(settings):
    with client_for(settings, FakeRasa(status=500, reply={"error": "boom"})) as client:
        response = client.post("/api/chat", json={"sender": "u1", "message": "你好"})
    assert response.status_code == 503


def test_health_reports_rasa_up_and_action_server_down(settings):
    with client_for(settings, FakeRasa()) as client:
        body = client.get("/healthz").json()
    assert body == {
        "status": "degraded",
        "bot": "ok",
        "rasa": "ok",
        "rasa_instances": {"up": 1, "total": 1},
        "action_server": "down",
    }


def test_health_reports_rasa_down(settings):
    with client_for(settings, FakeRasa(fail=True)) as client:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["rasa"] == "down"


def test_chat_page_is_served(settings):
    with client_for(settings, FakeRasa()) as client:
        response = client.get("/")
    assert response.status_code == 200
    assert "/widget.js" in response.text
    widget = client.get("/widget.js")
    assert widget.status_code == 200 and "/api/chat" in widget.text


def test_openapi_documents_the_chat_endpoint(settings):
    with client_for(settings, FakeRasa()) as client:
        paths = client.get("/openapi.json").json()["paths"]
    assert "/api/chat" in paths and "/healthz" in paths


def test_widget_on_another_site_may_call_the_chat_api(settings):
    with client_for(settings, FakeRasa()) as client:
        response = client.options(
            "/api/chat",
            headers={
                "Origin": "https://example.org",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
        )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] in ("*", "https://example.org")


def test_a_sender_over_its_budget_gets_429_in_chinese_and_others_are_unaffected(tmp_path):
    settings = Settings(environment="test", database_url=f"sqlite:///{tmp_path / 'bot.db'}", rate_limit_per_minute=3)
    rasa = FakeRasa()
    with client_for(settings, rasa) as client:
        codes = [client.post("/api/chat", json={"sender": "flood", "message": "你好"}).status_code for _ in range(5)]
        other = client.post("/api/chat", json={"sender": "calm", "message": "你好"})
        limited = client.post("/api/chat", json={"sender": "flood", "message": "你好"})
    assert codes == [200, 200, 200, 429, 429]
    assert other.status_code == 200
    assert "稍等" in limited.json()["detail"] and limited.headers["retry-after"] == "60"
    assert len(rasa.received) == 4


def test_an_ip_over_its_budget_gets_429(tmp_path):
    settings = Settings(
        environment="test", database_url=f"sqlite:///{tmp_path / 'bot.db'}", rate_limit_per_ip_per_minute=2
    )
    with client_for(settings, FakeRasa()) as client:
        codes = [client.post("/api/chat", json={"sender": f"s{i}", "message": "你好"}).status_code for i in range(3)]
    assert codes == [200, 200, 429]


def test_no_reply_from_rasa_becomes_a_polite_message(settings):
    with client_for(settings, FakeRasa(reply=[])) as client:
        response = client.post("/api/chat", json={"sender": "u1", "message": "证件照"})
    assert response.status_code == 200
    assert "稍后再试" in response.json()["messages"][0]["text"]


def test_traditional_characters_reach_rasa_in_simplified_form(settings):
    rasa = FakeRasa()
    with client_for(settings, rasa) as client:
        client.post("/api/chat", json={"sender": "u1", "message": "資格庫中目前沒有您的數據 怎麼處理"})
    assert rasa.received[0]["message"] == "资格库中目前没有您的数据 怎么处理"
