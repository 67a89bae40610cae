"""Helpers shared by the bad-input tests: the app with Rasa and WeChat's API mocked at their HTTP
client boundaries (httpx.MockTransport), test settings, and what a response must never contain."""

from __future__ import annotations

import json
import os
import re
from urllib.parse import unquote

import httpx

from bot.settings import Settings
from tests.bot.wechat_helpers import AES_KEY, API_BASE, APPID, SECRET, TOKEN, FakeWeChatApi

STAFF_TOKEN = "badinput-staff-token-for-tests"
STAFF = {"Authorization": f"Bearer {STAFF_TOKEN}"}


def on_postgres() -> bool:
    return bool(os.environ.get("TEST_POSTGRES_URL"))


class EchoRasa:
    """Rasa's REST webhook, status and tracker endpoints. Replies in Chinese with an excerpt of the
    message; records every request (path + body) it received."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.paths: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.raw_path.decode("ascii"))
        if request.url.path == "/status":
            return httpx.Response(200, json={"model_file": "assistant.tar.gz"})
        if request.url.path.startswith("/conversations/"):
            return httpx.Response(
                200,
                json={
                    "sender_id": unquote(request.url.path),
                    "events": [
                        {"event": "user", "text": "证件照有什么要求", "timestamp": 1.0},
                        {"event": "bot", "text": "白底证件照。", "timestamp": 2.0},
                        "not-an-event",
                        7,
                    ],
                },
            )
        body = json.loads(request.content)
        self.received.append(body)
        return httpx.Response(
            200,
            json=[
                {
                    "recipient_id": body["sender"],
                    "text": f"收到：{body['message'][:20]}",
                    "buttons": [{"title": "转人工", "payload": "/handoff"}],
                }
            ],
        )


def make_settings(database_url: str, index_dir, **overrides) -> Settings:
    """Test settings: WeChat configured (plaintext mode unless overridden), generous rate limits so
    that only the rate-limit tests meet them, Rasa and the action server on a closed loopback port."""
    values = dict(
        environment="test",
        database_url=database_url,
        index_dir=index_dir,
        staff_token=STAFF_TOKEN,
        rasa_url="http://127.0.0.1:9",
        action_server_url="http://127.0.0.1:9",
        wechat_token=TOKEN,
        wechat_appid=APPID,
        wechat_secret=SECRET,
        wechat_aes_key="",
        wechat_api_base=API_BASE,
        wechat_reply_budget_seconds=2.0,
        redis_url="",
        rate_limit_per_minute=100_000,
        rate_limit_per_ip_per_minute=100_000,
    )
    values.update(overrides)
    return Settings(**values)


def make_app(settings: Settings, rasa=None):
    from bot.app import create_app

    app = create_app(settings, rasa_transport=httpx.MockTransport(rasa or EchoRasa()))
    app.state.wechat_transport = httpx.MockTransport(FakeWeChatApi())
    return app


def safe_mode_overrides() -> dict:
    return {"wechat_aes_key": AES_KEY}


# What must never be in a response body a client sees.
LEAK_MARKERS = re.compile(
    r"Traceback \(most recent call last\)|File \"/|site-packages|\.py\b|/work/|/tmp/|/home/|/usr/", re.IGNORECASE
)
CJK = re.compile("[\u3400-\u4dbf\u4e00-\u9fff]")
