"""Course consultation and enrollment API: catalogue, quotes, recommendations, enrollments, leads.

Public (the chat actions and the web widget call these):
  GET  /api/courses               classes, subjects, study stages, question bank, VIP lists
  GET  /api/packages              the packages with who they suit, validity, guarantee and prices
  POST /api/courses/match         which packages / subjects a user's words name ("无优班", "全科+建筑")
  POST /api/quotes                price of a package for a set of subjects (rule: bot/pricing.py)
  POST /api/recommendations       which package fits a profile, with the catalogue's reasons
  POST /api/enrollments           sign up; Idempotency-Key header; 201 new, 200 existing
  POST /api/enrollments/lookup    the owner: {"number", "phone"} in the body (never in the URL),
                                  throttled per number and per phone (bot/lookup_throttle.py)
  POST /api/leads                 a call-back request for a course consultant
The staff side of enrollments and leads (lists, statuses, assignees, notes, conversations,
exports) is the sales pipeline: bot/routes/pipeline.py.

Every request that writes runs in one transaction. Bad input is a 422 whose `detail` says, in
Chinese, what to fix.
"""

from __future__ import annotations

import logging
import re
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import AfterValidator, AliasChoices, BaseModel, Field, field_validator
from pydantic_core import PydanticCustomError

from bot import sales
from bot.catalogue import Catalogue, CatalogueError, get_catalogue
from bot.models import Enrollment, Lead
from bot.pricing import Quote, quote
from bot.rasa_client import RasaUnavailable
from bot.recommend import recommend
from bot.routes.chat import SENDER_PATTERN
from bot.senders import refuse_wechat_senders
from bot.transcripts import transcript
from masking import mask_pii

# Query bounds that keep arithmetic on dates and row numbers inside what the databases hold.
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)
LeadId = Annotated[int, Path(ge=1, le=2**31 - 1)]

log = logging.getLogger(__name__)
router = APIRouter(tags=["courses"], dependencies=[Depends(refuse_wechat_senders)])  # wx: is WeChat's

NOT_FOUND = "没有找到这条报名记录，请核对报名号和报名时填写的手机号。"
LEAD_NOT_FOUND = "没有找到这条回电请求。"
KEY_CONFLICT = "这个 Idempotency-Key 已用于另一份报名（内容或提交者不同）；新的报名请使用新的 Idempotency-Key。"
LEAD_KEY_CONFLICT = (
    "这个 Idempotency-Key 已用于另一条回电请求（内容或提交者不同）；新的请求请使用新的 Idempotency-Key。"
)
LOOKUP_MOVED = (
    "查询报名记录请改用 POST /api/enrollments/lookup，在请求体中提供报名号 number 和报名时填写的手机号 phone"
    "（手机号不要放在网址里）。"
)
LOOKUP_THROTTLED = "查询失败的次数太多，请{minutes}分钟后再试；如需帮助请联系客服。"
CATALOGUE_DOWN = "课程信息暂时无法读取，请稍后再试。"
NO_CONVERSATION = "这条记录没有关联的会话（不是在对话中提交的）。"
RASA_DOWN = "暂时无法读取会话记录（对话服务不可用），请稍后再试。"

IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]{1,128}$"
CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")
TEXT_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # free text may keep \t \n \r
CHANNEL_PATTERN = r"^[a-z][a-z0-9_-]{0,31}$"


def catalogue() -> Catalogue:
    try:
        return get_catalogue()
    except CatalogueError:
        log.exception("course catalogue unavailable")
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=CATALOGUE_DOWN) from None


CatalogueDep = Annotated[Catalogue, Depends(catalogue)]


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


# -- request bodies -------------------------------------------------------------------------------


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


class _Choice(BaseModel):
    package: str = Field(..., min_length=1, max_length=50, description="套餐 id 或名称，如 wuyou / 无忧取证班")
    subjects: list[str] = Field(
        ..., min_length=1, max_length=10, description="科目 id 或名称，如 [\"施工管理\", \"jianzhu\"]"
    )

    _subjects = field_validator("subjects", mode="before")(_subject_list)


class QuoteRequest(_Choice):
    pass


