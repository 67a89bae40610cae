"""Logging with personal data masked: no phone or ID number, nor a WeChat OpenID, ever reaches a log line."""

from __future__ import annotations

import logging

# The masking rules live in masking/ (standard library only), shared with the action server.
from masking import MaskingFilter, mask_pii

__all__ = ["MaskingFilter", "configure_logging", "mask_pii"]


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
