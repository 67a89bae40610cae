"""A stand-in assistant on loopback for the benchmarks' own tests: /api/chat echoes (and /seen lists
who said what, in order), Rasa greets."""

import socket
import threading
import time

import pytest
import uvicorn
from fastapi import FastAPI


@pytest.fixture(scope="module")
def assistant_url():
    app = FastAPI()
    seen: list[tuple[str, str]] = []

    @app.post("/api/chat")
    async def chat(body: dict):
        seen.append((body["sender"], body["message"]))
        return {"messages": [{"text": f"回答：{body['message']}"}]}

    @app.get("/seen")
    async def said():
        return seen

    @app.post("/webhooks/rest/webhook")
    async def rasa(body: dict):
        return [{"text": "你好"}]

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # log_config=None: uvicorn's default config would add its own unmasked handlers to the process's
    # loggers, and the log-masking tests in the same run (tests/badinput) would rightly refuse them.
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=5)
