"""Request limits enforced before any endpoint parses a body: total size and JSON nesting depth.

- A body larger than `settings.max_body_bytes` is refused with 413 before the app sees it: the
  declared Content-Length is checked first, and a body without one (chunked) is counted as it
  arrives, so no endpoint ever buffers more than the limit.
- A JSON body nested deeper than `settings.max_json_depth` is refused with 422. Python's json
  parser raises RecursionError near depth 1000, and a value a little less deep parses but cannot
  be encoded again (chat metadata forwarded to Rasa failed with a 500 at depth 950), so no
  endpoint should ever see one. No request this API documents nests deeper than a few levels.

FastAPI's own `max_body_size` is not used: in some paths it answers a plain-text English 413,
and it cannot look at nesting. The answers here are JSON with a Chinese `detail`, like every
other error of bot/ (bot/errors.py).
"""

from __future__ import annotations

import re

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot import replies

# A JSON string, escapes included; an unterminated one runs to the end (so the scan stays linear).
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"?', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")


def json_too_deep(body: bytes, max_depth: int) -> bool:
    """True when arrays/objects in `body` nest deeper than `max_depth` (brackets inside strings
    do not count). Linear in the body size; malformed JSON is left to the parser."""
    if body.count(b"[") + body.count(b"{") <= max_depth:
        return False
    depth = 0
    for match in _BRACKET.finditer(_JSON_STRING.sub(b"", body)):
        if match.group() in (b"[", b"{"):
            depth += 1
            if depth > max_depth:
                return True
        else:
            depth -= 1
    return False


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


class RequestLimits:
    """ASGI middleware: `app.add_middleware(RequestLimits, max_body_bytes=..., max_json_depth=...)`."""

    def __init__(self, app: ASGIApp, max_body_bytes: int = 64 * 1024, max_json_depth: int = 32) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_json_depth = max_json_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        declared = headers.get("content-length", "")
        if declared.strip().isascii() and declared.strip().isdigit() and int(declared) > self.max_body_bytes:
            await self._too_large(scope, receive, send)
            return

        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client is gone: nothing to answer
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                await self._too_large(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)

        if body and _is_json(headers.get("content-type", "")) and json_too_deep(body, self.max_json_depth):
            response = JSONResponse(
                {"detail": replies.JSON_TOO_DEEP.format(depth=self.max_json_depth)}, status_code=422
            )
            await response(scope, receive, send)
            return

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: wait for the client's disconnect, as usual

        await self.app(scope, replay, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        kb = max(1, self.max_body_bytes // 1024)
        response = JSONResponse(
            {"detail": replies.BODY_TOO_LARGE.format(kb=kb)}, status_code=413, headers={"Connection": "close"}
        )
        await response(scope, receive, send)
