"""Request bodies of the course, enrollment and lead endpoints, and the 422 for one field.

Every refusal names its field (`errors[].loc` of the 422, bot/errors.py) with a Chinese reason in
`detail`: the chat maps the field back to the question it asks again.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import Path
from fastapi.exceptions import RequestValidationError
from pydantic import AfterValidator, AliasChoices, BaseModel, Field, field_validator
from pydantic_core import PydanticCustomError

from bot.courses.contact import normalize_mobile, normalize_name
from bot.routes.chat import SENDER_PATTERN

CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")
TEXT_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # free text may keep \t \n \r
CHANNEL_PATTERN = r"^[a-z][a-z0-9_-]{0,31}$"
IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]{1,128}$"


def reject(field: str, reason: str) -> RequestValidationError:
    """A 422 for one body field, with `reason` as the Chinese message (bot/errors.py shows it)."""
    return RequestValidationError(
        [{"loc": ("body", field), "msg": reason, "type": "value_error", "ctx": {"reason": reason}}]
    )


def _hint(kind: str, reason: str) -> PydanticCustomError:
    return PydanticCustomError(kind, reason, {"reason": reason})


def _no_control(value: Any, info: Any) -> Any:
    """PostgreSQL refuses NUL in text (a 500 there): control characters are a client's mistake, a 422.
    Line breaks and tabs stay allowed in free text."""
    if isinstance(value, str) and TEXT_CONTROL_CHARS.search(value):
        raise _hint("text", f"{info.field_name} 不能包含空字符（\\u0000）等控制字符。")
    return value


def _number(value: str) -> str:
    if CONTROL_CHARS.search(value):
        raise _hint("number", "报名号不能包含空字符（\\u0000）等控制字符，请核对报名号。")
    return value


EnrollmentNo = Annotated[str, Path(description="报名号，如 EN20261124-7KQ3XM2P"), AfterValidator(_number)]
LeadId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _subject_list(value: Any) -> Any:
    """Subjects as a list of texts; anything else gets one message a user can act on."""
    if value is None:
        return value
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        reason = "科目 subjects 请填写科目名称或 id 的列表，例如 [\"施工管理\", \"建筑实务\"]。"
        raise _hint("subjects", reason)
    return [v.strip() for v in value]


def _valid_mobile(field: str, value: str | None) -> str | None:
    """The one mobile rule (bot/courses/contact.py), refused as the field's Chinese hint."""
    if value is None:
        return None
    try:
        return normalize_mobile(value)
    except ValueError as exc:
        raise _hint(field, str(exc)) from None


def _valid_name(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return normalize_name(value)
    except ValueError as exc:
        raise _hint("name", str(exc)) from None


class _Choice(BaseModel):
    package: str = Field(..., min_length=1, max_length=50, description="套餐 id 或名称，如 wuyou / 无忧取证班")
    subjects: list[str] = Field(
        ..., min_length=1, max_length=10, description="科目 id 或名称，如 [\"施工管理\", \"jianzhu\"]"
    )

    _subjects = field_validator("subjects", mode="before")(_subject_list)


class QuoteRequest(_Choice):
    pass


class _Contact(BaseModel):
    name: str = Field(..., max_length=60)
    mobile: str = Field(..., max_length=30, validation_alias=AliasChoices("mobile", "phone"))
    sender: str | None = Field(None, max_length=128, pattern=SENDER_PATTERN, description="微信 OpenID 或网页会话 id")
    channel: str | None = Field(None, max_length=32, pattern=CHANNEL_PATTERN, description="来源渠道，如 web / wechat")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _valid_name(value)

    @field_validator("mobile")
    @classmethod
    def _mobile(cls, value: str) -> str:
        return _valid_mobile("mobile", value)


class EnrollmentRequest(_Contact, _Choice):
    pass


class LeadRequest(_Contact):
    preferred_time: str | None = Field(None, max_length=50, description="方便接电话的时间，如 工作日晚上")
    question: str | None = Field(None, max_length=500)
    package: str | None = Field(None, max_length=50)
    subjects: list[str] | None = Field(None, max_length=10)

    _subjects = field_validator("subjects", mode="before")(_subject_list)
    _text = field_validator("preferred_time", "question")(_no_control)


class ContactCheck(BaseModel):
    """A name and/or a mobile checked by the same rule as an enrollment's, before the form goes on."""

    name: str | None = Field(None, max_length=60)
    mobile: str | None = Field(None, max_length=30, validation_alias=AliasChoices("mobile", "phone"))

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return _valid_name(value)

    @field_validator("mobile")
    @classmethod
    def _mobile(cls, value: str | None) -> str | None:
        return _valid_mobile("mobile", value)


class LookupRequest(BaseModel):
    """The owner's lookup: the phone travels in the body, so it stays out of URLs and access logs."""

    number: str = Field(..., min_length=1, max_length=32, description="报名号，如 EN20261124-7KQ3XM2P")
    phone: str = Field(
        ..., max_length=30, validation_alias=AliasChoices("phone", "mobile"), description="报名时填写的手机号"
    )

    @field_validator("number")
    @classmethod
    def _clean_number(cls, value: str) -> str:
        return _number(value).strip().upper()

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        return _valid_mobile("phone", value)


class MatchRequest(BaseModel):
    text: str = Field(..., max_length=500)


class RecommendationRequest(BaseModel):
    zero_basis: bool | None = Field(None, description="零基础 / 基础薄弱")
    failed_before: bool | None = Field(None, description="考过但多次未通过")
    busy: bool | None = Field(None, description="平时工作忙")
    site_experience: bool | None = Field(None, description="有施工现场经验")
    subjects: list[str] | None = Field(None, max_length=10, description="想报的科目（决定报价，也说明是否报全科）")

    _subjects = field_validator("subjects", mode="before")(_subject_list)
