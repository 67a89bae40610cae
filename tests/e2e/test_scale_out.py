"""Scale-out: PostgreSQL (backend + Rasa tracker store), Redis (Rasa lock store, rate limits),
two Rasa instances and two bot/ workers, with the exact configuration of docs/deploy.md.

A conversation whose messages alternate between the two instances keeps its state and its form,
and the enrollment it produces exists once.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
import pytest
import services
from dialog import NUMBER, converse

from scripts.stack import ROOT, Ports, Stack, start_together

STAFF = {"Authorization": "Bearer scale-staff-token-for-tests-only"}

reason = services.available()
pytestmark = pytest.mark.skipif(reason is not None, reason=f"scale-out test needs PostgreSQL and Redis: {reason}")


@pytest.fixture(scope="module")
def cluster():
    with services.postgres() as (pg_url, _pg_port, _data), tempfile.TemporaryDirectory(prefix="jzs-scale-") as tmp:
        with services.redis(Path(tmp)) as redis_port:
            env = {
                "ENVIRONMENT": "production",
                "STAFF_TOKEN": STAFF["Authorization"].split()[1],
                # Production refuses to start without Rasa's API token; both instances share it.
                "RASA_TOKEN": "scale-rasa-token-2f7c9d1e8a4b6053",
                "DATABASE_URL": pg_url.replace("postgresql://", "postgresql+psycopg2://") + "/bot",
                "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
                "TRACKER_DB_URL": pg_url + "/rasa",
                "REDIS_HOST": "127.0.0.1",
                "REDIS_PORT": str(redis_port),
            }
            # One Rasa instance per stack: two in all, behind two bot/ workers.
            stacks = [
                Stack(
                    ports=Ports.free(rasa_instances=1),
                    var_dir=Path(tmp) / name,
                    bot_host="127.0.0.1",
                    env=env,
                    endpoints=ROOT / "deploy" / "endpoints.yml",
                )
                for name in ("a", "b")
            ]
            try:
                # Side by side, as a deployment starts them (the workers take turns to migrate).
                start_together(stacks, timeout=300)
                yield stacks
            finally:
                for stack in stacks:
                    stack.stop()


def test_a_form_continues_across_instances_and_enrolls_once(cluster):
    instances = itertools.cycle([httpx.Client(base_url=s.bot_url, timeout=60) for s in cluster])
    used = []

    def say(text: str) -> str:
        client = next(instances)
        used.append(str(client.base_url))
        response = client.post("/api/chat", json={"sender": "scale-user-1", "message": text})
        assert response.status_code == 200, response.text
        return "\n".join(m.get("text", "") for m in response.json()["messages"])

    reply = converse(say, "我要报名", NUMBER)
    assert len(set(used)) == 2, "the conversation must have alternated between both instances"
    number = NUMBER.search(reply).group(0)

    # Both workers see the same enrollment in the shared database, exactly once.
    for stack in cluster:
        listing = httpx.get(f"{stack.bot_url}/api/enrollments", headers=STAFF, timeout=10).json()
        numbers = [e["number"] for e in listing["items"]]
        assert numbers.count(number) == 1

    # The same user repeating the enrollment on the other instance creates no duplicate.
    again = converse(say, "我要报名", NUMBER)
    assert NUMBER.search(again).group(0) == number


def test_the_other_instance_sees_the_whole_conversation(cluster):
    a, b = cluster
    httpx.post(f"{a.bot_url}/api/chat", json={"sender": "scale-user-2", "message": "你好"}, timeout=60)
    httpx.post(f"{b.bot_url}/api/chat", json={"sender": "scale-user-2", "message": "证件照有什么要求"}, timeout=60)
    turns = httpx.get(f"{a.bot_url}/api/staff/conversations/scale-user-2", headers=STAFF, timeout=10).json()["turns"]
    assert [t["text"] for t in turns if t["who"] == "user"] == ["你好", "证件照有什么要求"]


def test_workers_migrating_at_the_same_moment_all_start_on_one_schema():
    """Three bot/ workers of a fresh deployment migrate at once: each takes its turn, none fails on
    tables another has just created, and the schema ends at head."""
    with services.postgres() as (pg_url, _port, _data):
        env = {**os.environ, "DATABASE_URL": pg_url.replace("postgresql://", "postgresql+psycopg2://") + "/bot"}
        workers = [
            subprocess.Popen(
                [sys.executable, "-m", "bot.db", "upgrade"], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True
            )
            for _ in range(3)
        ]
        failures = [w.stderr.read() for w in workers if w.wait(timeout=120) != 0]
        assert not failures, failures[0][-2000:]
        current = subprocess.run(
            [sys.executable, "-m", "bot.db", "current"], cwd=ROOT, env=env, capture_output=True, text=True, check=True
        )
        assert "(head)" in current.stdout + current.stderr
