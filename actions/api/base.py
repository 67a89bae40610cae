"""The HTTP client every action uses to reach bot/. Short timeouts; one exception type for callers.

actions/ runs in the Rasa runtime (Python 3.10) and must not import bot/ or knowledge/: it only
speaks HTTP to bot/ at BOT_API_URL. Every request carries ACTION_SERVER_TOKEN (when set) in
X-Action-Server-Token: bot/ then limits the calls per conversation instead of counting every user's
calls against the action server's one IP.
"""

from __future__ import annotations

import logging
import os
from typing import Any

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


class BotApi:
    def __init__(
        self, base_url: str | None = None, timeout: float = DEFAULT_TIMEOUT, session: requests.Session | None = None
    ):
        self.base_url = (base_url or os.environ.get("BOT_API_URL", "http://127.0.0.1:8000")).rstrip("/")
        self.timeout = timeout
        self.session = session or requests.Session()
        self.token = os.environ.get("ACTION_SERVER_TOKEN", "").strip()

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", self.timeout)
        if self.token:
            kwargs["headers"] = {TOKEN_HEADER: self.token, **(kwargs.get("headers") or {})}
        try:
            response = self.session.request(method, self.base_url + path, **kwargs)
        except requests.RequestException as exc:
            raise BackendUnavailable(f"{method} {path}: {exc.__class__.__name__}") from exc
        if response.status_code >= 500:
            raise BackendUnavailable(f"{method} {path}: HTTP {response.status_code}")
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail")
            except ValueError:
                detail = None
            raise BackendRejected(
                response.status_code, detail if isinstance(detail, str) else "请求未被接受，请检查后重试。"
            )
        try:
            return response.json()
        except ValueError as exc:
            raise BackendUnavailable(f"{method} {path}: invalid JSON") from exc

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.request("POST", path, **kwargs)
