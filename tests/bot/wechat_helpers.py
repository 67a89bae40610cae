"""Test doubles and helpers for the WeChat callback: a signed WeChat server, Rasa's webhook and
WeChat's API, the last two mocked at their HTTP client boundaries (nothing leaves the process)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
import threading
import time

import httpx
import xmltodict
from fastapi.testclient import TestClient
from wechatpy.crypto import WeChatCrypto

from bot.app import create_app
from bot.settings import Settings

TOKEN = "test-wechat-token"
APPID = "wx0123456789abcdef"
SECRET = "test-app-secret"
AES_KEY = base64.b64encode(bytes(range(32))).decode().rstrip("=")  # a 43-character EncodingAESKey
ACCOUNT = "gh_0123456789ab"
OPENID = "oUser0123456789abcdefghijkl"
OTHER_OPENID = "oUserzyxwvutsrqponmlkjihgf"
API_BASE = "https://api.weixin.qq.com"


def sign(*parts: str) -> str:
    """WeChat's signature, written out independently of wechatpy: sha1 of the sorted parts."""
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def signed_query(timestamp: int | None = None, nonce: str | None = None, token: str = TOKEN, **extra) -> dict:
    """Signed like WeChat signs each request: a fresh nonce unless one is given (a signed timestamp
    and nonce carry one body, bot/wechat/replay.py)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or fresh_nonce()
    return {"signature": sign(token, ts, nonce), "timestamp": ts, "nonce": nonce, **extra}


def fresh_nonce() -> str:
    return str(secrets.randbelow(10**10))


def text_xml(content: str, msg_id: int = 1000001, openid: str = OPENID, create_time: int | None = None) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{create_time or int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    )


def event_xml(event: str, openid: str = OPENID, create_time: int | None = None) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{create_time or int(time.time())}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        f"<Event><![CDATA[{event}]]></Event></xml>"
    )


def media_xml(msg_type: str, extra: str = "", msg_id: int = 2000001, openid: str = OPENID) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[{msg_type}]]></MsgType>"
        f"{extra}<MsgId>{msg_id}</MsgId></xml>"
    )


def settings_for(tmp_path, **overrides) -> Settings:
    values = dict(
        environment="test",
        database_url=f"sqlite:///{tmp_path / 'bot.db'}",
        action_server_url="http://127.0.0.1:9",
        wechat_token=TOKEN,
        wechat_appid=APPID,
        wechat_secret=SECRET,
        wechat_aes_key="",
        wechat_api_base=API_BASE,
        wechat_reply_budget_seconds=2.0,
        redis_url="",
        rate_limit_per_minute=1000,
        rate_limit_per_ip_per_minute=10000,
    )
    values.update(overrides)
    return Settings(**values)


class FakeRasa:
    """Rasa's REST webhook: answers with `reply` (a list, or a function of the request body),
    optionally after `delay` seconds; records every body it received."""

    def __init__(self, reply=None, delay: float = 0.0, fail: bool = False):
        self.reply = reply if reply is not None else [{"recipient_id": "x", "text": "您好！"}]
        self.delay = delay
        self.fail = fail
        self.received: list[dict] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.fail:
            raise httpx.ConnectError("connection refused", request=request)
        body = json.loads(request.content)
        self.received.append(body)
        if self.delay:
            await asyncio.sleep(self.delay)
        reply = self.reply(body) if callable(self.reply) else self.reply
        return httpx.Response(200, json=reply)


class FakeWeChatApi:
    """WeChat's API (access token + customer-service messages). `send_errcodes` are answered to the
    customer-service calls in turn (then 0); every request is recorded."""

    def __init__(self, send_errcodes: list[int] | None = None, expires_in: int = 7200):
        self.send_errcodes = list(send_errcodes or [])
        self.expires_in = expires_in
        self.token_calls: list[httpx.Request] = []
        self.sent: list[dict] = []  # {"access_token", "raw", "json"}
        self.hosts: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.hosts.add(request.url.host)
            if request.url.path == "/cgi-bin/token":
                self.token_calls.append(request)
                return httpx.Response(
                    200, json={"access_token": f"TOKEN-{len(self.token_calls)}", "expires_in": self.expires_in}
                )
            if request.url.path == "/cgi-bin/message/custom/send":
                self.sent.append(
                    {
                        "access_token": request.url.params.get("access_token"),
                        "raw": request.content,
                        "json": json.loads(request.content),
                    }
                )
                errcode = self.send_errcodes.pop(0) if self.send_errcodes else 0
                return httpx.Response(200, json={"errcode": errcode, "errmsg": "ok" if errcode == 0 else "error"})
            return httpx.Response(404, json={"errcode": -1})


class FakeRedis:
    """The few redis.asyncio calls the store makes, with SET NX semantics; records the calls."""

    def __init__(self, broken: bool = False):
        self.data: dict[str, str] = {}
        self.calls: list[tuple] = []
        self.broken = broken

    async def set(self, key, value, nx=False, ex=None):
        self.calls.append(("set", key, nx, ex))
        if self.broken:
            raise ConnectionError("redis down")
        if nx and key in self.data:
            return None
        self.data[key] = value
        return True

    async def get(self, key):
        if self.broken:
            raise ConnectionError("redis down")
        return self.data.get(key)

    async def delete(self, key):
        self.data.pop(key, None)

    async def aclose(self):
        pass


def client_for(settings: Settings, rasa: FakeRasa, api: FakeWeChatApi | None = None) -> TestClient:
    app = create_app(settings, rasa_transport=httpx.MockTransport(rasa))
    app.state.wechat_transport = httpx.MockTransport(api or FakeWeChatApi())
    return TestClient(app)


def post_plain(client: TestClient, xml: str | bytes, **query) -> httpx.Response:
    params = query or signed_query()
    return client.post(
        "/wechat",
        params=params,
        content=xml if isinstance(xml, bytes) else xml.encode("utf-8"),
        headers={"Content-Type": "text/xml"},
    )


def crypto() -> WeChatCrypto:
    return WeChatCrypto(TOKEN, AES_KEY, APPID)


def post_encrypted(
    client: TestClient, xml: str, nonce: str | None = None, timestamp: int | None = None, tamper: bool = False
) -> httpx.Response:
    """Encrypt like WeChat does in safe mode and post with both signature and msg_signature."""
    nonce = nonce or fresh_nonce()
    ts = str(int(time.time()) if timestamp is None else timestamp)
    envelope = xmltodict.parse(crypto().encrypt_message(xml, nonce, ts))["xml"]
    msg_signature = envelope["MsgSignature"]
    if tamper:
        msg_signature = "0" * 40
    body = (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><Encrypt><![CDATA[{envelope['Encrypt']}]]></Encrypt></xml>"
    )
    params = signed_query(timestamp=int(ts), nonce=nonce, encrypt_type="aes", msg_signature=msg_signature)
    return client.post("/wechat", params=params, content=body.encode("utf-8"))


def decrypt_reply(text: str) -> dict:
    """Check the reply's signature and decrypt it with wechatpy, as WeChat would; the inner XML as a dict."""
    envelope = xmltodict.parse(text)["xml"]
    inner = crypto().decrypt_message(text, envelope["MsgSignature"], envelope["TimeStamp"], envelope["Nonce"])
    return xmltodict.parse(inner)["xml"]


def reply_fields(response: httpx.Response) -> dict:
    return xmltodict.parse(response.text)["xml"]


def wait_until(predicate, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()
