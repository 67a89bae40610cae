"""Per-person staff accounts: hashed passwords, sessions that end, login throttling, roles, the
audit log, and `python -m bot.admin`."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from staff_helpers import PASSWORD, audit_actions, logged_in, make_account

from bot import admin as admin_cli
from bot.app import create_app
from bot.auth import SESSION_COOKIE
from bot.models import StaffAccount, StaffSession, utcnow
from bot.settings import Settings, get_settings


@pytest.fixture
def app(client):
    return client.app


def test_a_password_is_stored_as_an_argon2id_hash_never_as_itself(app):
    make_account(app, "wangfang", "sales")
    with app.state.db.transaction(write=False) as session:
        stored = session.scalar(select(StaffAccount.password_hash))
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_login_sets_an_httponly_strict_cookie_and_me_says_who_and_what(app):
    make_account(app, "wangfang", "sales", "王芳")
    client = TestClient(app)
    response = client.post("/api/staff/login", json={"username": " WangFang ", "password": PASSWORD})
    assert response.status_code == 200
    cookie = response.headers["set-cookie"]
    assert SESSION_COOKIE in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    me = client.get("/api/staff/me").json()
    assert (me["display_name"], me["role_label"], me["sections"]) == ("王芳", "课程顾问", ["enrollments", "leads"])
    assert me["sees_phones"] is True and me["can_export"] is False
    # The database holds the token's hash only.
    token = client.cookies.get(SESSION_COOKIE)
    with app.state.db.transaction(write=False) as session:
        assert session.get(StaffSession, token) is None and session.scalar(select(StaffSession.id)) != token


def test_a_wrong_password_or_unknown_name_is_one_answer_in_chinese(app):
    make_account(app, "wangfang", "sales")
    client = TestClient(app)
    for body in ({"username": "wangfang", "password": "wrong-password"}, {"username": "nobody", "password": PASSWORD}):
        response = client.post("/api/staff/login", json=body)
        assert response.status_code == 401 and response.json()["detail"] == "用户名或密码不正确。"
    assert client.get("/api/staff/me").status_code == 401
    assert [a[1] for a in audit_actions(app)] == ["login_failed", "login_failed"]


def test_failed_logins_are_throttled_per_account_name_across_ips(tmp_path, database_url):
    settings = Settings(
        environment="test",
        database_url=database_url,
        staff_login_max_failures=3,
        rasa_url="http://127.0.0.1:9",
        action_server_url="http://127.0.0.1:9",
    )
    with TestClient(create_app(settings)) as client:
        make_account(client.app, "wangfang", "sales")
        for i in range(3):  # a distributed guess: every attempt from another address
            other = TestClient(client.app, client=(f"10.0.0.{i}", 5000))
            assert (
                other.post("/api/staff/login", json={"username": "wangfang", "password": f"guess-{i}"}).status_code
                == 401
            )
        blocked = TestClient(client.app, client=("10.0.0.99", 5000)).post(
            "/api/staff/login", json={"username": "wangfang", "password": PASSWORD}
        )
        assert blocked.status_code == 429 and "登录失败次数过多" in blocked.json()["detail"]
        assert int(blocked.headers["retry-after"]) > 0
        # Another account is not blocked by it.
        make_account(client.app, "lisi", "support")
        assert (
            TestClient(client.app, client=("10.0.0.99", 5000))
            .post("/api/staff/login", json={"username": "lisi", "password": PASSWORD})
            .status_code
            == 200
        )


def test_a_one_time_password_must_be_replaced_before_anything_else(app):
    _, one_time = make_account(app, "lisi", "support", password=None)
    client = logged_in(app, "lisi", one_time)
    assert client.get("/api/staff/me").json()["must_change_password"] is True
    refused = client.get("/api/staff/feedback")
    assert refused.status_code == 403 and "修改初始密码" in refused.json()["detail"]
    short = client.post("/api/staff/password", json={"current": one_time, "new": "short"})
    assert short.status_code == 422 and "至少10个字符" in short.json()["detail"]
    changed = client.post("/api/staff/password", json={"current": one_time, "new": "my-own-password-1"})
    assert changed.status_code == 200 and changed.json()["must_change_password"] is False
    assert client.get("/api/staff/feedback").status_code == 200  # this browser stays logged in
    assert TestClient(app).post("/api/staff/login", json={"username": "lisi", "password": one_time}).status_code == 401


def test_sessions_end_after_idle_time_after_their_lifetime_and_at_logout(app):
    make_account(app, "lisi", "support")
    idle, old, out = (logged_in(app, "lisi") for _ in range(3))
    with app.state.db.transaction() as session:
        rows = session.scalars(select(StaffSession).order_by(StaffSession.created_at)).all()
        assert len(rows) == 3
    now = utcnow()
    tokens = {name: c.cookies.get(SESSION_COOKIE) for name, c in (("idle", idle), ("old", old), ("out", out))}
    from bot.accounts import token_id

    with app.state.db.transaction() as session:
        session.execute(
            update(StaffSession)
            .where(StaffSession.id == token_id(tokens["idle"]))
            .values(last_seen_at=now - timedelta(minutes=61))
        )
        session.execute(
            update(StaffSession)
            .where(StaffSession.id == token_id(tokens["old"]))
            .values(expires_at=now - timedelta(seconds=1))
        )
    assert idle.get("/api/staff/feedback").status_code == 401
    assert old.get("/api/staff/feedback").status_code == 401
    assert out.get("/api/staff/feedback").status_code == 200
    assert out.post("/api/staff/logout").status_code == 200
    assert TestClient(app, cookies={SESSION_COOKIE: tokens["out"]}).get("/api/staff/feedback").status_code == 401
    # An ended session on a public endpoint is just a public caller: the widget keeps working.
    assert idle.post("/api/feedback", json={"sender": "web-1", "rating": 1}).status_code == 201


@pytest.mark.parametrize(
    "role, allowed, refused",
    [
        (
            "support",
            ["/api/staff/feedback", "/api/staff/handoffs", "/api/staff/unanswered"],
            ["/api/enrollments", "/api/leads", "/api/staff/accounts", "/api/staff/audit"],
        ),
        (
            "sales",
            ["/api/enrollments", "/api/leads", "/api/staff/consultants"],
            ["/api/staff/feedback", "/api/staff/handoffs", "/api/staff/accounts", "/api/staff/exports/leads.csv"],
        ),
        (
            "admin",
            [
                "/api/staff/feedback",
                "/api/enrollments",
                "/api/staff/accounts",
                "/api/staff/audit",
                "/api/staff/settings",
                "/api/staff/exports/leads.csv",
            ],
            [],
        ),
    ],
)
def test_each_role_reaches_its_own_parts_only(app, role, allowed, refused):
    make_account(app, "someone", role)
    client = logged_in(app, "someone")
    for path in allowed:
        assert client.get(path).status_code == 200, path
    for path in refused:
        response = client.get(path)
        assert response.status_code == 403 and "您的角色" in response.json()["detail"], path


def test_the_integration_token_reaches_support_and_sales_but_never_accounts(client, staff_headers):
    assert client.get("/api/enrollments", headers=staff_headers).status_code == 200
    assert client.get("/api/staff/handoffs", headers=staff_headers).status_code == 200
    assert client.get("/api/staff/accounts", headers=staff_headers).status_code == 403
    assert (
        client.post(
            "/api/staff/accounts", headers=staff_headers, json={"username": "x1", "display_name": "x", "role": "admin"}
        ).status_code
        == 403
    )


def test_the_admin_creates_an_account_and_the_person_logs_in_with_the_one_time_password(app):
    make_account(app, "boss", "admin", "管理员")
    boss = logged_in(app, "boss")
    created = boss.post("/api/staff/accounts", json={"username": "zhaoliu", "display_name": "赵六", "role": "sales"})
    assert created.status_code == 201
    one_time = created.json()["one_time_password"]
    assert created.json()["must_change_password"] is True and len(one_time) >= 10
    taken = boss.post("/api/staff/accounts", json={"username": "zhaoliu", "display_name": "又一个", "role": "sales"})
    assert taken.status_code == 422 and "已被使用" in taken.json()["detail"]
    bad_role = boss.post("/api/staff/accounts", json={"username": "sunqi", "display_name": "孙七", "role": "boss"})
    assert bad_role.status_code == 422 and "角色只能是" in bad_role.json()["detail"]
    person = logged_in(app, "zhaoliu", one_time)
    assert person.get("/api/staff/me").json()["must_change_password"] is True

    account_id = created.json()["id"]
    stopped = boss.patch(f"/api/staff/accounts/{account_id}", json={"active": False})
    assert stopped.json()["active"] is False
    assert person.get("/api/staff/me").status_code == 401  # a deactivated account's sessions end
    own = boss.get("/api/staff/me").json()
    assert own["username"] == "boss"
    boss_id = next(a["id"] for a in boss.get("/api/staff/accounts").json()["items"] if a["username"] == "boss")
    assert boss.patch(f"/api/staff/accounts/{boss_id}", json={"active": False}).status_code == 409

    log = boss.get("/api/staff/audit").json()
    actions = [(e["actor"], e["action_label"], e["target_id"]) for e in log["items"]]
    assert ("boss", "创建账号", "zhaoliu") in actions and ("boss", "修改账号", "zhaoliu") in actions
    assert ("zhaoliu", "登录", None) in actions


def test_a_bare_install_says_how_to_enable_the_console_and_an_account_enables_it(tmp_path, database_url, monkeypatch):
    monkeypatch.delenv("STAFF_TOKEN", raising=False)
    settings = Settings(
        _env_file=None,
        environment="test",
        database_url=database_url,
        rasa_url="http://127.0.0.1:9",
        action_server_url="http://127.0.0.1:9",
    )
    with TestClient(create_app(settings)) as client:
        bare = client.get("/api/staff/handoffs")
        assert bare.status_code == 503 and "make admin" in bare.json()["detail"]
        make_account(client.app, "boss", "admin")
        assert client.get("/api/staff/handoffs").status_code == 401
        assert logged_in(client.app, "boss").get("/api/staff/handoffs").status_code == 200


def test_the_admin_command_creates_the_first_admin_once_and_prints_its_one_time_password(
    database_url, monkeypatch, capsys
):
    monkeypatch.setenv("DATABASE_URL", database_url)
    get_settings.cache_clear()
    try:
        assert admin_cli.main([]) == 0
        printed = capsys.readouterr().out
        password = next(line.split("：", 1)[1] for line in printed.splitlines() if line.startswith("一次性密码"))
        assert admin_cli.main([]) == 0 and "已有管理员账号：admin" in capsys.readouterr().out
        assert admin_cli.main(["create", "wangfang", "--role", "sales", "--display-name", "王芳"]) == 0
        assert "课程顾问" in capsys.readouterr().out
        assert admin_cli.main(["create", "Wang Fang", "--role", "sales", "--display-name", "王芳"]) == 1
        assert "用户名请用" in capsys.readouterr().err
    finally:
        get_settings.cache_clear()
    with TestClient(create_app(Settings(environment="test", database_url=database_url))) as client:
        me = logged_in(client.app, "admin", password).get("/api/staff/me").json()
        assert me["role"] == "admin" and me["must_change_password"] is True
        assert [(a, act) for a, act, _ in audit_actions(client.app)][:2] == [
            ("命令行 python -m bot.admin", "account_created"),
            ("命令行 python -m bot.admin", "account_created"),
        ]


def test_control_characters_in_a_login_or_an_account_are_a_422_in_chinese(app):
    make_account(app, "boss", "admin")
    boss = logged_in(app, "boss")
    for path, body, client in (
        ("/api/staff/login", {"username": "boss\x00", "password": PASSWORD}, TestClient(app)),
        ("/api/staff/accounts", {"username": "x1", "display_name": "王\x00芳", "role": "sales"}, boss),
    ):
        response = client.post(path, json=body)
        assert response.status_code == 422 and "控制字符" in response.json()["detail"], path
