"""The seam between the chat and the API: on one table of mobile numbers as people type them, the
enrollment form of the chat (the action server's real code, in the Rasa runtime) accepts exactly
the numbers POST /api/enrollments accepts, and stores them as the API does.

bot/ runs for real on a loopback port; the chat side runs in `.venv-rasa` as a subprocess that
validates each number with actions/courses.py against it, as the action server does.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest
import uvicorn

from bot.app import create_app

ROOT = Path(__file__).resolve().parents[2]
RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"

ACCEPTED = [
    "13812345678",
    "138 1234 5678",
    "138-1234-5678",
    "+86 138 1234 5678",
    "+8613812345678",
    "0086 138 1234 5678",
    "008613812345678",
    "86 138 1234 5678",
    "(+86) 138-1234-5678",
    "１３８１２３４５６７８",  # full-width digits, as Chinese input methods type them
    "＋８６ １３９ ８７６５ ４３２１",
    "199-0000-1111",
]
REFUSED = [
    "12812345678",  # the second digit must be 3-9
    "23812345678",
    "1381234567",  # 10 digits
    "138123456789",  # 12 digits
    "0086 128 1234 5678",
    "+1 650 253 0000",
    "0591-8765 4321",  # a landline
    "138abcd5678",
]

# The enrollment form's validator, as the action server runs it, for each number on stdin.
CHAT_SIDE = """
import asyncio, json, sys
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from actions.api.courses import CoursesApi
from actions.courses import ValidateEnrollmentForm

async def main():
    form = ValidateEnrollmentForm(CoursesApi(base_url=sys.argv[1]))
    out = {}
    for typed in json.load(sys.stdin):
        tracker = Tracker("seam", {"requested_slot": "student_mobile"}, {"text": typed, "intent": {"name": "inform"}},
                          [], False, None, {"name": "enrollment_form"}, "action_listen")
        dispatcher = CollectingDispatcher()
        slot = (await form.validate_student_mobile(typed, dispatcher, tracker, {}))["student_mobile"]
        out[typed] = {"slot": slot, "said": [m.get("text") for m in dispatcher.messages]}
    await form.api.aclose()
    return out

json.dump(asyncio.run(main()), sys.stdout, ensure_ascii=False)
"""


@pytest.fixture
def live_bot(app_settings):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # log_config=None: uvicorn's own handlers would write unmasked lines (tests/badinput refuses them).
    config = uvicorn.Config(create_app(app_settings), host="127.0.0.1", port=port, log_level="warning", log_config=None)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "bot/ did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def chat_reads(url: str, numbers: list[str]) -> dict[str, dict]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RASA_TELEMETRY_ENABLED": "false"}
    env.pop("ACTION_SERVER_TOKEN", None)
    done = subprocess.run(
        [str(RASA_PYTHON), "-c", CHAT_SIDE, url],
        input=json.dumps(numbers),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def api_stores(url: str, staff_headers: dict, numbers: list[str]) -> dict[str, str | None]:
    """Each number enrolled through the API: the mobile stored, or None when it was refused (422)."""
    stored: dict[str, str | None] = {}
    with httpx.Client(base_url=url, timeout=30) as client:
        for i, typed in enumerate(numbers):
            body = {
                "name": "张三",
                "mobile": typed,
                "package": "wuyou",
                "subjects": ["施工管理"],
                "sender": f"seam-{i}",
            }
            response = client.post("/api/enrollments", json=body)
            if response.status_code == 422:
                assert [e["loc"] for e in response.json()["errors"]] == [["body", "mobile"]], response.text
                stored[typed] = None
                continue
            assert response.status_code == 201, response.text
            record = client.get(f"/api/enrollments/{response.json()['number']}", headers=staff_headers)
            stored[typed] = record.json()["mobile"]
    return stored


@pytest.mark.skipif(not RASA_PYTHON.exists(), reason="the Rasa runtime (.venv-rasa) is not installed: make setup")
def test_the_chat_accepts_exactly_the_numbers_the_api_accepts(live_bot, staff_headers):
    numbers = ACCEPTED + REFUSED
    api = api_stores(live_bot, staff_headers, numbers)
    chat = chat_reads(live_bot, numbers)
    assert {typed: chat[typed]["slot"] for typed in numbers} == api
    # And the table means something: every accepted number is stored as 11 digits, the refused ones are refused.
    assert all(api[typed] in ("13812345678", "13987654321", "19900001111") for typed in ACCEPTED)
    assert all(api[typed] is None for typed in REFUSED)
    # A refused number is asked again with bot/'s reason, which says what to type.
    assert all(chat[typed]["said"] and "手机号" in chat[typed]["said"][0] for typed in REFUSED)
