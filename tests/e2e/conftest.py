"""End-to-end fixtures: the real Rasa server, action server and bot/ on free loopback ports.

One stack serves the whole e2e session (Rasa takes ~20 s to load); it is stopped on exit, also when
a test fails. Each test uses its own sender id, so conversations do not interfere.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import httpx
import pytest

from scripts.stack import Ports, Stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    var_dir = tmp_path_factory.mktemp("stack-var")
    s = Stack(
        ports=Ports.free(),
        var_dir=var_dir,
        bot_host="127.0.0.1",
        env={"ENVIRONMENT": "test", "STAFF_TOKEN": "e2e-staff-token-for-tests-only"},
    )
    s.start(timeout=240)
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture
def sender() -> str:
    return f"e2e-{uuid.uuid4().hex[:12]}"


class Chat:
    """A user talking to the assistant through POST /api/chat."""

    def __init__(self, base_url: str, sender: str):
        self.client = httpx.Client(base_url=base_url, timeout=30)
        self.sender = sender

    def say(self, message: str) -> list[dict]:
        response = self.client.post("/api/chat", json={"sender": self.sender, "message": message})
        assert response.status_code == 200, response.text
        return response.json()["messages"]

    def say_text(self, message: str) -> str:
        return "\n".join(m.get("text", "") for m in self.say(message))


@pytest.fixture
def chat(stack, sender) -> Chat:
    return Chat(stack.bot_url, sender)


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Headless, and no connections of its own: this machine refuses them (many at a time) otherwise.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium driven by Playwright, one per test module."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is not installed: run `make browser` (Debian's chromium package)")
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()
