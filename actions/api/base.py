"""The HTTP clients the actions use to reach bot/. Short timeouts; two exception types for callers.

actions/ runs in the Rasa runtime (Python 3.10) and must not import bot/ or knowledge/: it only
speaks HTTP to bot/ at BOT_API_URL. Every request carries ACTION_SERVER_TOKEN (when set) in
X-Action-Server-Token: bot/ then limits the calls per conversation instead of counting every user's
calls against the action server's one IP.

AsyncBotApi (aiohttp, which Rasa already depends on) is for `async def run` actions: a slow backend
call then waits without holding up the action server's other conversations. BotApi (requests) is
the synchronous client, for actions that still run synchronously.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from typing import Any

import aiohttp
import requests

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = float(os.environ.get("BOT_API_TIMEOUT", "5"))
TOKEN_HEADER = "X-Action-Server-Token"  # bot/auth.py reads the same header


class BackendUnavailable(Exception):
    """bot/ could not be reached, timed out, or failed on its side (5xx)."""


class BackendRejected(Exception):
    """bot/ refused the request (4xx); `detail` is a Chinese message the user can act on."""

    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status = status
        self.detail = detail


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
        raise BackendRejected(status, detail if isinstance(detail, str) else GENERIC_REJECTION)
    return body


class BotApi:
    """Synchronous client (requests)."""

    def __init__(
        self, base_url: str | None = None, timeout: float = DEFAULT_TIMEOUT, session: requests.Session | None = None
    ):
        self.base_url = (base_url or _backend_url()).rstrip("/")
        self.timeout = timeout
        self.session = session or requests.Session()
        self.token = _token()

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", self.timeout)
        if self.token:
            kwargs["headers"] = {TOKEN_HEADER: self.token, **(kwargs.get("headers") or {})}
        try:
            response = self.session.request(method, self.base_url + path, **kwargs)
        except requests.RequestException as exc:
            raise BackendUnavailable(f"{method} {path}: {exc.__class__.__name__}") from exc
        return _result(f"{method} {path}", response.status_code, response.content)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.request("POST", path, **kwargs)


class AsyncBotApi:
    """Asynchronous client (aiohttp): the same requests, answers and exceptions as BotApi, awaited."""

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
