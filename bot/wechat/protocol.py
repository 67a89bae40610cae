"""WeChat's callback protocol through wechatpy: signatures, replay window, safe-mode crypto,
inbound XML and passive replies. No crypto or XML is written by hand here.

XML safety: wechatpy parses with xmltodict over expat, and xmltodict refuses every entity
declaration ("entities are disabled"), which stops XXE and billion-laughs payloads. WeChat never
sends a DTD, so `decode_xml` also refuses any `<!DOCTYPE` / `<!ENTITY` before a parser sees the
body: a second, library-independent guard that also covers an external DTD reference (which
expat ignores but has no business in a WeChat message). The body is decoded as strict UTF-8 first
so an XML encoding declaration (UTF-16 and friends) cannot hide a DTD from that check.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any
from xml.parsers.expat import ExpatError

from wechatpy import create_reply, parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.replies import TransferCustomerServiceReply
from wechatpy.utils import check_signature

# OpenIDs are 28 characters of [A-Za-z0-9_-]; an account's original id looks like gh_0123abcd.
_ACCOUNT_ID = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
_DTD = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
# Characters XML 1.0 does not allow; a reply containing one would not parse on WeChat's side.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_PARSE_ERRORS = (ExpatError, ValueError, KeyError, TypeError, AttributeError, UnicodeError)


class BadSignature(Exception):
    """The request is not signed with our token (or safe-mode message signature / AppID)."""


class StaleTimestamp(Exception):
    """The signed timestamp is missing, not a number, or outside the allowed window."""


class MalformedMessage(Exception):
    """The body is not a WeChat message we can read (bad XML, DTD, missing fields, bad cipher text)."""


class NotConfigured(Exception):
    """Safe mode was requested but WECHAT_AES_KEY / WECHAT_APPID are missing or invalid."""


def verify_signature(token: str, signature: str | None, timestamp: str | None, nonce: str | None) -> None:
    """The `signature` query parameter: sha1 over the sorted token, timestamp and nonce."""
    if not (signature and timestamp and nonce):
        raise BadSignature("missing signature parameters")
    try:
        check_signature(token, signature, timestamp, nonce)
    except InvalidSignatureException as exc:
        raise BadSignature("signature mismatch") from exc


def check_timestamp(timestamp: str | None, max_skew_seconds: int, now: float | None = None) -> None:
    """Refuse a request signed too long ago (or in the future): a captured URL cannot be replayed later."""
    if not timestamp or not timestamp.isdigit() or len(timestamp) > 12:
        raise StaleTimestamp("timestamp is not a number")
    now = time.time() if now is None else now
    if abs(now - int(timestamp)) > max_skew_seconds:
        raise StaleTimestamp("timestamp outside the allowed window")


def decode_xml(raw: bytes) -> str:
    """Strict UTF-8 text with no DTD in it, or MalformedMessage."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedMessage("body is not UTF-8") from exc
    if _DTD.search(text):
        raise MalformedMessage("DTDs and entity declarations are refused")
    if not text.strip():
        raise MalformedMessage("empty body")
    return text


def safe_mode_crypto(token: str, aes_key: str, appid: str) -> WeChatCrypto:
    if not aes_key or not appid:
        raise NotConfigured("WECHAT_AES_KEY and WECHAT_APPID are needed for safe mode")
    try:
        return WeChatCrypto(token, aes_key, appid)
    except (ValueError, AssertionError, TypeError) as exc:  # binascii.Error is a ValueError
        raise NotConfigured("WECHAT_AES_KEY is not a 43-character EncodingAESKey") from exc


