"""WeChat's customer-service message API (客服消息), for replies that miss the 5-second window
of a passive reply. The access token is fetched once, cached until shortly before it expires and
fetched again when WeChat says it is invalid (40001 / 40014) or expired (42001).

With a shared store (Redis, when REDIS_URL is set) every bot/ worker uses the token one of them
fetched. That matters because each fetch makes the previous token expire within minutes: workers
fetching their own would keep invalidating each other's, and WeChat limits fetches per day.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from bot.wechat.dedup import TTLStore

log = logging.getLogger(__name__)

# errcodes meaning "this access token is no good": invalid credential, invalid token, token expired.
TOKEN_ERRCODES = {40001, 40014, 42001}
# Refresh this long before WeChat's expires_in (7200 s) runs out.
TOKEN_MARGIN_SECONDS = 300
# A token read from the shared store is used locally this long before the store is read again,
# so a refresh by another worker reaches this one within a minute.
SHARED_TOKEN_LOCAL_SECONDS = 60.0


class DeliveryError(Exception):
    """A customer-service message could not be sent."""


class CustomerServiceClient:
    def __init__(
        self,
        api_base: str,
        appid: str,
        secret: str,
        timeout: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        store: TTLStore | None = None,
    ):
        self._store = store
        self._store_key = f"access_token:{appid}"
        self._appid = appid
        self._secret = secret
        self._client = httpx.AsyncClient(base_url=api_base.rstrip("/"), timeout=timeout, transport=transport)
        self._clock = clock
        self._token: str | None = None
        self._token_expires_at = 0.0
        self._token_lock = asyncio.Lock()

    async def access_token(self, force_refresh: bool = False, refused: str | None = None) -> str:
        """A valid token. `force_refresh` after WeChat refused `refused`: a newer token in the
        shared store (another worker already fetched one) is taken before fetching again."""
        if not force_refresh and self._token and self._clock() < self._token_expires_at:
            return self._token
        async with self._token_lock:  # one fetch at a time: each fetch invalidates older tokens
            if not force_refresh and self._token and self._clock() < self._token_expires_at:
                return self._token
            shared = await self._store.get(self._store_key) if self._store else None
            if shared and shared != refused:
                self._token = shared
                self._token_expires_at = self._clock() + SHARED_TOKEN_LOCAL_SECONDS
                return shared
            if not self._appid or not self._secret:
                raise DeliveryError("WECHAT_APPID / WECHAT_SECRET are not configured")
            body = await self._call(
                "GET",
                "/cgi-bin/token",
                params={"grant_type": "client_credential", "appid": self._appid, "secret": self._secret},
            )
            token, expires_in = body.get("access_token"), body.get("expires_in")
            if body.get("errcode") or not isinstance(token, str) or not token:
                raise DeliveryError(f"access token refused: errcode {body.get('errcode')}")
            try:
                lifetime = float(expires_in)
            except (TypeError, ValueError):
                lifetime = 7200.0
            usable = max(lifetime - min(TOKEN_MARGIN_SECONDS, lifetime / 2), 0.0)
            self._token = token
            self._token_expires_at = self._clock() + usable
            if self._store and usable >= 1:
                await self._store.set(self._store_key, token, int(usable))
            return token

    async def send_text(self, openid: str, content: str) -> None:
        """Send one text message to a user; refresh the token once if WeChat refuses it."""
        payload = {"touser": openid, "msgtype": "text", "text": {"content": content}}
        token = None
        for attempt in (1, 2):
            token = await self.access_token(force_refresh=attempt == 2, refused=token)
            body = await self._call(
                "POST", "/cgi-bin/message/custom/send", params={"access_token": token}, json_body=payload
            )
            errcode = body.get("errcode", 0)
            if errcode == 0:
                return
            if errcode in TOKEN_ERRCODES and attempt == 1:
                log.info("wechat delivery: access token refused (errcode %s), fetching a new one", errcode)
                self._token = None
                continue
            raise DeliveryError(f"customer-service message refused: errcode {errcode}")

    async def _call(self, method: str, path: str, params: dict[str, str], json_body: Any = None) -> dict[str, Any]:
        # WeChat shows \uXXXX escapes literally, so the JSON goes out as UTF-8 text.
        content = json.dumps(json_body, ensure_ascii=False).encode("utf-8") if json_body is not None else None
        headers = {"Content-Type": "application/json; charset=utf-8"} if content is not None else None
        try:
            response = await self._client.request(method, path, params=params, content=content, headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"WeChat API unreachable: {exc.__class__.__name__}") from exc
        if not response.is_success:
            raise DeliveryError(f"WeChat API answered HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError as exc:
            raise DeliveryError("WeChat API answered with invalid JSON") from exc
        if not isinstance(body, dict):
            raise DeliveryError("WeChat API answered with an unexpected body")
        return body

    async def aclose(self) -> None:
        await self._client.aclose()
