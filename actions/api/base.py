"""The HTTP clients the actions use to reach bot/. Short timeouts; two exception types for callers.

actions/ runs in the Rasa runtime (Python 3.10) and must not import bot/ or knowledge/: it only
speaks HTTP to bot/ at BOT_API_URL. Every request carries ACTION_SERVER_TOKEN (when set) in
X-Action-Server-Token: bot/ then limits the calls per conversation instead of counting every user's
calls against the action server's one IP.

AsyncBotApi (aiohttp, which Rasa already depends on) is the one client: every action is an
`async def run`, so a slow backend call waits without holding up the action server's other
conversations. A refusal carries bot/'s parsed error body, for callers that read more than `detail`
(the course forms read the refused fields from it).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from typing import Any

import aiohttp

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = float(os.environ.get("BOT_API_TIMEOUT", "5"))
TOKEN_HEADER = "X-Action-Server-Token"  # bot/auth.py reads the same header


class BackendUnavailable(Exception):
    """bot/ could not be reached, timed out, or failed on its side (5xx)."""


class BackendRejected(Exception):
    """bot/ refused the request (4xx); `detail` is a Chinese message the user can act on, `body` the
    whole error body as bot/ sent it (None when it was no JSON)."""

    def __init__(self, status: int, detail: str, body: Any = None):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.body = body


GENERIC_REJECTION = "请求未被接受，请检查后重试。"


def _backend_url() -> str:
    return os.environ.get("BOT_API_URL", "http://127.0.0.1:8000").rstrip("/")


def _token() -> str:
    return os.environ.get("ACTION_SERVER_TOKEN", "").strip()


def _result(what: str, status: int, content: bytes) -> Any:
    """bot/'s answer as JSON, or the exception that says what went wrong (`what`: "POST /api/...")."""
    if status >= 500:
        raise BackendUnavailable(f"{what}: HTTP {status}")
    try:
        body = json.loads(content)
    except ValueError:
        if status >= 400:
            raise BackendRejected(status, GENERIC_REJECTION) from None
        raise BackendUnavailable(f"{what}: invalid JSON") from None
    if status >= 400:
        detail = body.get("detail") if isinstance(body, dict) else None
        raise BackendRejected(status, detail if isinstance(detail, str) else GENERIC_REJECTION, body)
    return body


class AsyncBotApi:
    """Asynchronous client (aiohttp): bot/'s JSON answer, or BackendUnavailable / BackendRejected."""

    def __init__(self, base_url: str | None = None, timeout: float = DEFAULT_TIMEOUT):
        self.base_url = (base_url or _backend_url()).rstrip("/")
        self.timeout = timeout
        self.token = _token()
        self._http: aiohttp.ClientSession | None = None
        self._http_loop: asyncio.AbstractEventLoop | None = None

    def _session(self) -> aiohttp.ClientSession:
        """One connection pool per event loop (the action server has one; each test run has its own)."""
        loop = asyncio.get_running_loop()
        if self._http is None or self._http.closed or self._http_loop is not loop:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
            self._http_loop = loop
        return self._http

    async def request(self, method: str, path: str, *, json: Any = None, headers: dict[str, str] | None = None) -> Any:
        if self.token:
            headers = {TOKEN_HEADER: self.token, **(headers or {})}
        try:
            async with self._session().request(method, self.base_url + path, json=json, headers=headers) as response:
                status, content = response.status, await response.read()
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise BackendUnavailable(f"{method} {path}: {exc.__class__.__name__}") from exc
        return _result(f"{method} {path}", status, content)

    async def get(self, path: str, **kwargs: Any) -> Any:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> Any:
        return await self.request("POST", path, **kwargs)

    async def aclose(self) -> None:
        if self._http is not None and not self._http.closed:
            await self._http.close()