def _valid_mobile(field: str, value: str) -> str:
    """An 11-digit mainland mobile number, or the field's Chinese hint."""
    try:
        return sales.normalize_mobile(value)
    except ValueError as exc:
        raise _hint(field, str(exc)) from None


class _Contact(BaseModel):
    name: str = Field(..., max_length=60)
    mobile: str = Field(..., max_length=30, validation_alias=AliasChoices("mobile", "phone"))
    sender: str | None = Field(None, max_length=128, pattern=SENDER_PATTERN, description="微信 OpenID 或网页会话 id")
    channel: str | None = Field(None, max_length=32, pattern=CHANNEL_PATTERN, description="来源渠道，如 web / wechat")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        try:
            return sales.normalize_name(value)
        except ValueError as exc:
            raise _hint("name", str(exc)) from None

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


# -- helpers -------------------------------------------------------------------------------------


def _resolve_choice(cat: Catalogue, package: str, subjects: list[str]) -> Quote:
    found = cat.resolve_package(package)
    if found is None:
        names = "、".join(p.name for p in cat.packages)
        raise reject("package", f"没有找到套餐“{package}”，可选：{names}。")
    subject_ids: list[str] = []
    for value in subjects:
        subject = cat.resolve_subject(value)
        if subject is None:
            names = "、".join(s.name for s in cat.subjects)
            raise reject("subjects", f"没有找到科目“{value}”，可选：{names}。")
        subject_ids.append(subject.id)
    return quote(cat, found.id, subject_ids)


def _subject_out(cat: Catalogue, subject_ids) -> list[dict[str, str]]:
    out = []
    for sid in subject_ids or []:
        try:
            s = cat.subject(sid)
            out.append({"id": s.id, "name": s.name, "kind": s.kind})
        except KeyError:  # a subject since removed from the catalogue: keep the record readable
            out.append({"id": sid, "name": sid, "kind": ""})
    return out


def _package_out(cat: Catalogue, package_id: str | None) -> dict[str, str] | None:
    if not package_id:
        return None
    try:
        return {"id": package_id, "name": cat.package(package_id).name}
    except KeyError:
        return {"id": package_id, "name": package_id}


def quote_out(q: Quote) -> dict[str, Any]:
    return {
        "package": {"id": q.package.id, "name": q.package.name},
        "subjects": [{"id": s.id, "name": s.name, "kind": s.kind} for s in q.subjects],
        "lines": [
            {"kind": line.kind, "label": line.label, "subjects": list(line.subject_ids), "price": line.price}
            for line in q.lines
        ],
        "total": q.total,
        "currency": "CNY",
        "singles_total": q.singles_total,
        "full_applied": q.full_applied,
        "full_price": q.package.prices.full,
        "full_alternative_total": q.full_alternative_total,
        "notes": list(q.notes),
    }


def _iso(value: datetime) -> str:
    return value.astimezone(sales.CHINA).isoformat(timespec="seconds")


def enrollment_out(cat: Catalogue, e: Enrollment, staff: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "number": e.number,
        "status": e.status,
        "status_label": sales.STATUS_LABELS[e.status],
        "package": _package_out(cat, e.package_id),
        "subjects": _subject_out(cat, e.subject_ids),
        "price": e.price,
        "currency": "CNY",
        "quote": e.quote,
        "name": e.name,
        "mobile": e.mobile if staff else sales.mask_mobile(e.mobile),
        "created_at": _iso(e.created_at),
    }
    if staff:
        out.update(sender=e.sender, channel=e.channel, updated_at=_iso(e.updated_at))
    return out


def lead_receipt(cat: Catalogue, lead: Lead) -> dict[str, Any]:
    """The public answer to a call-back request: what this request stored, never the full number,
    the sender, or the times of a request made earlier."""
    out = lead_out(cat, lead)
    for staff_only in ("sender", "channel", "created_at", "updated_at"):
        out.pop(staff_only)
    out["mobile"] = sales.mask_mobile(lead.mobile)
    return out


