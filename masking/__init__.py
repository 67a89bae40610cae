"""Personal data masked in log lines: the one set of rules for bot/ (Python 3.11) and the action
server (Python 3.10, `.venv-rasa`). Standard library only, so both runtimes import it as it is.

Masked: mainland mobile numbers as people write them (13812345678, 138 1234 5678, +86 138…,
0086138…, full-width digits), resident ID numbers (18 digits, the last may be X; and the old
15-digit cards), WeChat senders (`wx:<OpenID>`) and the `token=` of a URL (Rasa's API token).
"""

from __future__ import annotations

import logging
import re

_D = "[0-9\uff10-\uff19]"
_PHONE = re.compile(
    rf"(?<!{_D})(?:(?:[+\uff0b]|00)?(?:86|\uff18\uff16)[ -]?)?([1\uff11][3-9\uff13-\uff19]{_D})[ -]?({_D}{{4}})[ -]?({_D}{{4}})(?!{_D})"
)
# 18 digits: region (6), birth date (8), sequence and check character (4). `\d` also matches full width.
_ID_18 = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{8})(\d{3}[\dXx])(?![0-9A-Za-z])")
# 15 digits (cards issued before 1999): region (6), birth date as YYMMDD (6), sequence (3). Any
# standalone 15-digit number is masked: in a log line a false positive costs nothing.
_ID_15 = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{6})(\d{3})(?![0-9A-Za-z])")
# A WeChat sender: OpenIDs are 28 characters of [A-Za-z0-9_-]; the last 6 are kept, as bot/'s
# WeChat log lines already write them, so lines of one conversation can still be followed.
_OPENID = re.compile(r"\bwx:([A-Za-z0-9_-]{7,})")
_URL_TOKEN = re.compile(r"([?&]token=)[^&\s\"']+")


def mask_pii(text: str) -> str:
    text = _ID_18.sub(lambda m: m.group(1) + "********" + m.group(3)[-1:].rjust(4, "*"), text)
    text = _ID_15.sub(lambda m: m.group(1) + "******" + m.group(3)[-1:].rjust(3, "*"), text)
    text = _PHONE.sub(lambda m: m.group(1) + "****" + m.group(3), text)
    text = _OPENID.sub(lambda m: "wx:…" + m.group(1)[-6:], text)
    return _URL_TOKEN.sub(lambda m: m.group(1) + "***", text)


def mask_phone(number: str) -> str:
    """One phone number as people without the right to see it read it: 138****5678 ("****" when
    it is not a mobile number at all, so nothing of it shows)."""
    return mask_pii(number) if _PHONE.fullmatch(number or "") else "****"


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


def mask_every_handler() -> int:
    """Put a MaskingFilter on every handler already in the logging tree (root and named loggers);
    returns how many handlers got one. For a process whose logging someone else configured."""
    loggers = [logging.getLogger()] + [
        obj for obj in list(logging.Logger.manager.loggerDict.values()) if isinstance(obj, logging.Logger)
    ]
    added = 0
    for logger in loggers:
        for handler in logger.handlers:
            if not any(isinstance(f, MaskingFilter) for f in handler.filters):
                handler.addFilter(MaskingFilter())
                added += 1
    return added
