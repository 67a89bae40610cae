"""Logging with personal data masked: no phone or ID number ever reaches a log line."""
from __future__ import annotations

import logging
import re

# Mainland mobile numbers, as people write them: 13812345678, 138 1234 5678, 138-1234-5678,
# +86 138…, 0086138…, 86138…, full-width digits. And 18-digit resident ID numbers (last char may be X).
_D = "[0-9\uff10-\uff19]"
_PHONE = re.compile(
    rf"(?<!{_D})(?:(?:[+\uff0b]|00)?(?:86|\uff18\uff16)[ -]?)?([1\uff11][3-9\uff13-\uff19]{_D})[ -]?({_D}{{4}})[ -]?({_D}{{4}})(?!{_D})")
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{8})(\d{3}[\dXx])(?![0-9A-Za-z])")


def mask_pii(text: str) -> str:
    text = _ID_NUMBER.sub(lambda m: m.group(1) + "********" + m.group(3)[-1:].rjust(4, "*"), text)
    return _PHONE.sub(lambda m: m.group(1) + "****" + m.group(3), text)


class MaskingFilter(logging.Filter):
    """Masks the message and also the traceback and stack of a record: an exception's text may quote
    user input (a driver error lists the statement's parameters, for example)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_pii(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = _FORMATTER.formatException(record.exc_info)  # Formatter.format reuses exc_text
        if record.exc_text:
            record.exc_text = mask_pii(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_pii(record.stack_info)
        return True


_FORMATTER = logging.Formatter()


def configure_logging(level: str = "INFO") -> None:
    root = logging.getLogger()
    if not any(isinstance(f, MaskingFilter) for h in root.handlers for f in h.filters):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler.addFilter(MaskingFilter())
        root.addHandler(handler)
    root.setLevel(level.upper())
    # HTTP client libraries log every request at INFO: too chatty for production logs.
    for name in ("httpx", "httpx2", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # uvicorn's own loggers propagate to the root handler, so they are masked too.
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
