"""Rate limits on the public endpoints: per sender and per client IP (bot/ratelimit.py).

Which endpoints call `app.state.rate_limiter.check` today: POST /api/chat, /api/feedback,
/api/handoffs, /api/enrollments, /api/leads, the owner's lookup POST /api/enrollments/lookup
(guessing numbers for a known phone), and the WeChat channel (per OpenID only: WeChat's servers
share IPs). /api/chat is covered in tests/bot/test_chat_api.py.

The windows are moving windows over the last minute (the `limits` library), so a test never
straddles a window boundary and nothing needs freezing.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from bot import replies
from tests.bot.wechat_helpers import OPENID, OTHER_OPENID, post_plain, reply_fields, text_xml

from .helpers import STAFF, EchoRasa, make_app, make_settings


@pytest.fixture
def limited(tmp_path, knowledge_index):
    """A client factory: (per_sender, per_ip) -> (TestClient entered, the app, the fake Rasa)."""
    opened = []

    def make(per_sender: int = 1000, per_ip: int = 1000):
        rasa = EchoRasa()
        app = make_app(
            make_settings(
                f"sqlite:///{tmp_path / f'bot{len(opened)}.db'}",
                knowledge_index,
                rate_limit_per_minute=per_sender,
                rate_limit_per_ip_per_minute=per_ip,
            ),
            rasa,
        )
        client = TestClient(app)
        client.__enter__()
        opened.append(client)
        return client, app, rasa

    yield make
    for client in opened:
        client.__exit__(None, None, None)


def from_ip(app, ip: str) -> TestClient:
    """Another client address on an app whose lifespan is already running (state is shared)."""
    return TestClient(app, client=(ip, 50000))


BODIES = {
    "/api/feedback": lambda sender: {"sender": sender, "rating": -1, "question": "证件照多大"},
    "/api/handoffs": lambda sender: {"sender": sender, "channel": "web", "reason": "转人工"},
}
LISTS = {"/api/feedback": "/api/staff/feedback", "/api/handoffs": "/api/staff/handoffs"}


def assert_limited(response):
    assert response.status_code == 429
    assert response.json()["detail"] == replies.RATE_LIMITED
    assert 1 <= int(response.headers["retry-after"]) <= 60  # when the oldest request leaves the window


@pytest.mark.parametrize("path", sorted(BODIES))
def test_a_sender_over_its_budget_gets_429_and_nothing_is_stored(limited, path):
    client, _, _ = limited(per_sender=3)
    codes = [client.post(path, json=BODIES[path]("flood")).status_code for _ in range(5)]
    assert codes == [201, 201, 201, 429, 429]
    assert_limited(client.post(path, json=BODIES[path]("flood")))
    assert client.post(path, json=BODIES[path]("calm")).status_code == 201  # another sender is unaffected
    items = client.get(LISTS[path], headers=STAFF).json()["items"]
    assert [i["sender"] for i in items].count("flood") == 3


@pytest.mark.parametrize("path", sorted(BODIES))
def test_an_ip_over_its_budget_gets_429_whatever_sender_it_claims(limited, path):
    client, app, _ = limited(per_ip=2)
    codes = [client.post(path, json=BODIES[path](f"s{i}")).status_code for i in range(4)]
    assert codes == [201, 201, 429, 429]
    assert_limited(client.post(path, json=BODIES[path]("fresh-sender")))
    assert from_ip(app, "10.0.0.2").post(path, json=BODIES[path]("s9")).status_code == 201  # another IP is unaffected


def test_chat_budget_of_one_ip_does_not_affect_another(limited):
    client, app, rasa = limited(per_ip=2)
    codes = [client.post("/api/chat", json={"sender": f"s{i}", "message": "你好"}).status_code for i in range(3)]
    assert codes == [200, 200, 429]
    assert from_ip(app, "10.0.0.2").post("/api/chat", json={"sender": "s0", "message": "你好"}).status_code == 200
    assert len(rasa.received) == 3


def test_wechat_limits_each_openid_with_a_polite_reply(limited):
    client, _, rasa = limited(per_sender=2)
    replies_ = [
        reply_fields(post_plain(client, text_xml(f"问题{i}", msg_id=9_100_000 + i)))["Content"] for i in range(3)
    ]
    assert replies_[2] == replies.RATE_LIMITED and not replies_[0].startswith(replies.RATE_LIMITED)
    other = post_plain(client, text_xml("你好", msg_id=9_100_100, openid=OTHER_OPENID))
    assert reply_fields(other)["Content"].startswith("收到")
    assert [r["sender"] for r in rasa.received] == [f"wx:{OPENID}"] * 2 + [f"wx:{OTHER_OPENID}"]


def test_wechat_is_not_limited_per_ip_because_wechat_servers_share_them(limited):
    client, _, rasa = limited(per_ip=1)
    openids = [f"oUser{i:023d}" for i in range(3)]
    for i, openid in enumerate(openids):
        response = post_plain(client, text_xml("你好", msg_id=9_200_000 + i, openid=openid))
        assert reply_fields(response)["Content"].startswith("收到")
    assert len(rasa.received) == 3


def test_a_rate_limited_wechat_user_can_still_ask_for_a_person(limited):
    client, _, _ = limited(per_sender=1)
    post_plain(client, text_xml("问题", msg_id=9_300_001))
    assert reply_fields(post_plain(client, text_xml("问题2", msg_id=9_300_002)))["Content"] == replies.RATE_LIMITED
    transfer = reply_fields(post_plain(client, text_xml("转人工", msg_id=9_300_003)))
    assert transfer["MsgType"] == "transfer_customer_service"


ENROLLMENT = {"name": "张三", "package": "wuyou", "subjects": ["施工管理"]}


def test_enrollments_are_rate_limited_per_ip(limited):
    """The 4th enrollment of an IP within a minute is refused, says so, and stores nothing;
    another IP still enrolls."""
    client, app, _ = limited(per_ip=3)

    def enroll(http, i):
        return http.post("/api/enrollments", json={**ENROLLMENT, "mobile": f"1380000{i:04d}", "sender": f"u{i}"})

    responses = [enroll(client, i) for i in range(5)]
    assert [r.status_code for r in responses] == [201, 201, 201, 429, 429]
    assert_limited(responses[3])
    assert enroll(from_ip(app, "10.0.0.2"), 9).status_code == 201
    stored = client.get("/api/enrollments", headers=STAFF).json()["items"]
    assert sorted(e["mobile"] for e in stored) == ["13800000000", "13800000001", "13800000002", "13800000009"]


def test_leads_are_rate_limited_per_ip(limited):
    client, app, _ = limited(per_ip=3)

    def ask(http, i):
        return http.post("/api/leads", json={"name": "李四", "mobile": f"1390000{i:04d}"})

    responses = [ask(client, i) for i in range(5)]
    assert [r.status_code for r in responses] == [201, 201, 201, 429, 429]
    assert_limited(responses[3])
    assert ask(from_ip(app, "10.0.0.2"), 9).status_code == 201
    stored = client.get("/api/leads", headers=STAFF).json()["items"]
    assert sorted(x["mobile"] for x in stored) == ["13900000000", "13900000001", "13900000002", "13900000009"]


def test_leads_are_rate_limited_per_sender(limited):
    client, _, _ = limited(per_sender=2)

    def ask(sender, i):
        return client.post("/api/leads", json={"name": "李四", "mobile": f"1390000{i:04d}", "sender": sender})

    codes = [ask("flood", i).status_code for i in range(3)]
    assert codes == [201, 201, 429]
    assert ask("calm", 9).status_code == 201  # another sender is unaffected


def test_enrollment_lookup_by_phone_is_rate_limited_per_ip(limited):
    """Guessing numbers for a phone: the 4th lookup of an IP is refused before any record is read."""
    client, app, _ = limited(per_ip=3)

    def lookup(http, i):
        return http.post("/api/enrollments/lookup", json={"number": f"EN20991231-{i:08d}", "phone": f"1381234{i:04d}"})

    responses = [lookup(client, i) for i in range(5)]
    assert [r.status_code for r in responses] == [404, 404, 404, 429, 429]
    assert_limited(responses[3])
    assert lookup(from_ip(app, "10.0.0.2"), 9).status_code == 404  # another IP is still answered
