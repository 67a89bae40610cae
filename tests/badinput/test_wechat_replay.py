"""wechat_replay (issue #13, finding 5): a signed WeChat URL reused with another body.

In plaintext mode the signature covers the URL (timestamp, nonce), not the XML: whoever saw one
signed URL could post any message with it for as long as the timestamp is in the window. A signed
(timestamp, nonce) now carries one body; the same bytes again are WeChat resending its request
and still get their reply once (tests/bot/test_wechat.py covers retries with a fresh nonce).
"""

from __future__ import annotations

import asyncio

import pytest
from fastapi.testclient import TestClient

from bot import replies
from bot.wechat.dedup import MemoryTTLStore, RedisTTLStore
from tests.bot.wechat_helpers import FakeRedis, post_plain, reply_fields, signed_query, text_xml

from .corpus import safe_envelope
from .helpers import CJK, EchoRasa, make_app, make_settings, safe_mode_overrides


@pytest.fixture
def settings(tmp_path):
    return make_settings(f"sqlite:///{tmp_path / 'bot.db'}", tmp_path / "no-index")


def test_wechat_replay_of_a_signed_url_with_another_body_is_refused(settings):
    rasa = EchoRasa()
    query = signed_query()
    with TestClient(make_app(settings, rasa)) as client:
        first = post_plain(client, text_xml("证件照有什么要求", msg_id=9_400_001), **query)
        forged = post_plain(client, text_xml("我要报名，手机13812345678", msg_id=9_400_002), **query)
    assert first.status_code == 200 and reply_fields(first)["Content"].startswith("收到")
    assert forged.status_code == 403 and forged.json()["detail"] == replies.WECHAT_REPLAYED
    assert CJK.search(forged.json()["detail"])
    assert [m["message"] for m in rasa.received] == ["证件照有什么要求"]


def test_wechat_replay_of_the_same_request_is_answered_as_the_retry_it_is(settings):
    rasa = EchoRasa()
    query, xml = signed_query(), text_xml("证件照有什么要求", msg_id=9_400_011)
    with TestClient(make_app(settings, rasa)) as client:
        first = post_plain(client, xml, **query)
        again = post_plain(client, xml, **query)
    assert first.status_code == again.status_code == 200
    assert again.text == first.text and reply_fields(again)["Content"].startswith("收到")
    assert len(rasa.received) == 1


def test_wechat_replay_in_safe_mode_of_the_same_envelope_is_a_retry(tmp_path):
    settings = make_settings(f"sqlite:///{tmp_path / 'bot.db'}", tmp_path / "no-index", **safe_mode_overrides())
    rasa = EchoRasa()
    request = safe_envelope(text_xml("你好", msg_id=9_400_021))()  # one request, sent twice as it is
    with TestClient(make_app(settings, rasa)) as client:
        first, again = (
            client.post("/wechat", params=request["params"], content=request["body"], headers=request["headers"])
            for _ in range(2)
        )
    assert first.status_code == again.status_code == 200
    assert len(rasa.received) == 1


def test_wechat_replay_is_refused_by_another_worker_sharing_redis(settings, monkeypatch):
    """Two bot/ workers behind a load balancer: the (timestamp, nonce) seen by one is known to the other
    through the channel's Redis store (played by FakeRedis), kept until the timestamp leaves the window."""
    redis = FakeRedis()
    monkeypatch.setattr("bot.routes.wechat.make_store", lambda url: RedisTTLStore(redis))
    rasa = EchoRasa()
    query = signed_query()
    with TestClient(make_app(settings, rasa)) as worker_a, TestClient(make_app(settings, rasa)) as worker_b:
        first = post_plain(worker_a, text_xml("你好", msg_id=9_400_031), **query)
        forged = post_plain(worker_b, text_xml("转人工", msg_id=9_400_032), **query)
    assert first.status_code == 200 and forged.status_code == 403
    assert [m["message"] for m in rasa.received] == ["你好"]
    key = f"bot:wechat:replay:{query['timestamp']}:{query['nonce']}"
    ttl = next(ex for op, k, nx, ex in redis.calls if k == key and nx)
    skew = settings.wechat_max_timestamp_skew_seconds
    assert skew - 5 <= ttl <= skew + 2  # signed just now: remembered for the whole window


def test_wechat_replay_entries_expire_when_the_timestamp_leaves_the_window():
    from bot.wechat.replay import admit

    clock = [1_800_000_000.0]
    store = MemoryTTLStore(clock=lambda: clock[0])
    ts = str(int(clock[0]) - 100)  # signed 100 s ago: acceptable for another 200 s with a 300 s window

    async def scenario():
        first = await admit(store, ts, "42", b"<xml>a</xml>", 300, now=clock[0])
        forged = await admit(store, ts, "42", b"<xml>b</xml>", 300, now=clock[0])
        clock[0] += 199
        still = await admit(store, ts, "42", b"<xml>b</xml>", 300, now=clock[0])
        clock[0] += 3  # now check_timestamp refuses the URL anyway: the entry may go
        gone = await store.get(f"replay:{ts}:42") is None
        return first, forged, still, gone

    assert asyncio.run(scenario()) == (True, False, False, True)
