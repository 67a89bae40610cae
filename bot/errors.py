"""Error responses a client can act on: Chinese text, no stack traces, 4xx for a client's mistake."""

from __future__ import annotations

import logging
import re

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot import replies
from knowledge.engine import IndexUnavailable

log = logging.getLogger(__name__)

# What a user can do about each kind of field error, in Chinese.
_FIELD_HINTS = {
    "sender": "会话标识 sender 必须是 1-128 个字符，且不能包含控制字符。",
    "message": "消息内容 message 必须是文本。",
    # course consultation and enrollment (bot/routes/courses.py)
    "name": "请填写姓名 name（2-30个字的中文或英文）。",
    "mobile": "请填写手机号 mobile（11位中国大陆手机号，例如 138 1234 5678）。",
    "phone": "手机号 phone 请填写11位中国大陆手机号，例如 138 1234 5678。",
    "number": "请填写报名号 number（报名成功时给出的，例如 EN20261124-7KQ3XM2P）。",
    "package": "请填写套餐 package（套餐名称或 id，例如 无忧取证班 / wuyou）。",
    "subjects": "请至少选择一个科目 subjects（科目名称或 id 的列表，最多10个），例如 [\"施工管理\", \"建筑实务\"]。",
    "preferred_time": "方便接电话的时间 preferred_time 请写在50个字以内，例如“工作日晚上”。",
    "question": "问题 question 请写在500个字以内。",
    "status": "状态 status 不正确。报名可选 new / contacted / paid / cancelled；回电请求可选 new / contacted / closed。",
    "channel": "来源渠道 channel 只能是小写字母开头的简短标识，例如 web、wechat。",
    "text": "text 必须是500个字以内的文本。",
    "Idempotency-Key": "Idempotency-Key 必须是1-128个可见的 ASCII 字符。",
    "date_from": "日期请写成 YYYY-MM-DD，例如 2026-11-24。",
    "date_to": "日期请写成 YYYY-MM-DD，例如 2026-11-24。",
    "limit": "limit 必须是1-500之间的整数。",
    "offset": "offset 必须是不小于0的整数。",
}


def _chinese_detail(exc: RequestValidationError) -> str:
    hints = []
    for error in exc.errors():
        loc = [str(part) for part in error.get("loc", ())]
        field = loc[-1] if loc else ""
        hint = error.get("ctx", {}).get("reason") if isinstance(error.get("ctx"), dict) else None
        hints.append(
            hint
            or _FIELD_HINTS.get(field)
            or (f"字段 {field} 不正确。" if field and field != "body" else replies.INVALID_REQUEST)
        )
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
        return JSONResponse(
            status_code=exc.status_code,
            content={"detail": http_detail(exc.status_code, exc.detail)},
            headers=exc.headers,
        )

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    async def _database_down(request: Request, exc: Exception):
        # The transaction was rolled back: nothing was saved, and the client may safely retry.
        log.error("database unavailable on %s %s: %s", request.method, request.url.path, exc.__class__.__name__)
        return JSONResponse(
            status_code=503,
            headers={"Retry-After": "5"},
            content={"detail": "系统繁忙，数据暂时无法保存，请稍后再试（您这次提交的内容未保存，可放心重新提交）。"},
        )

    @app.exception_handler(IndexUnavailable)
    async def _index_down(request: Request, exc: IndexUnavailable):
        # Course names in free text are read with the knowledge index's lexicon (bot/search_lexicon.py).
        log.error("knowledge index unavailable on %s %s: %s", request.method, request.url.path, exc)
        return JSONResponse(
            status_code=503, headers={"Retry-After": "30"}, content={"detail": replies.INDEX_UNAVAILABLE}
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(status_code=500, content={"detail": replies.SERVER_ERROR})


_CJK = re.compile("[\u3400-\u4dbf\u4e00-\u9fff]")
# What a user reads instead of the English that FastAPI / Starlette raise themselves
# ("Not Found", "Method Not Allowed", "There was an error parsing the body", ...).
_STATUS_TEXT = {
    400: replies.BODY_UNREADABLE,
    401: replies.UNAUTHORIZED,
    404: replies.NOT_FOUND,
    405: replies.METHOD_NOT_ALLOWED,
    429: replies.RATE_LIMITED,
}


def http_detail(status_code: int, detail: object) -> str:
    """The detail as raised when it is Chinese (all of bot/'s own), else a Chinese text for the status."""
    if isinstance(detail, str) and _CJK.search(detail):
        return detail
    if status_code >= 500:
        return replies.SERVER_ERROR
    return _STATUS_TEXT.get(status_code, replies.INVALID_REQUEST)
