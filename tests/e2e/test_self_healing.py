"""A crash is not an outage: under `make run` (python -m scripts.stack), each process killed in turn
is restarted by the supervisor while the others keep serving, and the conversation goes on.

Runs its own `make run` (one Rasa instance, so that Rasa's restart is felt by the user) on free
ports with its own var/ directory, and kills its processes with SIGKILL, as a crash would.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque

import httpx
import psutil
import pytest

from scripts.stack import ROOT, free_port


class MakeRun:
    """`python -m scripts.stack` as `make run` starts it, with what it prints collected."""

    def __init__(self, tmp_path):
        self.bot_port = free_port()
        self.bot_url = f"http://127.0.0.1:{self.bot_port}"
        env = {**os.environ, "ENVIRONMENT": "test", "STAFF_TOKEN": "heal-staff-token-for-tests-only"}
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "scripts.stack",
                "--bot-port",
                str(self.bot_port),
                "--rasa-port",
                str(free_port()),
                "--actions-port",
                str(free_port()),
                "--rasa-instances",
                "1",
                "--var-dir",
                str(tmp_path),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        )
        self.lines: list[str] = []  # the supervisor's own lines
        self.output: deque[str] = deque(maxlen=300)  # everything, for the message of a failure
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.output.append(line.rstrip())
            if line.startswith("[stack]"):
                self.lines.append(line.rstrip())

    def log(self) -> str:
        return "\n".join(self.output)

    def said(self, text: str) -> bool:
        return any(text in line for line in self.lines)

    def wait_for_line(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not self.said(text):
            assert self.proc.poll() is None, "make run exited:\n" + self.log()
            assert time.monotonic() < deadline, f"make run never said {text!r}:\n" + self.log()
            time.sleep(0.2)

    def process(self, name: str) -> psutil.Process:
        """The running process `name` ("rasa", "actions", "bot") among make run's children."""
        marks = {"rasa": "rasa_runtime", "actions": "actions", "bot": "bot"}
        for child in psutil.Process(self.proc.pid).children():
            if marks[name] in child.cmdline()[1:]:
                return child
        raise AssertionError(f"no {name} process under make run")

    def crash(self, name: str) -> int:
        victim = self.process(name)
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        return victim.pid

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@pytest.fixture(scope="module")
def make_run(tmp_path_factory):
    run = MakeRun(tmp_path_factory.mktemp("heal-var"))
    try:
        run.wait_for_line("[stack] ready", timeout=240)
        yield run
    finally:
        run.stop()


def say(run: MakeRun, sender: str, text: str) -> tuple[int, str]:
    response = httpx.post(f"{run.bot_url}/api/chat", json={"sender": sender, "message": text}, timeout=60)
    return response.status_code, "\n".join(m.get("text", "") for m in response.json()["messages"])


def wait_ready(run: MakeRun, timeout: float = 150) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{run.bot_url}/readyz", timeout=3).status_code == 200:
                return
        except httpx.HTTPError:
            pass  # bot/ itself is restarting
        assert time.monotonic() < deadline, "not ready again:\n" + run.log()
        time.sleep(0.5)


def healthz(run: MakeRun) -> dict:
    return httpx.get(f"{run.bot_url}/healthz", timeout=10).json()


def test_each_process_killed_in_turn_is_restarted_and_the_conversation_goes_on(make_run):
    sender = "heal-user-1"
    status, reply = say(make_run, sender, "证件照有什么要求")
    assert status == 200 and "30KB" in reply

    # The action server: Rasa still answers, politely, and /healthz says what is down.
    old = make_run.crash("actions")
    status, reply = say(make_run, sender, "资格库里没有我的数据怎么办")
    assert status == 200 and ("稍后" in reply or "人工" in reply)
    assert healthz(make_run)["action_server"] == "down"
    wait_ready(make_run)
    assert make_run.process("actions").pid != old
    assert "福建省" in say(make_run, sender, "资格库里没有我的数据怎么办")[1]

    # Rasa, in the middle of the enrollment form: bot/ apologises until it is back, then the form goes on.
    assert "套餐" in say(make_run, sender, "我要报名")[1]
    assert "科" in say(make_run, sender, "无忧取证班")[1]
    make_run.crash("rasa")
    status, reply = say(make_run, sender, "全科 建筑实务")
    assert status == 503 and "稍后再试" in reply
    health = healthz(make_run)
    assert health["rasa"] == "down" and health["status"] == "degraded"
    wait_ready(make_run)
    assert "姓名" in say(make_run, sender, "全科 建筑实务")[1]

    # bot/ itself: started again by the supervisor; the form is still where it was.
    make_run.crash("bot")
    wait_ready(make_run)
    assert "手机" in say(make_run, sender, "张三")[1]

    for name in ("actions", "rasa", "bot"):
        assert make_run.said(f"[stack] {name} was ended by signal 9 (crash 1 of at most 5"), name
        make_run.wait_for_line(f"[stack] {name} is serving again", timeout=10)
    assert not make_run.said("ERROR") and not make_run.said("exited with code"), make_run.log()
    assert make_run.proc.poll() is None, "make run is still running"
    assert healthz(make_run)["status"] == "ok"
