"""No full phone number or ID number in any log line bot/ writes.

What proves it: bot/logging_setup.configure_logging puts one handler with MaskingFilter on the
root logger; that handler's output is what production writes (uvicorn's own loggers propagate
to it; `python -m bot` turns uvicorn's access log off). So the test
1. turns EVERY logger to DEBUG (SQLAlchemy's statement and row logging included, which prints
   bound parameters: mobiles, names, free text),
2. captures the formatted output of that very handler while requests carrying a phone number
   (in several spellings) and an ID number go through chat, enrollment, lead, lookup, feedback,
   hand-off and WeChat, including two unexpected errors whose exception text quotes the input
   (a traceback is formatted after the message: it needs masking too),
3. asserts the raw numbers appear nowhere in it, and that their masked forms do (so the lines
   were written, masked, and not merely absent), and checks every record caplog saw the same way;
4. checks that no other handler in the logging tree could write an unmasked line.
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
import unicodedata

import httpx
from fastapi.testclient import TestClient

from bot.logging_setup import MaskingFilter
from tests.bot.wechat_helpers import post_plain, text_xml

from .helpers import STAFF, EchoRasa, make_app, make_settings

PHONE = "13812345678"
ID_NUMBER = "35010219900101123X"
SPELLINGS = f"{PHONE} / +86 138-1234-5678 / 8613812345678 / ０086 １３８ １２３４ ５６７８"
FREE_TEXT = f"我的手机 {SPELLINGS}，身份证 {ID_NUMBER}"


class LeakyRasa(EchoRasa):
    """Fails, as an unexpected bug would, with an exception whose text quotes the request body."""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if b"BOOM" in request.content:
            raise RuntimeError(f"Rasa transport failed on {request.content.decode('utf-8')}")
        return super().__call__(request)


def masking_handler() -> logging.Handler:
    handlers = [h for h in logging.getLogger().handlers if any(isinstance(f, MaskingFilter) for f in h.filters)]
    assert len(handlers) == 1, handlers
    return handlers[0]


def leaks(text: str) -> list[str]:
    """The raw numbers in `text`, however they are spelled (full width, spaces, dashes, +86)."""
    folded = re.sub(r"[\s\-+]", "", unicodedata.normalize("NFKC", text))
    return [n for n in (PHONE, ID_NUMBER, ID_NUMBER.lower(), ID_NUMBER[6:14]) if n in folded]


@contextlib.contextmanager
def every_logger_at_debug():
    """Root and every logger that exists (or that bot/'s libraries use) at DEBUG, restored after."""
    manager = logging.Logger.manager
    names = [
        "",
        "sqlalchemy",
        "sqlalchemy.engine",
        "sqlalchemy.engine.Engine",
        "sqlalchemy.pool",
        "httpx",
        "httpcore",
        "alembic",
        "uvicorn",
        "uvicorn.error",
        "uvicorn.access",
        "asyncio",
        "bot",
        "knowledge",
        "jieba",
        "wechatpy",
    ]
    names += [n for n, obj in manager.loggerDict.items() if isinstance(obj, logging.Logger)]
    loggers = [logging.getLogger(n) for n in dict.fromkeys(names)]
    saved = [(lg, lg.level, lg.disabled) for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
        lg.disabled = False
    try:
        yield
    finally:
        for lg, level, disabled in saved:
            lg.setLevel(level)
            lg.disabled = disabled


def test_phone_and_id_numbers_are_masked_in_every_log_line(tmp_path, knowledge_index, caplog):
    app = make_app(make_settings(f"sqlite:///{tmp_path / 'bot.db'}", knowledge_index, log_level="DEBUG"), LeakyRasa())
    handler = masking_handler()  # create_app -> configure_logging attached it to the root logger
    stream = io.StringIO()
    previous = handler.setStream(stream)
    previous_level = handler.level
    handler.setLevel(logging.DEBUG)
    try:
        with every_logger_at_debug(), caplog.at_level(logging.DEBUG):
            _drive_requests(app)
    finally:
        handler.setStream(previous)
        handler.setLevel(previous_level)

    written = stream.getvalue()
    assert "Traceback (most recent call last)" in written, "the unexpected errors must have been logged"
    assert "138****5678" in written, "lines holding the phone number must have been written, masked"
    assert "350102***********X" in written, "lines holding the ID number must have been written, masked"
    bad = [line for line in written.splitlines() if leaks(line)]
    assert not bad, "unmasked personal data in the log:\n" + "\n".join(bad[:10])

    # Every record any logger produced, formatted the way the app's handler formats it.
    assert caplog.records
    for record in caplog.records:
        handler.filter(record)
        line = handler.format(record)
        assert not leaks(line), line


def _drive_requests(app) -> None:
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.post("/api/chat", json={"sender": "web-pii", "message": FREE_TEXT}).status_code == 200
        assert client.post("/api/chat", json={"sender": "web-pii", "message": f"BOOM {FREE_TEXT}"}).status_code == 500
        enrollment = client.post(
            "/api/enrollments",
            json={
                "name": "张三",
                "mobile": "+86 138 1234 5678",
                "package": "wuyou",
                "subjects": ["施工管理"],
                "sender": "web-pii",
            },
        )
        assert enrollment.status_code == 201
        number = enrollment.json()["number"]
        assert client.post("/api/enrollments/lookup", json={"number": number, "phone": PHONE}).status_code == 200
        assert client.get("/api/enrollments", params={"phone": PHONE}, headers=STAFF).json()["total"] == 1
        lead = client.post(
            "/api/leads", json={"name": "张三", "mobile": PHONE, "question": FREE_TEXT, "preferred_time": f"打 {PHONE}"}
        )
        assert lead.status_code == 201
        assert (
            client.post(
                "/api/feedback", json={"sender": "web-pii", "rating": -1, "question": FREE_TEXT, "comment": ID_NUMBER}
            ).status_code
            == 201
        )
        assert client.post("/api/handoffs", json={"sender": "web-pii", "reason": FREE_TEXT}).status_code == 201
        assert post_plain(client, text_xml(f"手机{PHONE} 身份证{ID_NUMBER}", msg_id=9_400_001)).status_code == 200
        assert post_plain(client, text_xml(f"BOOM {FREE_TEXT}", msg_id=9_400_002)).status_code == 200
        assert client.post("/api/knowledge/answer", json={"question": FREE_TEXT}).status_code == 200


# Loggers that see request data: bot/ itself, the libraries it hands requests, bodies or SQL to.
# (Other libraries, e.g. transformers, datasets and jieba, keep console handlers of their own for
# their own messages; they never receive request data.)
DATA_LOGGERS = (
    "bot",
    "knowledge",
    "uvicorn",
    "fastapi",
    "starlette",
    "sqlalchemy",
    "alembic",
    "httpx",
    "httpcore",
    "wechatpy",
    "redis",
    "asyncio",
)


def test_no_other_handler_can_write_an_unmasked_line(tmp_path, knowledge_index):
    """Besides pytest's capture handlers, every handler that can receive a record from a logger
    that sees request data (root included, since records propagate to it) masks."""
    make_app(make_settings(f"sqlite:///{tmp_path / 'bot.db'}", knowledge_index))
    manager = logging.Logger.manager
    loggers = [logging.getLogger()] + [
        obj
        for name, obj in manager.loggerDict.items()
        if isinstance(obj, logging.Logger) and name.split(".")[0] in DATA_LOGGERS
    ]
    unmasked = [
        f"{logger.name}: {h!r}"
        for logger in loggers
        for h in logger.handlers
        if not any(isinstance(f, MaskingFilter) for f in h.filters)
        and not type(h).__module__.startswith("_pytest")
        and not isinstance(h, logging.NullHandler)
    ]
    assert not unmasked, unmasked
    # uvicorn's own loggers are emptied and propagate to the masking root handler.
    for name in ("uvicorn", "uvicorn.error"):
        assert logging.getLogger(name).propagate and not logging.getLogger(name).handlers


def test_the_server_runs_without_an_access_log(monkeypatch):
    """uvicorn's access log has its own handler (no MaskingFilter) and would print query strings
    such as /api/enrollments/EN…?phone=13812345678: `python -m bot` must keep it off."""
    import bot.__main__ as entry

    seen = {}
    monkeypatch.setattr(entry.uvicorn, "run", lambda *args, **kwargs: seen.update(kwargs))
    entry.main()
    assert seen["access_log"] is False