def open_envelope(crypto: WeChatCrypto, body: str, msg_signature: str | None, timestamp: str, nonce: str) -> str:
    """Safe mode: check `msg_signature` over the cipher text and decrypt it to the inner XML."""
    if not msg_signature:
        raise BadSignature("missing msg_signature")
    try:
        inner = crypto.decrypt_message(body, msg_signature, timestamp, nonce)
    except (InvalidSignatureException, InvalidAppIdException) as exc:
        raise BadSignature(exc.__class__.__name__) from exc
    except Exception as exc:
        # The envelope's XML, base64, AES block length, padding or length prefix is broken (struct,
        # index, value and unicode errors from deep inside wechatpy): the sender's mistake, not ours.
        raise MalformedMessage(f"cannot decrypt: {exc.__class__.__name__}") from exc
    return decode_xml(inner.encode("utf-8") if isinstance(inner, str) else bytes(inner))


def seal(crypto: WeChatCrypto, reply_xml: str, nonce: str, timestamp: str | None = None) -> str:
    """Safe mode: encrypt and sign a passive reply."""
    return crypto.encrypt_message(reply_xml, nonce, timestamp)


@dataclass(frozen=True)
class Inbound:
    """The parts of a WeChat message the channel uses, validated."""

    message: Any  # the wechatpy message, for create_reply
    msg_type: str  # text, image, voice, video, shortvideo, location, link, event, unknown
    event: str  # subscribe, unsubscribe, click, … ("" for a message)
    openid: str  # FromUserName: the user
    account: str  # ToUserName: our account
    create_time: int
    msg_id: int | None
    content: str  # text messages; a voice message's speech recognition when WeChat provides one

    @property
    def dedup_key(self) -> str:
        """WeChat's advice: de-duplicate messages by MsgId, events by FromUserName + CreateTime."""
        if self.msg_id:
            return f"msg:{self.msg_id}"
        return f"evt:{self.openid}:{self.create_time}:{self.event or self.msg_type}"


def _string(value: Any, name: str, required: bool = False) -> str:
    if value is None or value == "":
        if required:
            raise MalformedMessage(f"{name} is missing")
        return ""
    if not isinstance(value, str):  # nested elements, attributes or repeated tags
        raise MalformedMessage(f"{name} is not text")
    return value


def parse_inbound(xml: str) -> Inbound:
    """Parse the (decrypted) XML with wechatpy; MalformedMessage for anything we cannot trust."""
    try:
        message = parse_message(xml)
        if message is None:
            raise MalformedMessage("empty message")
        openid = _string(message.source, "FromUserName", required=True)
        account = _string(message.target, "ToUserName", required=True)
        create_time = message.time
        msg_id = message.id
        msg_type = str(message.type)
        event = str(getattr(message, "event", "") or "") if msg_type == "event" else ""
        content = ""
        if msg_type == "text":
            content = _string(message.content, "Content")
        elif msg_type == "voice":
            content = _string(message.recognition, "Recognition")
    except MalformedMessage:
        raise
    except _PARSE_ERRORS as exc:
        raise MalformedMessage(f"cannot parse: {exc.__class__.__name__}") from exc
    if not _ACCOUNT_ID.match(openid) or not _ACCOUNT_ID.match(account):
        raise MalformedMessage("FromUserName / ToUserName are not WeChat ids")
    if not isinstance(create_time, int) or isinstance(create_time, bool):
        raise MalformedMessage("CreateTime is not a number")
    if msg_id is not None and not isinstance(msg_id, int):
        raise MalformedMessage("MsgId is not a number")
    return Inbound(message, msg_type, event.lower(), openid, account, create_time, msg_id or None, content)


def xml_text(text: str) -> str:
    """Text that survives inside wechatpy's CDATA sections: no XML-invalid characters, `]]>` split."""
    return _XML_INVALID.sub("", text).replace("]]>", "]]]]><![CDATA[>")


def text_reply(inbound: Inbound, content: str) -> str:
    """A passive text reply (From/To swapped by wechatpy)."""
    return create_reply(xml_text(content), message=inbound.message, render=True)


def transfer_reply(inbound: Inbound) -> str:
    """Hand the conversation to WeChat's customer-service agents (多客服)."""
    return create_reply(TransferCustomerServiceReply(), message=inbound.message, render=True)
