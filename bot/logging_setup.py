"""Logging with personal data masked: no phone or ID number ever reaches a log line."""
from __future__ import annotations

import logging
import re

# Mainland mobile numbers and 18-digit resident ID numbers (last char may be X).
_PHONE = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{8})(\d{3}[\dXx])(?![0-9A-Za-z])")


def mask_pii(text: str) -> str:
    text = _ID_NUMBER.sub(lambda m: m.group(1) + "********" + m.group(3)[-1:].rjust(4, "*"), text)
    return _PHONE.sub(lambda m: m.group(1) + "****" + m.group(3), text)


class MaskingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_pii(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


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
