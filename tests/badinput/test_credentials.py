"""Credentials of issue #13 (bot/auth.py, bot/settings.py), one class of bad input per test group:

- default_secret: a credential that works without anyone configuring it (the old "dev-staff-token");
- short_token: a guessable staff or action-server token, refused when the settings load;
- login_bruteforce: guessing the staff token, throttled per client IP with 429 and Retry-After;
- action_server_credential: a request claiming to be the action server with a wrong token.

Rasa is mocked at its HTTP client boundary; requests go through Starlette's TestClient.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from bot.settings import Settings

from .helpers import CJK, STAFF, make_app, make_settings

ACTIONS_TOKEN = "actions-token-for-the-badinput-tests"


@pytest.fixture
def app_with(tmp_path, knowledge_index):
    """An app factory: settings overrides -> (TestClient entered, the app)."""
    opened = []

    def make(**overrides):
        app = make_app(make_settings(f"sqlite:///{tmp_path / f'bot{len(opened)}.db'}", knowledge_index, **overrides))
        client = TestClient(app)
        client.__enter__()
        opened.append(client)
        return client, app

    yield make
    for client in opened:
        client.__exit__(None, None, None)


def from_ip(app, ip: str) -> TestClient:
    return TestClient(app, client=(ip, 50000))


# -- default_secret --------------------------------------------------------------------------------


@pytest.fixture
def unconfigured(tmp_path, knowledge_index, monkeypatch):
    """An app whose settings name no staff token at all: the defaults, as after a bare install."""
    for name in ("STAFF_TOKEN", "ACTION_SERVER_TOKEN", "ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)
    values = make_settings(f"sqlite:///{tmp_path / 'bot.db'}", knowledge_index).model_dump()
    for name in ("staff_token", "action_server_token", "environment"):
        values.pop(name, None)
    with TestClient(make_app(Settings(_env_file=None, **values))) as client:
        yield client


@pytest.mark.parametrize("token", ["dev-staff-token", "", "changeme"])
def test_default_secret__no_token_opens_the_staff_endpoints_of_a_bare_install(unconfigured, token):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    for path in ("/api/staff/me", "/api/staff/handoffs", "/api/enrollments", "/api/leads"):
        response = unconfigured.get(path, headers=headers)
        assert response.status_code == 503, (path, response.status_code)
        detail = response.json()["detail"]
        assert "STAFF_TOKEN" in detail and CJK.search(detail)  # says why, in the project's error format


def test_default_secret__public_endpoints_still_work_without_a_staff_token(unconfigured):
    assert unconfigured.post("/api/handoffs", json={"sender": "web-1", "reason": "转人工"}).status_code == 201


def test_default_secret__bot_listens_on_loopback_unless_told(monkeypatch):
    monkeypatch.delenv("BOT_HOST", raising=False)
    assert Settings(_env_file=None).bot_host == "127.0.0.1"


# -- short_token -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["staff_token", "action_server_token"])
@pytest.mark.parametrize("token", ["dev-staff-token", "x" * 23, "   padded-but-short   "])
def test_short_token__is_refused_when_the_settings_load(name, token):
    with pytest.raises(ValidationError, match=f"{name.upper()} is too short.*at least 24"):
        Settings(_env_file=None, **{name: token})


def test_short_token__a_long_enough_one_is_accepted():
    assert Settings(_env_file=None, staff_token="y" * 24, action_server_token="z" * 24).staff_token == "y" * 24


# -- login_bruteforce --------------------------------------------------------------------------------


def test_login_bruteforce__failed_tokens_are_throttled_per_client_ip(app_with):
    client, app = app_with(staff_login_max_failures=3, staff_login_window_seconds=900)
    guesses = [client.get("/api/staff/me", headers={"Authorization": f"Bearer guess-{i}"}) for i in range(3)]
    assert [r.status_code for r in guesses] == [401, 401, 401]

    blocked = client.get("/api/staff/me", headers={"Authorization": "Bearer guess-4"})
    assert blocked.status_code == 429
    assert 840 <= int(blocked.headers["retry-after"]) <= 900 and "登录失败次数过多" in blocked.json()["detail"]
    # Blocked means blocked: the right token from that client cannot confirm a guess either.
    assert client.get("/api/staff/me", headers=STAFF).status_code == 429
    # Other clients, and requests without a credential, are not affected.
    assert from_ip(app, "10.0.0.7").get("/api/staff/me", headers=STAFF).status_code == 200
    assert client.post("/api/feedback", json={"sender": "web-1", "rating": 1}).status_code == 201


def test_login_bruteforce__guessing_through_an_owner_or_staff_endpoint_counts_too(app_with):
    client, _ = app_with(staff_login_max_failures=2)
    for i in range(2):
        assert client.get("/api/leads", headers={"Authorization": f"Bearer guess-{i}"}).status_code == 401
    assert client.get("/api/staff/feedback", headers=STAFF).status_code == 429


def test_login_bruteforce__successes_do_not_count(app_with):
    client, _ = app_with(staff_login_max_failures=2)
    for _ in range(5):
        assert client.get("/api/staff/me", headers=STAFF).status_code == 200


# -- action_server_credential ----------------------------------------------------------------------------


def test_action_server_credential__a_wrong_token_is_a_401_and_nothing_is_stored(app_with):
    client, _ = app_with(action_server_token=ACTIONS_TOKEN)
    wrong = client.post(
        "/api/handoffs",
        json={"sender": "web-1", "reason": "转人工"},
        headers={"X-Action-Server-Token": ACTIONS_TOKEN[:-1] + "X"},
    )
    assert wrong.status_code == 401 and CJK.search(wrong.json()["detail"])
    assert client.get("/api/staff/handoffs", headers=STAFF).json()["items"] == []


def test_action_server_credential__is_refused_when_bot_has_none_configured(app_with):
    client, _ = app_with(action_server_token="")
    response = client.post("/api/handoffs", json={"sender": "web-1"}, headers={"X-Action-Server-Token": ACTIONS_TOKEN})
    assert response.status_code == 401


def test_action_server_credential__guesses_are_throttled_like_staff_logins(app_with):
    client, _ = app_with(action_server_token=ACTIONS_TOKEN, staff_login_max_failures=2)
    for i in range(2):
        assert (
            client.post(
                "/api/handoffs", json={"sender": "web-1"}, headers={"X-Action-Server-Token": f"guess-{i}"}
            ).status_code
            == 401
        )
    assert (
        client.post(
            "/api/handoffs", json={"sender": "web-1"}, headers={"X-Action-Server-Token": ACTIONS_TOKEN}
        ).status_code
        == 429
    )
