"""Fault tests on real processes: parts of the stack fail and come back; nothing a user gave is lost.

This module runs its own stack (it kills and restarts processes), with PostgreSQL as the backend
database so that the database itself can be stopped and started.
"""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path

import httpx
import pytest
import services

from bot.rasa_client import route
from scripts.stack import Ports, Stack

STAFF = {"Authorization": "Bearer fault-staff-token-for-tests-only"}
reason = services.available()
pytestmark = pytest.mark.skipif(reason is not None, reason=f"fault tests need PostgreSQL: {reason}")


@pytest.fixture(scope="module")
def env():
    with services.postgres() as (pg_url, _port, data), tempfile.TemporaryDirectory(prefix="jzs-fault-") as tmp:
        stack = Stack(
            ports=Ports.free(),
            var_dir=Path(tmp),
            bot_host="127.0.0.1",
            env={
                "ENVIRONMENT": "test",
                "STAFF_TOKEN": "fault-staff-token-for-tests-only",
                "DATABASE_URL": pg_url.replace("postgresql://", "postgresql+psycopg2://") + "/bot",
            },
        )
        stack.start(timeout=240)
        try:
            yield stack, data
        finally:
            stack.stop()


def say(stack, sender):
    def _say(text: str) -> str:
        response = httpx.post(f"{stack.bot_url}/api/chat", json={"sender": sender, "message": text}, timeout=60)
        assert response.status_code == 200, response.text
        return "\n".join(m.get("text", "") for m in response.json()["messages"])

    return _say


def enrollment(key: str) -> tuple[dict, dict]:
    body = {
        "name": "李四",
        "mobile": "13912345678",
        "package": "AI私塾班",
        "subjects": ["施工管理"],
        "channel": "web",
        "sender": f"api-{key}",
    }
    return body, {"Idempotency-Key": key}


def test_action_server_killed_then_back(env):
    stack, _ = env
    user = say(stack, f"fault-{uuid.uuid4().hex[:8]}")
    assert "30KB" in user("证件照有什么要求")
    stack.processes["actions"].kill()
    stack.processes["actions"].wait(timeout=10)
    reply = user("资格库里没有我的数据怎么办")
    assert reply.strip(), "the user must get a reply, not silence"
    assert "稍后" in reply or "人工" in reply
    stack.restart("actions")
    assert "福建省" in user("资格库里没有我的数据怎么办")


def test_rasa_restart_keeps_a_half_filled_form(env):
    stack, _ = env
    user = say(stack, f"fault-{uuid.uuid4().hex[:8]}")
    reply = user("我要报名")
    assert "套餐" in reply
    assert "科" in user("无忧取证班")
    stack.restart(*stack.rasa_names, timeout=180)
    # The form goes on where it was: the package is remembered, the next question is the subjects' answer.
    reply = user("全科 建筑实务")
    assert "姓名" in reply


def test_a_dead_rasa_instance_hands_its_conversations_to_the_others(env):
    stack, _ = env
    assert len(stack.rasa_names) >= 2, "the default layout runs two Rasa instances"
    sender = f"fault-{uuid.uuid4().hex[:8]}"
    user = say(stack, sender)
    assert "套餐" in user("我要报名")
    assert "科" in user("无忧取证班")
    # Kill the instance this conversation lives on.
    home = stack.rasa_names[stack.rasa_urls.index(route(stack.rasa_urls, sender)[0])]
    stack.processes[home].kill()
    stack.processes[home].wait(timeout=10)
    try:
        assert "姓名" in user("全科 建筑实务"), "the other instance continues the half-filled form"
        health = httpx.get(f"{stack.bot_url}/healthz", timeout=30).json()
        assert health["rasa"] == "partial" and health["status"] == "degraded"
    finally:
        stack.restart(home, timeout=180)
    assert "手机" in user("张三"), "and the conversation goes on when its instance is back"


def test_bot_restart_loses_no_enrollment_and_retries_are_safe(env):
    stack, _ = env
    body, headers = enrollment(uuid.uuid4().hex)
    first = httpx.post(f"{stack.bot_url}/api/enrollments", json=body, headers=headers, timeout=30)
    assert first.status_code == 201
    feedback = httpx.post(
        f"{stack.bot_url}/api/feedback",
        timeout=30,
        json={"sender": body["sender"], "rating": 1, "question": "q", "answer": "a"},
    )
    assert feedback.status_code == 201
    stack.restart("bot")
    retry = httpx.post(f"{stack.bot_url}/api/enrollments", json=body, headers=headers, timeout=30)
    assert retry.status_code in (200, 201) and retry.json()["number"] == first.json()["number"]
    listing = httpx.get(
        f"{stack.bot_url}/api/enrollments", params={"sender": body["sender"]}, headers=STAFF, timeout=30
    )
    assert listing.json()["total"] == 1
    items = httpx.get(f"{stack.bot_url}/api/staff/feedback", headers=STAFF, timeout=30).json()["items"]
    assert any(f["sender"] == body["sender"] for f in items)


def test_database_briefly_down_gives_clear_errors_and_writes_nothing_half(env):
    stack, data = env
    body, headers = enrollment(uuid.uuid4().hex)
    services.pg_ctl(data, "stop")
    try:
        down = httpx.post(f"{stack.bot_url}/api/enrollments", json=body, headers=headers, timeout=60)
        assert down.status_code == 503
        assert "稍后" in down.json()["detail"]
        assert httpx.get(f"{stack.bot_url}/healthz", timeout=30).status_code == 200
    finally:
        services.pg_ctl(data, "start")
    # After the database is back, the same request creates the enrollment exactly once.
    up = httpx.post(f"{stack.bot_url}/api/enrollments", json=body, headers=headers, timeout=60)
    assert up.status_code == 201
    listing = httpx.get(
        f"{stack.bot_url}/api/enrollments", params={"sender": body["sender"]}, headers=STAFF, timeout=30
    )
    assert listing.json()["total"] == 1
