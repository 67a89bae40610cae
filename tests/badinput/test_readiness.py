"""not_ready (issue #13, finding 6): while Rasa or the action server does not serve yet, /readyz
says 503 (with a Chinese detail) and /healthz, the liveness check, still answers 200.

Rasa is mocked at bot/'s HTTP client boundary: its /status answers 409 while no model is loaded
(what Rasa says while it loads), 200 after. The action server is a small HTTP server on a free
loopback port that answers /health once it is "up"; down, nothing listens on its port.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from fastapi.testclient import TestClient

from scripts.stack import Ports, Stack, free_port

from .helpers import CJK, EchoRasa, make_app, make_settings


class LoadingRasa(EchoRasa):
    """Rasa whose instances load their model until `loaded` says otherwise."""

    def __init__(self) -> None:
        super().__init__()
        self.loaded: set[str] = set()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/status" and request.url.host not in self.loaded:
            return httpx.Response(409, json={"reason": "NoAgent"})
        return super().__call__(request)


class Health(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's name
        self.send_response(200 if self.path == "/health" else 404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def action_server_port():
    return free_port()


def serve_actions(port: int) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", port), Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_not_ready_until_one_rasa_and_the_action_server_serve(tmp_path, action_server_port):
    rasa = LoadingRasa()
    settings = make_settings(
        f"sqlite:///{tmp_path / 'bot.db'}",
        tmp_path / "no-index",
        rasa_url="http://rasa-a,http://rasa-b",
        action_server_url=f"http://127.0.0.1:{action_server_port}",
    )
    with TestClient(make_app(settings, rasa)) as client:

        def states():
            return client.get("/readyz"), client.get("/healthz")

        ready, health = states()  # nothing serves yet
        assert ready.status_code == 503 and CJK.search(ready.json()["detail"])
        assert ready.json()["rasa_instances"] == {"up": 0, "total": 2} and ready.json()["action_server"] == "down"
        assert health.status_code == 200 and health.json()["rasa"] == "down"

        rasa.loaded.add("rasa-a")  # one Rasa instance has its model; the action server is still down
        ready, health = states()
        assert ready.status_code == 503 and ready.json()["rasa_instances"]["up"] == 1
        assert health.status_code == 200

        server = serve_actions(action_server_port)
        try:
            ready, health = states()
            assert ready.status_code == 200 and ready.json()["ready"] is True, ready.text
            assert health.status_code == 200 and health.json()["rasa"] == "partial"
        finally:
            server.shutdown()
            server.server_close()

        ready, _ = states()  # the action server went away again: not ready
        assert ready.status_code == 503


def test_not_ready_the_stack_waits_for_readyz_and_rasas_status_with_the_token(tmp_path):
    stack = Stack(
        ports=Ports(bot=free_port(), rasa=free_port(), actions=free_port()),
        var_dir=tmp_path,
        env={"ENVIRONMENT": "test", "RASA_TOKEN": ""},
    )
    checks = stack._health_checks()
    assert checks["bot"] == f"{stack.bot_url}/readyz"
    assert checks["rasa"] == f"{stack.rasa_url}/status?token={stack.rasa_token}"
    assert stack._environment()["RASA_TOKEN"] == stack.rasa_token, "bot/ and Rasa get the same token"