def lead_out(cat: Catalogue, lead: Lead) -> dict[str, Any]:
    return {
        "id": lead.id,
        "status": lead.status,
        "status_label": sales.STATUS_LABELS[lead.status],
        "name": lead.name,
        "mobile": lead.mobile,
        "preferred_time": lead.preferred_time,
        "question": lead.question,
        "package": _package_out(cat, lead.package_id),
        "subjects": _subject_out(cat, lead.subject_ids),
        "sender": lead.sender,
        "channel": lead.channel,
        "created_at": _iso(lead.created_at),
        "updated_at": _iso(lead.updated_at),
    }


def _db(request: Request):
    return request.app.state.db


async def _conversation(request: Request, sender: str | None, masked: bool = False) -> dict[str, Any]:
    """The chat that produced a record (from Rasa's tracker store); `masked`: phone and ID numbers hidden."""
    if not sender:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=NO_CONVERSATION)
    try:
        turns = await transcript(request.app.state.rasa, sender)
    except RasaUnavailable as exc:
        log.warning("conversation lookup: %s", exc)
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=RASA_DOWN) from None
    messages = [
        {"role": t["who"], "text": mask_pii(t["text"]) if masked else t["text"], "timestamp": t["timestamp"]}
        for t in turns
    ]
    return {"sender": sender, "messages": messages}


IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", pattern=IDEMPOTENCY_KEY_PATTERN, description="同一个 key 重试不会重复创建"),
]


def _bounded_dates(*days: date | None) -> None:
    for day in days:
        if day is not None and not EARLIEST <= day <= LATEST:
            raise reject("date", f"日期需在 {EARLIEST} 到 {LATEST} 之间。")


# -- catalogue ----------------------------------------------------------------------------------


@router.get("/api/courses")
def list_courses(cat: CatalogueDep) -> dict[str, Any]:
    """Classes (with hours as the page states them), subjects with teachers, and the study plan."""
    return cat.model_dump(exclude={"packages"}, exclude_none=True)


@router.get("/api/packages")
def list_packages(cat: CatalogueDep) -> dict[str, Any]:
    return {
        "packages": [p.model_dump(exclude_none=True) for p in cat.packages],
        "subjects": [s.model_dump() for s in cat.subjects],
        "source_notes": cat.source_notes,
    }


@router.post("/api/courses/match")
def match_words(body: MatchRequest, cat: CatalogueDep) -> dict[str, Any]:
    m = cat.match(body.text)
    subject_ids = list(m.subjects)
    if m.full_course:
        subject_ids += [s.id for s in cat.public_subjects]
    subject_ids = cat.ordered_subject_ids(subject_ids)
    has_practice = any(cat.subject(sid).kind == "实务" for sid in subject_ids)
    return {
        "packages": [{"id": pid, "name": cat.package(pid).name} for pid in m.packages],
        "subjects": _subject_out(cat, subject_ids),
        "full_course": m.full_course,
        "needs_practice": m.full_course and not has_practice,
    }


@router.post("/api/quotes")
def create_quote(body: QuoteRequest, cat: CatalogueDep) -> dict[str, Any]:
    return quote_out(_resolve_choice(cat, body.package, body.subjects))


@router.post("/api/recommendations")
def create_recommendation(body: RecommendationRequest, cat: CatalogueDep) -> dict[str, Any]:
    subject_ids: list[str] | None = None
    all_subjects: bool | None = None
    if body.subjects:
        subject_ids = []
        for value in body.subjects:
            subject = cat.resolve_subject(value)
            if subject is None:
                raise reject("subjects", f"没有找到科目“{value}”，可选：{'、'.join(s.name for s in cat.subjects)}。")
            subject_ids.append(subject.id)
        chosen = set(subject_ids)
        all_subjects = {s.id for s in cat.public_subjects} <= chosen and any(
            s.id in chosen for s in cat.practice_subjects
        )
    result = recommend(
        cat,
        {
            "zero_basis": body.zero_basis,
            "failed_before": body.failed_before,
            "busy": body.busy,
            "site_experience": body.site_experience,
            "all_subjects": all_subjects,
        },
    )
    return {
        "recommended": list(result.recommended),
        "decided": result.decided,
        "open_questions": list(result.open_questions),
        "packages": [
            {
                "id": fit.package.id,
                "name": fit.package.name,
                "score": fit.score,
                "reasons": list(fit.reasons),
                "quote": quote_out(quote(cat, fit.package.id, subject_ids)) if subject_ids else None,
            }
            for fit in result.fits
        ],
    }


