"""Runs the bad-input corpus (corpus.py) against one app per WeChat mode, then checks the service
still answers normally. One app serves the whole module, so state left by one hostile request
(database rows, dedup entries, a poisoned cache) is there for the next and for the final check."""

from __future__ import annotations

import collections
import json

import pytest
from fastapi.testclient import TestClient

from tests.bot.wechat_helpers import reply_fields, signed_query, text_xml

from .corpus import CASES, MAY_BE_NOT_READY, Case
from .helpers import CJK, LEAK_MARKERS, STAFF, EchoRasa, make_app, make_settings, on_postgres, safe_mode_overrides


@pytest.fixture(scope="module")
def rasa() -> EchoRasa:
    return EchoRasa()


@pytest.fixture(scope="module")
def clients(module_database_url, knowledge_index, rasa):
    """{"plain": client, "safe": client}: the same database, WeChat in plaintext and in safe mode."""
    plain = make_app(make_settings(module_database_url, knowledge_index), rasa)
    safe = make_app(make_settings(module_database_url, knowledge_index, **safe_mode_overrides()), rasa)
    # raise_server_exceptions=False: an unhandled error must show up as the 500 a client would get.
    with TestClient(plain, raise_server_exceptions=False) as p, TestClient(safe, raise_server_exceptions=False) as s:
        yield {"plain": p, "safe": s}


def _value(value):
    return value() if callable(value) else value


def _request(client: TestClient, case: Case):
    parts = {"params": _value(case.params), "body": _value(case.body), "headers": _value(case.headers)}
    if case.build is not None:
        parts.update(case.build())
    return client.request(
        case.method, case.path, params=parts["params"], content=parts["body"], headers=parts["headers"] or None
    )


def _marks(case: Case):
    bug = case.known_bug
    if bug is None or bug.only_on not in (None, "postgresql" if on_postgres() else "sqlite"):
        return []
    return [pytest.mark.xfail(strict=True, raises=AssertionError, reason=f"known bug in {bug.owner}: {bug.why}")]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name, marks=_marks(c)) for c in CASES])
def test_bad_input_gets_a_polite_answer(clients, case: Case):
    response = _request(clients[case.app], case)
    text = response.text
    where = f"{case.method} {case.path} -> {response.status_code}: {text[:300]!r}"

    assert response.status_code < 500 or (response.status_code == 503 and case.path in MAY_BE_NOT_READY), where
    assert not LEAK_MARKERS.search(text), f"traceback or internal path in the body: {where}"
    assert response.status_code in case.expect, f"expected one of {case.expect}: {where}"

    if response.status_code >= 400:
        detail = response.json()["detail"]
        assert isinstance(detail, str) and CJK.search(detail), f"the error must say in Chinese what to fix: {where}"
    elif case.path == "/api/chat":
        texts = [m.get("text") or "" for m in response.json()["messages"]]
        assert texts and CJK.search(texts[0]), f"the chat must answer in Chinese: {where}"
    elif case.path == "/wechat" and case.method == "POST":
        assert text == "success" or text.startswith("<xml>"), where


def test_service_still_answers_after_the_corpus(clients, rasa):
    """Run last (file order): after every hostile request above, normal requests work."""
    client = clients["plain"]
    chat = client.post("/api/chat", json={"sender": "after-corpus", "message": "证件照有什么要求"})
    assert chat.status_code == 200 and chat.json()["messages"][0]["text"].startswith("收到")
    assert rasa.received[-1] == {"sender": "after-corpus", "message": "证件照有什么要求"}

    wechat = client.post(
        "/wechat",
        params=signed_query(),
        content=text_xml("你好", msg_id=8_000_000_001).encode(),
        headers={"Content-Type": "text/xml"},
    )
    assert wechat.status_code == 200 and reply_fields(wechat)["Content"].startswith("收到")

    search = client.get("/api/knowledge/search", params={"q": "证件照要多大"})
    assert search.status_code == 200 and search.json()["hits"]
    quote = client.post("/api/quotes", json={"package": "wuyou", "subjects": ["施工管理"]})
    assert quote.status_code == 200 and quote.json()["total"] > 0
    enrollment = client.post(
        "/api/enrollments", json={"name": "王五", "mobile": "13712345678", "package": "wuyou", "subjects": ["施工管理"]}
    )
    assert enrollment.status_code == 201
    number = enrollment.json()["number"]
    assert client.post("/api/enrollments/lookup", json={"number": number, "phone": "137 1234 5678"}).status_code == 200
    plan = client.post("/api/registration/plan", json={"business_type": "重新注册", "age": 45})
    assert plan.status_code == 200
    assert client.get("/api/staff/feedback", headers=STAFF).status_code == 200
    assert clients["safe"].get("/api/staff/me").status_code == 401


def test_the_corpus_covers_every_surface():
    """At least 60 cases, spread over chat, WeChat (both modes), the backend and the staff APIs."""
    by_endpoint = collections.Counter(c.endpoint for c in CASES)
    assert len(CASES) >= 60
    for endpoint in (
        "POST /api/chat",
        "POST /wechat",
        "POST /api/quotes",
        "POST /api/enrollments",
        "POST /api/leads",
        "POST /api/feedback",
        "POST /api/handoffs",
        "POST /api/registration/plan",
        "GET /api/knowledge/search",
        "POST /api/knowledge/answer",
        "GET /api/enrollments/{no}",
        "POST /api/enrollments/lookup",
        "GET /api/staff/*",
        "GET /api/enrollments",
        "PATCH /api/enrollments/{no}",
    ):
        assert by_endpoint[endpoint] >= 1, endpoint
    assert any(c.app == "safe" for c in CASES)
    assert len({c.name for c in CASES}) == len(CASES), "case names are test ids: keep them unique"


def test_staff_transcript_sender_stays_one_path_segment_at_rasa(clients, rasa):
    """A sender with "?", "#" or "/" must not become a query, a fragment or another path at Rasa."""
    response = clients["plain"].get("/api/staff/conversations/a%3Fb%23c%2F..%2Fstatus", headers=STAFF)
    assert response.status_code == 200
    assert response.json()["sender"] == "a?b#c/../status"
    assert [t["text"] for t in response.json()["turns"]] == [
        "证件照有什么要求",
        "白底证件照。",
    ]  # non-dict events dropped
    assert rasa.paths[-1] == "/conversations/a%3Fb%23c%2F..%2Fstatus/tracker"


def test_knowledge_without_an_index_is_503_in_chinese(module_database_url, tmp_path):
    """The two endpoints that may be "not ready": 503 with a Chinese message, and nothing else."""
    app = make_app(make_settings(module_database_url, tmp_path / "no-index"))
    with TestClient(app, raise_server_exceptions=False) as client:
        responses = [
            client.get("/api/knowledge/search", params={"q": "证件照"}),
            client.post("/api/knowledge/answer", json={"question": "证件照"}),
        ]
    for response in responses:
        assert response.status_code == 503
        assert CJK.search(response.json()["detail"])


def test_knowledge_not_ready_does_not_show_internal_paths(module_database_url, tmp_path):
    app = make_app(make_settings(module_database_url, tmp_path / "no-index"))
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post("/api/knowledge/answer", json={"question": "证件照"})
    assert response.status_code == 503
    assert str(tmp_path) not in response.text and "make train" not in response.text, json.loads(response.text)
