"""Error responses a client can act on: Chinese text, no stack traces, 4xx for a client's mistake."""
from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot import replies

log = logging.getLogger(__name__)

# What a user can do about each kind of field error, in Chinese.
_FIELD_HINTS = {
    "sender": "会话标识 sender 必须是 1-128 个字符，且不能包含控制字符。",
    "message": "消息内容 message 必须是文本。",
}


def _chinese_detail(exc: RequestValidationError) -> str:
    hints = []
    for error in exc.errors():
        loc = [str(part) for part in error.get("loc", ())]
        field = loc[-1] if loc else ""
        hint = error.get("ctx", {}).get("reason") if isinstance(error.get("ctx"), dict) else None
        hints.append(hint or _FIELD_HINTS.get(field) or (f"字段 {field} 不正确。" if field and field != "body" else replies.INVALID_REQUEST))
    # Keep order, drop repeats.
    return " ".join(dict.fromkeys(hints)) or replies.INVALID_REQUEST


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        errors = [
            {"loc": [str(p) for p in e.get("loc", ())], "type": e.get("type"), "msg": str(e.get("msg"))}
            for e in exc.errors()
        ]
        return JSONResponse(status_code=422, content={"detail": _chinese_detail(exc), "errors": errors})

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else replies.INVALID_REQUEST
        return JSONResponse(status_code=exc.status_code, content={"detail": detail}, headers=exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(status_code=500, content={"detail": "服务暂时出现问题，请稍后再试。"})