# -- enrollments ------------------------------------------------------------------------------------


@router.post(
    "/api/enrollments",
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"description": "the same enrollment already existed; nothing new was created"},
        409: {"description": "Idempotency-Key reused for a different enrollment"},
    },
)
def create_enrollment(
    body: EnrollmentRequest,
    request: Request,
    response: Response,
    cat: CatalogueDep,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    q = _resolve_choice(cat, body.package, body.subjects)
    data = sales.EnrollmentInput(name=body.name, mobile=body.mobile, quote=q, sender=body.sender, channel=body.channel)
    with _db(request).transaction() as session:
        try:
            enrollment, created = sales.create_enrollment(session, data, idempotency_key)
        except sales.IdempotencyConflict:
            raise HTTPException(status.HTTP_409_CONFLICT, detail=KEY_CONFLICT) from None
        out = enrollment_out(cat, enrollment, staff=False)
    out["created"] = created
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    response.headers["Location"] = f"/api/enrollments/{enrollment.number}"
    log.info(
        "enrollment %s %s (package %s, %d subjects, channel %s)",
        enrollment.number,
        "created" if created else "returned again",
        enrollment.package_id,
        len(enrollment.subject_ids),
        enrollment.channel or "-",
    )
    return out


@router.post(
    "/api/enrollments/lookup",
    responses={
        404: {"description": "no enrollment with this number and phone (one answer for both)"},
        429: {"description": "too many failed lookups of this number or with this phone"},
    },
)
def lookup_enrollment(body: LookupRequest, request: Request, cat: CatalogueDep) -> dict[str, Any]:
    """The owner's view of an enrollment, by its number and the phone given when enrolling."""
    throttle = request.app.state.lookup_throttle
    counted = throttle.attempt(body.number, body.phone)
    if counted is None:
        log.info("enrollment lookup throttled (too many failures for this number or phone)")
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            detail=LOOKUP_THROTTLED.format(minutes=max(1, round(throttle.window_seconds / 60))),
            headers={"Retry-After": str(throttle.window_seconds)},
        )
    with _db(request).transaction(write=False) as session:
        enrollment = sales.get_enrollment(session, body.number)
        if enrollment is None or enrollment.mobile != body.phone:  # one answer for both: nothing leaks
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail=NOT_FOUND)
        throttle.succeeded(counted)
        return enrollment_out(cat, enrollment, staff=False)


# -- leads ------------------------------------------------------------------------------------------


@router.post(
    "/api/leads",
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"description": "a retry, or the same sender's open request replaced by this one"},
        409: {"description": "Idempotency-Key reused for another request"},
    },
)
def create_lead(
    body: LeadRequest, request: Request, response: Response, cat: CatalogueDep, idempotency_key: IdempotencyKey = None
) -> dict[str, Any]:
    package_id = None
    if body.package:
        found = cat.resolve_package(body.package)
        if found is None:
            raise reject("package", f"没有找到套餐“{body.package}”，可选：{'、'.join(p.name for p in cat.packages)}。")
        package_id = found.id
    subject_ids: list[str] = []
    for value in body.subjects or []:
        subject = cat.resolve_subject(value)
        if subject is None:
            raise reject("subjects", f"没有找到科目“{value}”，可选：{'、'.join(s.name for s in cat.subjects)}。")
        subject_ids.append(subject.id)
    data = sales.LeadInput(
        name=body.name,
        mobile=body.mobile,
        preferred_time=(body.preferred_time or "").strip() or None,
        question=(body.question or "").strip() or None,
        package_id=package_id,
        subject_ids=tuple(cat.ordered_subject_ids(subject_ids)) or None,
        sender=body.sender,
        channel=body.channel,
    )
    with _db(request).transaction() as session:
        try:
            lead, created = sales.create_lead(session, data, idempotency_key)
        except sales.IdempotencyConflict:
            raise HTTPException(status.HTTP_409_CONFLICT, detail=LEAD_KEY_CONFLICT) from None
        session.flush()
        out = lead_receipt(cat, lead)
    out["created"] = created
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    log.info("lead %s %s (channel %s)", lead.id, "created" if created else "updated", lead.channel or "-")
    return out
