"""bot/'s HTTP API played by a small server on 127.0.0.1, for the async actions' unit tests.

The actions' clients are the real ones (aiohttp), so a test goes through the HTTP boundary: the
server records every request and answers each path with the body and status a test set, after an
optional delay (a bytes body is sent as it is, as a broken backend would). `run` runs an action in
a fresh event loop and closes the clients it used; `go_down` makes bot/ unreachable mid-test.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from actions.api.base import AsyncBotApi

Reply = tuple[int, Any, float]  # status, JSON body, seconds to wait before answering


class FakeBot:
    def __init__(self) -> None:
        self.replies: dict[str, Reply | Callable[[dict], Reply]] = {}
        self.requests: list[dict[str, Any]] = []
        self.clients: list[AsyncBotApi] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"null")
                fake.requests.append({"method": self.command, "path": self.path, "json": body, "headers": self.headers})
                reply = fake.replies.get(self.path, (404, {"detail": "not found"}, 0.0))
                status, answer, delay = reply(body) if callable(reply) else reply
                time.sleep(delay)
                data = answer if isinstance(answer, bytes) else json.dumps(answer, ensure_ascii=False).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _answer  # noqa: N815 - http.server's names

            def log_message(self, *args: Any) -> None:  # keep the test output quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    def reply(self, path: str, body: Any = None, status: int = 200, delay: float = 0.0) -> None:
        self.replies[path] = (status, body, delay)

    def reply_with(self, path: str, answer: Callable[[dict], Any]) -> None:
        """Answer `path` with `answer(request body)` (status 200)."""
        self.replies[path] = lambda body: (200, answer(body), 0.0)

    def sent(self, path: str) -> list[Any]:
        """The JSON bodies posted to `path`, in order."""
        return [r["json"] for r in self.requests if r["path"] == path]

    def client(self, cls: type[AsyncBotApi], timeout: float = 2.0, down: bool = False) -> Any:
        """A client of `cls` pointed at this server (or, with `down`, at a port nobody listens on)."""
        client = cls(base_url=unreachable_url() if down else self.url, timeout=timeout)
        self.clients.append(client)
        return client

    def go_down(self) -> None:
        """bot/ stops answering: the clients made here now call a port nobody listens on."""
        url = unreachable_url()
        for client in self.clients:
            client.base_url = url

    def run(self, action: Any, dispatcher: Any, tracker: Any, domain: Any) -> Any:
        async def once() -> Any:
            try:
                return await action.run(dispatcher, tracker, domain)
            finally:
                for client in self.clients:
                    await client.aclose()

        return asyncio.run(once())

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def unreachable_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
