"""The bad-input corpus: hostile or broken requests to every public and staff endpoint, as data.

Each Case is one request and what bot/ may answer. The one test that runs them
(test_corpus.py) also checks, for every case: never a 5xx (a 503 only from the two knowledge
endpoints, with a Chinese message), no traceback or internal path in the body, a Chinese `detail`
on every 4xx, a Chinese message on /api/chat's 200. After the whole corpus the service must
still answer a normal request.

`expect` lists the statuses that are acceptable. `known_bug` marks a case that fails today
because of code owned by someone else: it runs as a strict xfail, so the day it is fixed the
test says so (and the mark must go).

Values that depend on the clock (signed WeChat URLs, safe-mode envelopes) are built when the
case runs: `params`, `body` and `headers` may be callables, and `build` may return all of them.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import xmltodict
from wechatpy.crypto import WeChatCrypto

from tests.bot.wechat_helpers import ACCOUNT, AES_KEY, OPENID, TOKEN, sign, signed_query

from .helpers import STAFF

JSON = {"Content-Type": "application/json"}
STAFF_JSON = {**STAFF, **JSON}
BIG = 2**63  # one past SQLite's and PostgreSQL's largest integer
HUGE = 10**30


@dataclass(frozen=True)
class KnownBug:
    owner: str  # the file that needs the fix
    why: str  # what happens today
    only_on: str | None = None  # "postgresql" / "sqlite": only fails on that database


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    path: str
    expect: tuple[int, ...]
    body: bytes | Callable[[], bytes] | None = None
    headers: dict | list | Callable[[], dict] = field(default_factory=dict)
    params: dict | str | Callable[[], dict] | None = None
    build: Callable[[], dict] | None = None  # -> {"params", "body", "headers"} built at run time
    app: str = "plain"  # "plain": WeChat plaintext mode; "safe": WeChat safe mode (EncodingAESKey set)
    known_bug: KnownBug | None = None

    @property
    def endpoint(self) -> str:
        """The operation this case targets, for the corpus-size report."""
        path = self.path.split("?")[0]
        for prefix, label in ENDPOINT_LABELS:
            if path == prefix or (prefix.endswith("/") and path.startswith(prefix)):
                return f"{self.method} {label}"
        return f"{self.method} {path}"


ENDPOINT_LABELS = [
    ("/api/enrollments/lookup", "/api/enrollments/lookup"),
    ("/api/enrollments/", "/api/enrollments/{no}"),
    ("/api/leads/", "/api/leads/{id}"),
    ("/api/staff/conversations/", "/api/staff/conversations/{sender}"),
    ("/api/staff/", "/api/staff/*"),
]


def j(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


def deep_array(levels: int) -> bytes:
    return b"[" * levels + b"]" * levels


def deep_object(levels: int, inner: bytes = b"1") -> bytes:
    return b'{"a":' * levels + inner + b"}" * levels


_msg_ids = iter(range(7_000_000_001, 7_000_100_000))


def wx_text(
    content: str,
    msg_id: int | None = None,
    openid: str = OPENID,
    extra: str = "",
    msg_type: str = "text",
    account: str = ACCOUNT,
) -> bytes:
    return (
        f"<xml><ToUserName><![CDATA[{account}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[{msg_type}]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content>{extra}<MsgId>{msg_id or next(_msg_ids)}</MsgId></xml>"
    ).encode()


def signed(**extra) -> Callable[[], dict]:
    return lambda: signed_query(**extra)


def safe_envelope(
    inner: str | None = None,
    *,
    encrypt: str | None = None,
    msg_signature: str | None = None,
    appid: str | None = None,
    omit_encrypt: bool = False,
) -> Callable[[], dict]:
    """A safe-mode request as WeChat sends it: encrypted inner XML, signed twice (URL + msg_signature)."""

    def build() -> dict:
        ts = str(int(time.time()))
        nonce = "n" + uuid.uuid4().hex[:10]
        cipher = encrypt
        if cipher is None:
            crypto = WeChatCrypto(TOKEN, AES_KEY, appid or "wx0123456789abcdef")
            cipher = xmltodict.parse(crypto.encrypt_message(inner, nonce, ts))["xml"]["Encrypt"]
        body = f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
        body += "" if omit_encrypt else f"<Encrypt><![CDATA[{cipher}]]></Encrypt>"
        body += "</xml>"
        query = signed_query(
            timestamp=int(ts),
            nonce=nonce,
            encrypt_type="aes",
            msg_signature=msg_signature if msg_signature is not None else sign(TOKEN, ts, nonce, cipher),
        )
        return {"params": query, "body": body.encode("utf-8"), "headers": {"Content-Type": "text/xml"}}

    return build


XML = {"Content-Type": "text/xml"}
BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10) for i in range(1, 10))
    + b"]><xml><ToUserName>&lol9;</ToUserName></xml>"
)
XXE_FILE = (
    b'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    b"<xml><ToUserName>gh_1</ToUserName><FromUserName>oUser</FromUserName><CreateTime>1</CreateTime>"
    b"<MsgType>text</MsgType><Content>&xxe;</Content><MsgId>1</MsgId></xml>"
)
XXE_PARAMETER = (
    b'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/evil.dtd">%remote;]><xml/>'
)
XXE_EXTERNAL_DTD = b'<?xml version="1.0"?><!DOCTYPE xml SYSTEM "http://127.0.0.1:9/x.dtd"><xml/>'

ENROLL = {"name": "张三", "mobile": "13812345678", "package": "wuyou", "subjects": ["施工管理"]}
LEAD = {"name": "李四", "mobile": "13912345678"}
COURSES = "bot/routes/courses.py"
KNOWLEDGE = "bot/routes/knowledge.py"


def enroll(**changes) -> bytes:
    return j({**ENROLL, **changes})


def lead(**changes) -> bytes:
    return j({**LEAD, **changes})


def lookup(**changes) -> bytes:
    return j({"number": "EN20991231-ZZZZZZZZ", "phone": "13812345678", **changes})


CASES: list[Case] = [
    # ---- POST /api/chat ----------------------------------------------------------------------------
    Case("chat: empty body", "POST", "/api/chat", (422,), b"", JSON),
    Case(
        "chat: whitespace-only message",
        "POST",
        "/api/chat",
        (200,),
        j({"sender": "u1", "message": " \t\n\u3000 "}),
        JSON,
    ),
    Case(
        "chat: zero-width characters only",
        "POST",
        "/api/chat",
        (200,),
        j({"sender": "u1", "message": "\u200b\u200c\u200d\ufeff\u2060"}),
        JSON,
    ),
    Case(
        "chat: control characters and ANSI escapes",
        "POST",
        "/api/chat",
        (200,),
        j({"sender": "u1", "message": "\x00\x07\x1b[31m证件照\x7f"}),
        JSON,
    ),
    Case(
        "chat: emoji and skin tones",
        "POST",
        "/api/chat",
        (200,),
        j({"sender": "u1", "message": "👍🏻🙏🏽 证件照多大？😀👨‍👩‍👧"}),
        JSON,
    ),
    Case(
        "chat: bidi override",
        "POST",
        "/api/chat",
        (200,),
        j({"sender": "u1", "message": "\u202e证件照\u202c多大"}),
        JSON,
    ),
    Case(
        "chat: HTML and script",
        "POST",
        "/api/chat",
        (200,),
        j({"sender": "u1", "message": "<script>alert(1)</script><img src=x onerror=alert(1)>"}),
        JSON,
    ),
    Case(
        "chat: SQL fragment",
        "POST",
        "/api/chat",
        (200,),
        j({"sender": "u1", "message": "' OR 1=1; DROP TABLE enrollments; --"}),
        JSON,
    ),
    Case(
        "chat: 60 KB message (under the body limit, over max_message_chars)",
        "POST",
        "/api/chat",
        (200,),
        j({"sender": "u1", "message": "a" * 60_000}),
        JSON,
    ),
    Case("chat: 100 KB message", "POST", "/api/chat", (413,), j({"sender": "u1", "message": "证" * 34_000}), JSON),
    Case(
        "chat: 100 KB declared but chunked (no Content-Length)",
        "POST",
        "/api/chat",
        (413,),
        lambda: iter([b'{"sender":"u1","message":"', b"a" * 50_000, b"a" * 50_000, b'"}']),
        JSON,
    ),
    Case(
        "chat: invalid UTF-8 bytes",
        "POST",
        "/api/chat",
        (400, 422),
        b'{"sender":"u1","message":"\xff\xfe\xc3\x28"}',
        JSON,
    ),
    Case("chat: lone surrogate escape", "POST", "/api/chat", (422,), b'{"sender":"u1","message":"\\ud800"}', JSON),
    Case("chat: 10,000 nested arrays", "POST", "/api/chat", (400, 422), deep_array(10_000), JSON),
    Case(
        "chat: metadata nested 950 levels (re-encoding it for Rasa used to 500)",
        "POST",
        "/api/chat",
        (400, 422),
        b'{"sender":"u1","message":"hi","metadata":' + deep_object(950) + b"}",
        JSON,
    ),
    Case(
        "chat: NaN in metadata (Rasa client refused to encode it: 500)",
        "POST",
        "/api/chat",
        (422,),
        b'{"sender":"u1","message":"hi","metadata":{"x":NaN,"y":-Infinity}}',
        JSON,
    ),
    Case(
        "chat: 5000-digit integer",
        "POST",
        "/api/chat",
        (400, 422),
        b'{"sender":"u1","message":"hi","metadata":{"n":' + b"9" * 5000 + b"}}",
        JSON,
    ),
    Case("chat: truncated JSON", "POST", "/api/chat", (422,), b'{"sender":"u1","message":', JSON),
    Case(
        "chat: text/plain body",
        "POST",
        "/api/chat",
        (422,),
        j({"sender": "u1", "message": "你好"}),
        {"Content-Type": "text/plain"},
    ),
    Case(
        "chat: form-encoded body",
        "POST",
        "/api/chat",
        (422,),
        b"sender=u1&message=%E4%BD%A0%E5%A5%BD",
        {"Content-Type": "application/x-www-form-urlencoded"},
    ),
    Case(
        "chat: XML body",
        "POST",
        "/api/chat",
        (422,),
        b"<xml><sender>u1</sender><message>hi</message></xml>",
        {"Content-Type": "application/xml"},
    ),
    Case("chat: no Content-Type", "POST", "/api/chat", (422,), j({"sender": "u1", "message": "你好"}), {}),
    Case("chat: JSON array", "POST", "/api/chat", (422,), b"[1, 2, 3]", JSON),
    Case("chat: JSON null", "POST", "/api/chat", (422,), b"null", JSON),
    Case(
        "chat: wrong JSON types",
        "POST",
        "/api/chat",
        (422,),
        j({"sender": 123, "message": ["你好"], "metadata": "x"}),
        JSON,
    ),
    Case("chat: sender with NUL", "POST", "/api/chat", (422,), j({"sender": "a\x00b", "message": "你好"}), JSON),
    Case("chat: sender 129 characters", "POST", "/api/chat", (422,), j({"sender": "s" * 129, "message": "你好"}), JSON),
    Case(
        "chat: sender with path and query characters",
        "POST",
        "/api/chat",
        (200,),
        j({"sender": "../../x?y#z%00", "message": "你好"}),
        JSON,
    ),
    Case(
        "chat: sender impersonating a WeChat user",
        "POST",
        "/api/chat",
        (422,),
        j({"sender": "wx:oUser0123456789abcdefghijkl", "message": "我的报名信息"}),
        JSON,
    ),
    Case("chat: GET instead of POST", "GET", "/api/chat", (405,)),
    # ---- POST /wechat, plaintext mode ------------------------------------------------------------------
    Case("wechat: empty body, signed", "POST", "/wechat", (400,), b"", XML, signed()),
    Case("wechat: whitespace body, signed", "POST", "/wechat", (400,), b" \n\t ", XML, signed()),
    Case("wechat: not XML", "POST", "/wechat", (400,), "你好".encode(), XML, signed()),
    Case("wechat: JSON body", "POST", "/wechat", (400,), j({"ToUserName": ACCOUNT, "Content": "你好"}), JSON, signed()),
    Case("wechat: billion laughs", "POST", "/wechat", (400,), BILLION_LAUGHS, XML, signed()),
    Case("wechat: XXE reading a local file", "POST", "/wechat", (400,), XXE_FILE, XML, signed()),
    Case("wechat: XXE parameter entity to loopback", "POST", "/wechat", (400,), XXE_PARAMETER, XML, signed()),
    Case("wechat: external DTD reference", "POST", "/wechat", (400,), XXE_EXTERNAL_DTD, XML, signed()),
    Case(
        "wechat: UTF-16 body hiding a DTD", "POST", "/wechat", (400,), XXE_FILE.decode().encode("utf-16"), XML, signed()
    ),
    Case(
        "wechat: invalid UTF-8",
        "POST",
        "/wechat",
        (400,),
        wx_text("你好")[:-40] + b"\xff\xfe" + wx_text("x")[-40:],
        XML,
        signed(),
    ),
    Case("wechat: 8,000 nested elements", "POST", "/wechat", (400,), b"<a>" * 8000 + b"</a>" * 8000, XML, signed()),
    Case("wechat: 100 KB body", "POST", "/wechat", (413,), wx_text("证" * 34_000), XML, signed()),
    Case(
        "wechat: Content element with child elements",
        "POST",
        "/wechat",
        (400,),
        wx_text("x").replace(b"<![CDATA[x]]>", b"<b>1</b><b>2</b>"),
        XML,
        signed(),
    ),
    Case(
        "wechat: FromUserName with path traversal",
        "POST",
        "/wechat",
        (400,),
        wx_text("你好", openid="../../etc/passwd"),
        XML,
        signed(),
    ),
    Case(
        "wechat: MsgId not a number",
        "POST",
        "/wechat",
        (400,),
        wx_text("你好").replace(b"<MsgId>", b"<MsgId>abc"),
        XML,
        signed(),
    ),
    Case(
        "wechat: bad signature",
        "POST",
        "/wechat",
        (403,),
        wx_text("你好"),
        XML,
        lambda: {**signed_query(), "signature": "0" * 40},
    ),
    Case("wechat: no signature at all", "POST", "/wechat", (403,), wx_text("你好"), XML, None),
    Case(
        "wechat: signed with another token",
        "POST",
        "/wechat",
        (403,),
        wx_text("你好"),
        XML,
        signed(token="not-our-token"),
    ),
    Case(
        "wechat: replayed URL, 10 minutes old",
        "POST",
        "/wechat",
        (403,),
        wx_text("你好"),
        XML,
        lambda: signed_query(timestamp=int(time.time()) - 600),
    ),
    Case(
        "wechat: timestamp in the future",
        "POST",
        "/wechat",
        (403,),
        wx_text("你好"),
        XML,
        lambda: signed_query(timestamp=int(time.time()) + 3600),
    ),
    Case(
        "wechat: captured signature reused with another nonce",
        "POST",
        "/wechat",
        (403,),
        wx_text("你好"),
        XML,
        lambda: {**signed_query(nonce="first"), "nonce": "second"},
    ),
    Case("wechat: unknown encrypt_type", "POST", "/wechat", (400,), wx_text("你好"), XML, signed(encrypt_type="rot13")),
    Case(
        "wechat: text with emoji, HTML and SQL",
        "POST",
        "/wechat",
        (200,),
        wx_text("😀<script>alert(1)</script>' OR 1=1;--\u200b"),
        XML,
        signed(),
    ),
    Case(
        "wechat: raw control characters (not XML 1.0)",
        "POST",
        "/wechat",
        (400,),
        wx_text("你好\x01\x1f\x00"),
        XML,
        signed(),
    ),
    Case(
        "wechat: text that closes the CDATA section",
        "POST",
        "/wechat",
        (400,),
        wx_text("a]]><Evil>1</Evil><![CDATA[b"),
        XML,
        signed(),
    ),
    Case("wechat: unknown message type", "POST", "/wechat", (200,), wx_text("", msg_type="hologram"), XML, signed()),
    Case(
        "wechat: GET verification with a 300-character echostr",
        "GET",
        "/wechat",
        (400,),
        params=signed(echostr="x" * 300),
    ),
    Case("wechat: GET verification without echostr", "GET", "/wechat", (400,), params=signed()),
    # ---- POST /wechat, safe mode ------------------------------------------------------------------
    Case("wechat safe: plaintext body refused", "POST", "/wechat", (403,), wx_text("你好"), XML, signed(), app="safe"),
    Case(
        "wechat safe: missing msg_signature",
        "POST",
        "/wechat",
        (403,),
        app="safe",
        build=lambda: {**safe_envelope(wx_text("你好").decode())(), "params": signed_query(encrypt_type="aes")},
    ),
    Case(
        "wechat safe: wrong msg_signature",
        "POST",
        "/wechat",
        (403,),
        app="safe",
        build=safe_envelope(wx_text("你好").decode(), msg_signature="f" * 40),
    ),
    Case(
        "wechat safe: signed garbage cipher text",
        "POST",
        "/wechat",
        (400,),
        app="safe",
        build=safe_envelope(encrypt="bm90IGEgY2lwaGVyIHRleHQ="),
    ),
    Case(
        "wechat safe: signed cipher text that is not base64",
        "POST",
        "/wechat",
        (400,),
        app="safe",
        build=safe_envelope(encrypt="%%%%***不是base64***"),
    ),
    Case("wechat safe: signed empty Encrypt", "POST", "/wechat", (400,), app="safe", build=safe_envelope(encrypt="")),
    Case(
        "wechat safe: envelope without Encrypt",
        "POST",
        "/wechat",
        (400, 403),
        app="safe",
        build=safe_envelope(encrypt="", omit_encrypt=True),
    ),
    Case(
        "wechat safe: encrypted for another AppID",
        "POST",
        "/wechat",
        (403,),
        app="safe",
        build=safe_envelope(wx_text("你好").decode(), appid="wxffffffffffffffff"),
    ),
    Case(
        "wechat safe: XXE inside a valid envelope",
        "POST",
        "/wechat",
        (400,),
        app="safe",
        build=safe_envelope(XXE_FILE.decode()),
    ),
    # ---- POST /api/quotes -------------------------------------------------------------------------
    Case("quotes: empty body", "POST", "/api/quotes", (422,), b"", JSON),
    Case(
        "quotes: package is HTML",
        "POST",
        "/api/quotes",
        (422,),
        j({"package": "<img src=x onerror=alert(1)>", "subjects": ["施工管理"]}),
        JSON,
    ),
    Case(
        "quotes: package is SQL",
        "POST",
        "/api/quotes",
        (422,),
        j({"package": "wuyou' OR '1'='1", "subjects": ["施工管理"]}),
        JSON,
    ),
    Case("quotes: subjects is a number", "POST", "/api/quotes", (422,), j({"package": "wuyou", "subjects": 123}), JSON),
    Case(
        "quotes: subjects of objects",
        "POST",
        "/api/quotes",
        (422,),
        j({"package": "wuyou", "subjects": [{"$ne": None}]}),
        JSON,
    ),
    Case(
        "quotes: 11 subjects",
        "POST",
        "/api/quotes",
        (422,),
        j({"package": "wuyou", "subjects": ["施工管理"] * 11}),
        JSON,
    ),
    Case(
        "quotes: 10,000 nested arrays in subjects",
        "POST",
        "/api/quotes",
        (400, 422),
        b'{"package":"wuyou","subjects":' + deep_array(10_000) + b"}",
        JSON,
    ),
    Case(
        "quotes: form-encoded",
        "POST",
        "/api/quotes",
        (422,),
        b"package=wuyou&subjects=x",
        {"Content-Type": "application/x-www-form-urlencoded"},
    ),
    # ---- POST /api/enrollments ---------------------------------------------------------------------
    Case("enrollments: phone too short", "POST", "/api/enrollments", (422,), enroll(mobile="1381234"), JSON),
    Case("enrollments: phone with letters", "POST", "/api/enrollments", (422,), enroll(mobile="138abcd5678"), JSON),
    Case("enrollments: landline", "POST", "/api/enrollments", (422,), enroll(mobile="0591-87654321"), JSON),
    Case(
        "enrollments: +86 with a landline", "POST", "/api/enrollments", (422,), enroll(mobile="+86 591 8765 4321"), JSON
    ),
    Case(
        "enrollments: +86 with 12 digits", "POST", "/api/enrollments", (422,), enroll(mobile="+86 138123456789"), JSON
    ),
    Case("enrollments: +86 twice", "POST", "/api/enrollments", (422,), enroll(mobile="+86+8613812345678"), JSON),
    Case("enrollments: second digit 2", "POST", "/api/enrollments", (422,), enroll(mobile="12812345678"), JSON),
    Case(
        "enrollments: ID number as phone", "POST", "/api/enrollments", (422,), enroll(mobile="35010219900101123X"), JSON
    ),
    Case("enrollments: phone as a number", "POST", "/api/enrollments", (422,), enroll(mobile=13812345678), JSON),
    Case("enrollments: name with HTML", "POST", "/api/enrollments", (422,), enroll(name="<b>张三</b>"), JSON),
    Case("enrollments: name with emoji", "POST", "/api/enrollments", (422,), enroll(name="张三😀"), JSON),
    Case(
        "enrollments: name is SQL",
        "POST",
        "/api/enrollments",
        (422,),
        enroll(name="Robert'); DROP TABLE enrollments;--"),
        JSON,
    ),
    Case("enrollments: name zero-width only", "POST", "/api/enrollments", (422,), enroll(name="\u200b\u200b"), JSON),
    Case(
        "enrollments: sender with control character", "POST", "/api/enrollments", (422,), enroll(sender="web\n1"), JSON
    ),
    Case(
        "enrollments: Idempotency-Key not ASCII",
        "POST",
        "/api/enrollments",
        (422,),
        enroll(),
        [(b"Content-Type", b"application/json"), (b"Idempotency-Key", "键".encode())],
    ),
    Case(
        "enrollments: Idempotency-Key 129 characters",
        "POST",
        "/api/enrollments",
        (422,),
        enroll(),
        {**JSON, "Idempotency-Key": "k" * 129},
    ),
    Case(
        "enrollments: form-encoded",
        "POST",
        "/api/enrollments",
        (422,),
        b"name=%E5%BC%A0%E4%B8%89&mobile=13812345678",
        {"Content-Type": "application/x-www-form-urlencoded"},
    ),
    Case("enrollments: 100 KB body", "POST", "/api/enrollments", (413,), enroll(name="张" * 34_000), JSON),
    Case(
        "enrollments: wrong JSON types everywhere",
        "POST",
        "/api/enrollments",
        (422,),
        j({"name": [], "mobile": {}, "package": 1, "subjects": "施工管理"}),
        JSON,
    ),
    # ---- POST /api/leads ------------------------------------------------------------------------------
    Case("leads: +86 with too few digits", "POST", "/api/leads", (422,), lead(mobile="+86 1381234567"), JSON),
    Case("leads: 0086 landline", "POST", "/api/leads", (422,), lead(mobile="0086 591 87654321"), JSON),
    Case("leads: preferred_time 51 characters", "POST", "/api/leads", (422,), lead(preferred_time="晚" * 51), JSON),
    Case("leads: subjects not a list", "POST", "/api/leads", (422,), lead(subjects={"a": 1}), JSON),
    Case("leads: unknown package with script", "POST", "/api/leads", (422,), lead(package="<script>x</script>"), JSON),
    Case(
        "leads: NUL in preferred_time",
        "POST",
        "/api/leads",
        (422,),
        lead(mobile="13912345670", preferred_time="\x00"),
        JSON,
    ),
    Case("leads: NUL in question", "POST", "/api/leads", (422,), lead(question="请回电\x00"), JSON),
    # ---- POST /api/feedback and /api/handoffs --------------------------------------------------------
    Case("feedback: rating 2", "POST", "/api/feedback", (422,), j({"sender": "u1", "rating": 2}), JSON),
    Case("feedback: rating huge", "POST", "/api/feedback", (422,), j({"sender": "u1", "rating": HUGE}), JSON),
    Case("feedback: rating null", "POST", "/api/feedback", (422,), j({"sender": "u1", "rating": None}), JSON),
    Case(
        "feedback: NUL in question (PostgreSQL 500 before the fix)",
        "POST",
        "/api/feedback",
        (422,),
        j({"sender": "u1", "rating": 1, "question": "a\x00b"}),
        JSON,
    ),
    Case(
        "feedback: HTML and emoji comment",
        "POST",
        "/api/feedback",
        (201,),
        j({"sender": "u1", "rating": -1, "comment": "<img src=x onerror=alert(1)>😡"}),
        JSON,
    ),
    Case(
        "feedback: 5001-character answer",
        "POST",
        "/api/feedback",
        (422,),
        j({"sender": "u1", "rating": 1, "answer": "答" * 5001}),
        JSON,
    ),
    Case(
        "handoffs: channel of NULs (PostgreSQL 500 before the fix)",
        "POST",
        "/api/handoffs",
        (422,),
        j({"sender": "u1", "channel": "\x00" * 32}),
        JSON,
    ),
    Case(
        "handoffs: reason 1001 characters",
        "POST",
        "/api/handoffs",
        (422,),
        j({"sender": "u1", "reason": "人" * 1001}),
        JSON,
    ),
    Case(
        "handoffs: XML body",
        "POST",
        "/api/handoffs",
        (422,),
        b"<handoff><sender>u1</sender></handoff>",
        {"Content-Type": "application/xml"},
    ),
    # ---- POST /api/registration/plan ------------------------------------------------------------------
    Case(
        "plan: unknown field",
        "POST",
        "/api/registration/plan",
        (422,),
        j({"business_type": "重新注册", "isAdmin": True}),
        JSON,
    ),
    Case("plan: body is a list", "POST", "/api/registration/plan", (422,), b"[]", JSON),
    Case("plan: age 10^30", "POST", "/api/registration/plan", (422,), j({"age": HUGE}), JSON),
    Case("plan: age negative", "POST", "/api/registration/plan", (422,), j({"age": -1}), JSON),
    Case("plan: age Infinity", "POST", "/api/registration/plan", (422,), b'{"age": Infinity}', JSON),
    Case(
        "plan: submission date 9999-12-31",
        "POST",
        "/api/registration/plan",
        (422,),
        j({"business_type": "renewal", "submission_date": "9999-12-31"}),
        JSON,
    ),
    Case(
        "plan: issue date 0001-01-01",
        "POST",
        "/api/registration/plan",
        (422,),
        j({"certificate_issue_date": "0001-01-01"}),
        JSON,
    ),
    Case(
        "plan: issue date 30 February",
        "POST",
        "/api/registration/plan",
        (422,),
        j({"certificate_issue_date": "2019-02-30"}),
        JSON,
    ),
    Case("plan: business type emoji", "POST", "/api/registration/plan", (422,), j({"business_type": "🚀"}), JSON),
    Case("plan: booleans as strings", "POST", "/api/registration/plan", (422,), j({"has_certificate": "yes"}), JSON),
    # ---- GET /api/knowledge/search, POST /api/knowledge/answer -------------------------------------------
    Case("search: empty q", "GET", "/api/knowledge/search", (422,), params={"q": ""}),
    Case("search: whitespace q", "GET", "/api/knowledge/search", (422,), params={"q": " \u3000\t"}),
    Case("search: no q", "GET", "/api/knowledge/search", (422,)),
    Case("search: q of 1001 characters", "GET", "/api/knowledge/search", (422,), params={"q": "证" * 1001}),
    Case(
        "search: very long query string",
        "GET",
        "/api/knowledge/search",
        (422,),
        params={"q": "a" * 7000, "pad": "b" * 7000},
    ),
    Case(
        "search: control, zero-width and emoji",
        "GET",
        "/api/knowledge/search",
        (200,),
        params={"q": "\x01\u200b证件照😀\x7f"},
    ),
    Case("search: zero-width only", "GET", "/api/knowledge/search", (200, 422), params={"q": "\u200b\u200b"}),
    Case(
        "search: HTML and SQL",
        "GET",
        "/api/knowledge/search",
        (200,),
        params={"q": "<script>alert(1)</script>' OR 1=1 --"},
    ),
    Case("search: k=0", "GET", "/api/knowledge/search", (422,), params={"q": "证件照", "k": "0"}),
    Case("search: k negative", "GET", "/api/knowledge/search", (422,), params={"q": "证件照", "k": "-5"}),
    Case("search: k 10^30", "GET", "/api/knowledge/search", (422,), params={"q": "证件照", "k": str(HUGE)}),
    Case("search: k not a number", "GET", "/api/knowledge/search", (422,), params={"q": "证件照", "k": "五"}),
    Case("answer: empty object", "POST", "/api/knowledge/answer", (422,), b"{}", JSON),
    Case("answer: question is a number", "POST", "/api/knowledge/answer", (422,), j({"question": 42}), JSON),
    Case(
        "answer: faq_id path traversal",
        "POST",
        "/api/knowledge/answer",
        (404,),
        j({"faq_id": "../../etc/passwd"}),
        JSON,
    ),
    Case("answer: faq_id 129 characters", "POST", "/api/knowledge/answer", (422,), j({"faq_id": "f" * 129}), JSON),
    Case(
        "answer: NUL and emoji question",
        "POST",
        "/api/knowledge/answer",
        (200,),
        j({"question": "证件照\x00😀多大"}),
        JSON,
    ),
    Case(
        "answer: context_question is a list",
        "POST",
        "/api/knowledge/answer",
        (422,),
        j({"question": "多大", "context_question": ["a"]}),
        JSON,
    ),
    Case("answer: text/plain", "POST", "/api/knowledge/answer", (422,), b"question=hi", {"Content-Type": "text/plain"}),
    # ---- POST /api/enrollments/lookup (owner: number + phone in the body), GET /api/enrollments/{no} (staff) ----
    Case(
        "enrollment lookup: unknown number",
        "POST",
        "/api/enrollments/lookup",
        (404,),
        lookup(number="EN20991231-ZZZZZZZZ", phone="13812340001"),
        JSON,
    ),
    Case(
        "enrollment lookup: path traversal in number",
        "POST",
        "/api/enrollments/lookup",
        (404,),
        lookup(number="../../../etc/passwd", phone="13812340002"),
        JSON,
    ),
    Case(
        "enrollment lookup: SQL in number",
        "POST",
        "/api/enrollments/lookup",
        (404,),
        lookup(number="EN' OR '1'='1", phone="13812340003"),
        JSON,
    ),
    Case(
        "enrollment lookup: 8000-character number",
        "POST",
        "/api/enrollments/lookup",
        (422,),
        lookup(number="A" * 8000),
        JSON,
    ),
    Case(
        "enrollment lookup: emoji number",
        "POST",
        "/api/enrollments/lookup",
        (404,),
        lookup(number="😀", phone="13812340004"),
        JSON,
    ),
    Case(
        "enrollment lookup: number not a string",
        "POST",
        "/api/enrollments/lookup",
        (422,),
        lookup(number=20991231),
        JSON,
    ),
    Case(
        "enrollment lookup: no phone",
        "POST",
        "/api/enrollments/lookup",
        (422,),
        j({"number": "EN20991231-ZZZZZZZZ"}),
        JSON,
    ),
    Case("enrollment lookup: phone with letters", "POST", "/api/enrollments/lookup", (422,), lookup(phone="abc"), JSON),
    Case(
        "enrollment lookup: phone 31 characters",
        "POST",
        "/api/enrollments/lookup",
        (422,),
        lookup(phone="1" * 31),
        JSON,
    ),
    Case("enrollment lookup: NUL in number", "POST", "/api/enrollments/lookup", (422,), lookup(number="EN\x00"), JSON),
    Case(
        "enrollment lookup: phone in the query string",
        "GET",
        "/api/enrollments/EN20991231-ZZZZZZZZ",
        (410,),
        params={"phone": "13812345678"},
    ),
    Case(
        "enrollment by URL: path traversal, encoded",
        "GET",
        "/api/enrollments/..%2F..%2Fetc%2Fpasswd",
        (404, 410),
        params={"phone": "13812345678"},
    ),
    Case("enrollment by URL: 8000-character number", "GET", "/api/enrollments/" + "A" * 8000, (404, 410)),
    Case("enrollment by URL: NUL in number", "GET", "/api/enrollments/%00", (422,), params={"phone": "13812345678"}),
    # ---- staff console APIs --------------------------------------------------------------------------
    Case("staff: feedback without a token", "GET", "/api/staff/feedback", (401,)),
    Case(
        "staff: feedback with a wrong token",
        "GET",
        "/api/staff/feedback",
        (401,),
        headers={"Authorization": "Bearer nope"},
    ),
    Case(
        "staff: Basic instead of Bearer",
        "GET",
        "/api/staff/handoffs",
        (401,),
        headers={"Authorization": "Basic YWRtaW46YWRtaW4="},
    ),
    Case(
        "staff: token with Latin-1 bytes",
        "GET",
        "/api/staff/me",
        (401,),
        headers=[(b"Authorization", b"Bearer \xe9\xff")],
    ),
    Case("staff: token prefix only", "GET", "/api/staff/me", (401,), headers={"Authorization": "Bearer badinput"}),
    Case("staff: empty Bearer", "GET", "/api/staff/me", (401,), headers={"Authorization": "Bearer "}),
    Case("staff: unanswered limit -1", "GET", "/api/staff/unanswered", (422,), headers=STAFF, params={"limit": "-1"}),
    Case(
        "staff: unanswered limit 10^30",
        "GET",
        "/api/staff/unanswered",
        (422,),
        headers=STAFF,
        params={"limit": str(HUGE)},
    ),
    Case(
        "staff: feedback with a very long query string",
        "GET",
        "/api/staff/feedback",
        (200,),
        headers=STAFF,
        params={"limit": "5", "x": "y" * 8000},
    ),
    Case(
        "staff: transcript of a sender with ?, # and /",
        "GET",
        "/api/staff/conversations/a%3Fb%23c%2F..%2Fstatus",
        (200,),
        headers=STAFF,
    ),
    Case("staff: transcript without a token", "GET", "/api/staff/conversations/web-1", (401,)),
    Case("staff: enrollments list without a token", "GET", "/api/enrollments", (401,)),
    Case("staff: enrollments list limit 0", "GET", "/api/enrollments", (422,), headers=STAFF, params={"limit": "0"}),
    Case(
        "staff: enrollments list limit 10^30",
        "GET",
        "/api/enrollments",
        (422,),
        headers=STAFF,
        params={"limit": str(HUGE)},
    ),
    Case(
        "staff: enrollments list offset -1", "GET", "/api/enrollments", (422,), headers=STAFF, params={"offset": "-1"}
    ),
    Case(
        "staff: enrollments list offset 2^63",
        "GET",
        "/api/enrollments",
        (200, 422),
        headers=STAFF,
        params={"offset": str(BIG)},
    ),
    Case(
        "staff: enrollments list date_to 9999-12-31",
        "GET",
        "/api/enrollments",
        (200, 422),
        headers=STAFF,
        params={"date_to": "9999-12-31"},
    ),
    Case(
        "staff: enrollments list date_from 0001-01-01",
        "GET",
        "/api/enrollments",
        (200, 422),
        headers=STAFF,
        params={"date_from": "0001-01-01"},
    ),
    Case(
        "staff: enrollments list date 2026-13-45",
        "GET",
        "/api/enrollments",
        (422,),
        headers=STAFF,
        params={"date_from": "2026-13-45"},
    ),
    Case(
        "staff: enrollments list status is script",
        "GET",
        "/api/enrollments",
        (422,),
        headers=STAFF,
        params={"status": "<script>"},
    ),
    Case(
        "staff: enrollments list bad phone", "GET", "/api/enrollments", (422,), headers=STAFF, params={"phone": "abc"}
    ),
    Case(
        "staff: enrollments list SQL package",
        "GET",
        "/api/enrollments",
        (422,),
        headers=STAFF,
        params={"package": "' OR 1=1 --"},
    ),
    Case(
        "staff: enrollments list NUL sender",
        "GET",
        "/api/enrollments",
        (422,),
        headers=STAFF,
        params={"sender": "a\x00"},
    ),
    Case(
        "staff: PATCH status of unknown enrollment",
        "PATCH",
        "/api/enrollments/EN20991231-ZZZZ",
        (404,),
        j({"status": "paid"}),
        STAFF_JSON,
    ),
    Case(
        "staff: PATCH status without a token",
        "PATCH",
        "/api/enrollments/EN20991231-ZZZZ",
        (401,),
        j({"status": "paid"}),
        JSON,
    ),
    Case(
        "staff: PATCH status is a number",
        "PATCH",
        "/api/enrollments/EN20991231-ZZZZ",
        (422,),
        j({"status": 3}),
        STAFF_JSON,
    ),
    Case(
        "staff: PATCH status unknown word",
        "PATCH",
        "/api/enrollments/EN20991231-ZZZZ",
        (404, 422),
        j({"status": "deleted"}),
        STAFF_JSON,
    ),
    Case("staff: PATCH empty body", "PATCH", "/api/enrollments/EN20991231-ZZZZ", (422,), b"", STAFF_JSON),
    Case(
        "staff: PATCH path traversal",
        "PATCH",
        "/api/enrollments/..%2F..%2Fadmin",
        (404,),
        j({"status": "paid"}),
        STAFF_JSON,
    ),
    Case(
        "staff: PATCH enrollment number with NUL",
        "PATCH",
        "/api/enrollments/%00",
        (422,),
        j({"status": "paid"}),
        STAFF_JSON,
    ),
    Case(
        "staff: enrollment conversation, number with NUL",
        "GET",
        "/api/enrollments/%00/conversation",
        (422,),
        headers=STAFF,
    ),
    Case("staff: PATCH lead id not a number", "PATCH", "/api/leads/abc", (422,), j({"status": "closed"}), STAFF_JSON),
    Case("staff: PATCH lead id negative", "PATCH", "/api/leads/-1", (404, 422), j({"status": "closed"}), STAFF_JSON),
    Case("staff: PATCH lead id 2^63", "PATCH", f"/api/leads/{BIG}", (404, 422), j({"status": "closed"}), STAFF_JSON),
    Case("staff: lead conversation id 2^63", "GET", f"/api/leads/{BIG}/conversation", (404, 422), headers=STAFF),
    Case(
        "staff: leads list date_to 9999-12-31",
        "GET",
        "/api/leads",
        (200, 422),
        headers=STAFF,
        params={"date_to": "9999-12-31"},
    ),
    Case("staff: leads list offset 2^63", "GET", "/api/leads", (200, 422), headers=STAFF, params={"offset": str(BIG)}),
]

# The two endpoints allowed to answer 503 ("service not ready", with a Chinese message): the
# knowledge index may be missing or stale. No other endpoint may answer any 5xx to bad input.
MAY_BE_NOT_READY = {"/api/knowledge/search", "/api/knowledge/answer"}
