"""bot/limits.py: body size and JSON nesting limits, checked before any endpoint parses a body."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from bot import replies
from bot.limits import json_too_deep

from .helpers import CJK, EchoRasa, make_app, make_settings


@pytest.fixture
def small_limits(tmp_path, knowledge_index):
    rasa = EchoRasa()
    app = make_app(
        make_settings(
            f"sqlite:///{tmp_path / 'bot.db'}",
            knowledge_index,
            max_body_bytes=2048,
            max_json_depth=8,
            max_message_chars=5000,
            cors_origins="https://widget.example",
        ),
        rasa,
    )
    with TestClient(app) as client:
        yield client, rasa


def chat_body(size: int) -> bytes:
    """A valid chat request of exactly `size` bytes."""
    head, tail = b'{"sender":"u1","message":"', b'"}'
    return head + b"a" * (size - len(head) - len(tail)) + tail


def test_a_body_at_the_limit_passes_and_one_byte_more_is_413(small_limits):
    client, rasa = small_limits
    ok = client.post("/api/chat", content=chat_body(2048), headers={"Content-Type": "application/json"})
    assert ok.status_code == 200
    refused = client.post("/api/chat", content=chat_body(2049), headers={"Content-Type": "application/json"})
    assert refused.status_code == 413
    assert refused.json() == {"detail": replies.BODY_TOO_LARGE.format(kb=2)}
    assert len(rasa.received) == 1  # the refused one never reached an endpoint


def test_a_chunked_body_is_counted_as_it_arrives(small_limits):
    client, rasa = small_limits
    chunks = iter([b'{"sender":"u1","message":"', b"a" * 1500, b"a" * 1500, b'"}'])
    response = client.post("/api/chat", content=chunks, headers={"Content-Type": "application/json"})
    assert response.status_code == 413 and rasa.received == []


def test_a_huge_body_is_refused_fast_and_unparsed(small_limits):
    client, rasa = small_limits
    started = time.monotonic()
    response = client.post("/api/chat", content=b"[" * 5_000_000, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert time.monotonic() - started < 2.0
    assert rasa.received == []


def test_the_413_is_readable_by_the_widget_on_another_site(small_limits):
    client, _ = small_limits
    response = client.post(
        "/api/chat",
        content=chat_body(4096),
        headers={"Content-Type": "application/json", "Origin": "https://widget.example"},
    )
    assert response.status_code == 413
    assert response.headers["access-control-allow-origin"] == "https://widget.example"


def test_nesting_at_the_limit_passes_and_one_level_more_is_422(small_limits):
    client, rasa = small_limits
    inner = b'{"a":' * 7 + b"1" + b"}" * 7  # 7 levels inside the body object: 8 in all
    ok = client.post(
        "/api/chat",
        content=b'{"sender":"u1","message":"hi","metadata":' + inner + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert ok.status_code == 200
    deeper = client.post(
        "/api/chat",
        content=b'{"sender":"u1","message":"hi","metadata":{"b":' + inner + b"}}",
        headers={"Content-Type": "application/json"},
    )
    assert deeper.status_code == 422
    assert deeper.json() == {"detail": replies.JSON_TOO_DEEP.format(depth=8)} and CJK.search(deeper.json()["detail"])
    assert len(rasa.received) == 1


def test_brackets_inside_strings_do_not_count(small_limits):
    client, rasa = small_limits
    message = "[[[[[[[[[[{{{{{{{{{{ \\\" ]]]]"
    response = client.post("/api/chat", json={"sender": "u1", "message": message})
    assert response.status_code == 200 and rasa.received[-1]["message"] == message


def test_only_json_bodies_are_checked_for_nesting(small_limits):
    client, _ = small_limits
    response = client.post("/api/chat", content=b"[" * 100, headers={"Content-Type": "text/plain"})
    assert response.status_code == 422  # the endpoint's own "not a JSON object", not the nesting limit
    assert response.json()["detail"] != replies.JSON_TOO_DEEP.format(depth=8)


@pytest.mark.parametrize(
    "body, depth, too_deep",
    [
        (b"[]", 1, False),
        (b"[[]]", 1, True),
        (b'{"a": [1, {"b": 2}]}', 3, False),
        (b'{"a": [1, {"b": 2}]}', 2, True),
        (b'["[[[[[[[[", "{{{{{{"]', 1, False),
        (b'["\\"[[[[", "\\\\", [[]]]', 3, False),
        (b'["\\"[[[[", "\\\\", [[]]]', 2, True),
        (b'"unterminated [[[[[[', 1, False),
        (b"]]]][[", 2, False),  # malformed: the parser rejects it
    ],
)
def test_json_depth(body, depth, too_deep):
    assert json_too_deep(body, depth) is too_deep


def test_depth_scan_is_linear_on_hostile_strings():
    """Escaped quotes that never close, the worst case for a string-matching regex."""
    body = b'"' + b'\\"[' * 21_000
    started = time.monotonic()
    assert json_too_deep(body, 32) is False
    assert time.monotonic() - started < 1.0


def test_limits_come_from_the_settings(monkeypatch):
    monkeypatch.setenv("MAX_BODY_BYTES", "4096")
    monkeypatch.setenv("MAX_JSON_DEPTH", "12")
    from bot.settings import Settings

    settings = Settings()
    assert (settings.max_body_bytes, settings.max_json_depth) == (4096, 12)
    assert (Settings.model_fields["max_body_bytes"].default, Settings.model_fields["max_json_depth"].default) == (
        65536,
        32,
    )
