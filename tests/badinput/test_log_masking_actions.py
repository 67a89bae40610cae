"""log_masking (issue #13, finding 7): 15-digit ID numbers and WeChat OpenIDs never reach a log line, in bot/ and in the
action server.

The action server is the real one, started with the command scripts/stack.py uses (`rasa run
actions` in .venv-rasa) on a free loopback port, with bot/'s API played by a small HTTP server
here (the client boundary). Two actions it runs log personal data as they are written today:
an enrollment names its sender (a `wx:` OpenID), and a registration question logs bot/'s refusal,
whose Chinese detail quotes the ID number the user typed. The output of the whole process is read.
"""

from __future__ import annotations

import io
import json
import logging
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from fastapi.testclient import TestClient

from bot.logging_setup import mask_pii
from scripts.stack import RASA_BIN, ROOT, Ports, Stack, free_port
from tests.bot.wechat_helpers import OPENID, post_plain, text_xml

from .helpers import EchoRasa, make_app, make_settings
from .test_log_masking import every_logger_at_debug, masking_handler

ID_15 = "350102900101123"  # the old 15-digit card: region, YYMMDD, sequence
WX_SENDER = "wx:oUser0123456789abcdefghijkl"
MASKED_ID_15 = "350102********3"
MASKED_SENDER = "wx:…ghijkl"


def test_log_masking_of_15_digit_ids_and_openids_keeps_the_other_rules():
    assert mask_pii(f"身份证 {ID_15}") == f"身份证 {MASKED_ID_15}"
    assert mask_pii(f"sender {WX_SENDER} asked") == f"sender {MASKED_SENDER} asked"
    assert mask_pii("身份证 35010219900101123X") == "身份证 350102***********X"
    assert mask_pii("手机 +86 138-1234-5678") == "手机 138****5678"
    # Longer digit runs (a WeChat MsgId, an epoch in ms) are not IDs, and keep their digits.
    assert mask_pii("MsgId 24012345678901234567, ts 1701234567890") == "MsgId 24012345678901234567, ts 1701234567890"


class LeakyRasa(EchoRasa):
    """Fails, as an unexpected bug would, with an exception that quotes the request body (which holds
    the sender `wx:<OpenID>` and the user's text)."""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if b"BOOM" in request.content:
            raise RuntimeError(f"Rasa transport failed on {request.content.decode('utf-8')}")
        return super().__call__(request)


def test_log_masking_of_15_digit_ids_and_openids_in_bots_log(tmp_path, knowledge_index):
    app = make_app(make_settings(f"sqlite:///{tmp_path / 'bot.db'}", knowledge_index, log_level="DEBUG"), LeakyRasa())
    handler = masking_handler()
    stream = io.StringIO()
    previous, previous_level = handler.setStream(stream), handler.level
    handler.setLevel(logging.DEBUG)
    try:
        with every_logger_at_debug(), TestClient(app, raise_server_exceptions=False) as client:
            assert post_plain(client, text_xml(f"BOOM 身份证 {ID_15}", msg_id=9_500_001)).status_code == 200
    finally:
        handler.setStream(previous)
        handler.setLevel(previous_level)
    written = stream.getvalue()
    assert "Traceback (most recent call last)" in written and MASKED_ID_15 in written
    assert "wx:…" + OPENID[-6:] in written
    assert ID_15 not in written and OPENID not in written


# -- the action server ---------------------------------------------------------------------------------


class FakeBotApi(BaseHTTPRequestHandler):
    """bot/'s API as the actions call it: an enrollment is created; the registration plan is
    refused with a detail that quotes the user's ID number."""

    def do_POST(self):  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.startswith("/api/enrollments"):
            self._json(
                201,
                {
                    "number": "EN20261202-AB12CD34",
                    "created": True,
                    "status": "new",
                    "package": {"name": "无忧取证班"},
                    "subjects": [{"name": "施工管理"}],
                    "price": 3980,
                },
            )
        elif self.path.startswith("/api/registration/plan"):
            self._json(422, {"detail": f"身份证号 {ID_15} 与证书上的不一致，请核对。"})
        else:
            self._json(200, {"decision": "decline", "answer": "这个问题我还答不上来。", "suggestions": []})

    def _json(self, status: int, body: dict) -> None:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:  # keep the test output quiet
        pass


def _call(action: str, slots: dict, text: str, intent: str) -> dict:
    return {
        "next_action": action,
        "sender_id": WX_SENDER,
        "version": "3.6.21",
        "domain": {},
        "tracker": {
            "sender_id": WX_SENDER,
            "slots": slots,
            "events": [],
            "paused": False,
            "latest_message": {"text": text, "intent": {"name": intent}, "entities": []},
            "active_loop": {},
            "latest_action_name": "action_listen",
        },
    }


@pytest.fixture
def action_server(tmp_path):
    if not (RASA_BIN / "rasa").exists():
        pytest.skip("the Rasa runtime (.venv-rasa) is not installed: make setup")
    backend = ThreadingHTTPServer(("127.0.0.1", 0), FakeBotApi)
    threading.Thread(target=backend.serve_forever, daemon=True).start()
    stack = Stack(ports=Ports(bot=backend.server_address[1], rasa=free_port(), actions=free_port()), var_dir=tmp_path)
    log_path = tmp_path / "actions.log"
    with open(log_path, "wb") as out:
        proc = subprocess.Popen(
            stack._commands()["actions"],
            cwd=ROOT,
            env=stack._environment(),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, log_path.read_text(errors="replace")
            try:
                if httpx.get(f"{stack.actions_url}/health", timeout=1).is_success:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the action server did not start"
            time.sleep(0.3)
        yield stack.actions_url, log_path
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        backend.shutdown()


def test_log_masking_of_15_digit_ids_and_openids_in_the_action_server(action_server):
    url, log_path = action_server
    enrollment = httpx.post(
        f"{url}/webhook",
        timeout=30,
        json=_call(
            "action_submit_enrollment",
            {
                "enroll_confirmed": True,
                "course_package": "无忧取证班",
                "course_subjects": ["施工管理"],
                "student_name": "张三",
                "student_mobile": "13812345678",
            },
            "确认",
            "affirm",
        ),
    )
    assert enrollment.status_code == 200, enrollment.text
    assert "EN20261202-AB12CD34" in enrollment.text
    question = httpx.post(
        f"{url}/webhook",
        timeout=30,
        json=_call("action_registration_question", {}, f"我身份证 {ID_15}，能注册吗", "reg_ask_eligibility"),
    )
    assert question.status_code == 200, question.text
    time.sleep(0.5)  # the server writes its lines as it goes; give the last one time to land
    written = log_path.read_text(encoding="utf-8", errors="replace")
    assert f"for sender {MASKED_SENDER}" in written, "the enrollment line must have been written, masked"
    assert MASKED_ID_15 in written, "the refusal quoting the ID number must have been written, masked"
    assert WX_SENDER not in written and ID_15 not in written, written[-3000:]
