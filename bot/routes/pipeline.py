"""The sales pipeline for 课程顾问: enrollments and leads with status, assignee, notes, search,
filters, paging, the conversation beside each, and CSV exports for the admin.

Staff (the sales area, bot/accounts.py; the integration token too):
  GET   /api/enrollments            filters: status, package, date_from/date_to (China time), phone,
                                    sender, q (name, 4+ digits of the phone, or the number), assignee
                                    (me | none | an account id); limit/offset
  GET   /api/enrollments/{no}       the full record with its notes (others: 410, use the owner lookup)
  PATCH /api/enrollments/{no}       {"status"} new -> contacted -> paid; cancelled; {"assignee_id"} (null: nobody)
  POST  /api/enrollments/{no}/notes {"text"}
  GET   /api/enrollments/{no}/conversation
  the same for /api/leads and /api/leads/{id} (statuses new, contacted, closed)
  GET   /api/staff/consultants      who can be an assignee
Admin:
  GET   /api/staff/exports/enrollments.csv, /api/staff/exports/leads.csv   the same filters

Phone numbers are shown in full to those who call people back (bot/accounts.py SEES_PHONES), masked
for everyone else. Every read and every change is in the audit log (bot/audit.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from bot import audit, exports
from bot.accounts import ADMIN, SALES
from bot.auth import StaffPrincipal, require_admin, require_sales, staff_of
from bot.courses import sales
from bot.courses.catalogue import Catalogue
from bot.courses.contact import normalize_mobile
from bot.courses.responses import enrollment_out, lead_out
from bot.courses.schemas import EnrollmentNo, LeadId, _no_control, reject
from bot.models import ENROLLMENT_STATUSES, LEAD_STATUSES, Lead, StaffAccount
from bot.routes.chat import SENDER_PATTERN
from bot.routes.course_deps import (
    LEAD_NOT_FOUND,
    LOOKUP_MOVED,
    NOT_FOUND,
    CatalogueDep,
    _bounded_dates,
    _conversation,
)
from masking import mask_phone

log = logging.getLogger(__name__)
router = APIRouter(tags=["sales pipeline"])

Sales = Annotated[StaffPrincipal, Depends(require_sales)]
Admin = Annotated[StaffPrincipal, Depends(require_admin)]
EXPORT_MAX_ROWS = 10_000
NO_SUCH_ASSIGNEE = "负责人只能是在职的课程顾问或管理员账号。"


class Change(BaseModel):
    """Any of: a new status; an assignee (an account id, or null for nobody)."""

    status: str | None = None
    assignee_id: int | None = Field(None, ge=1, le=2**31 - 1)

    @field_validator("status")
    @classmethod
    def _known(cls, value: str | None) -> str | None:
        return value.strip().lower() if value is not None else None


class NoteRequest(BaseModel):
    text: str = Field(..., max_length=sales.NOTE_MAX_CHARS + 100)

    _text = field_validator("text")(_no_control)


@dataclass(frozen=True)
class Filters:
    date_from: date | None
    date_to: date | None
    search: str | None
    assignee: str | None

    def words(self, status_: str | None) -> str:
        parts = [
            f"状态={sales.STATUS_LABELS.get(status_, status_)}" if status_ else "",
            f"日期={self.date_from or ''}~{self.date_to or ''}" if self.date_from or self.date_to else "",
            f"搜索={self.search}" if self.search else "",
            f"负责人={self.assignee}" if self.assignee else "",
        ]
        return "，".join(p for p in parts if p) or "无筛选"


def filters(
    date_from: date | None = Query(None, description="日期起（北京时间，含）"),
    date_to: date | None = Query(None, description="日期止（北京时间，含）"),
    q: str | None = Query(None, max_length=50, description="姓名、手机号（至少4位）或报名号"),
    assignee: str | None = Query(
        None, max_length=12, pattern=r"^(me|none|\d{1,10})$", description="me（我）、none（未分配）或账号 id"
    ),
) -> Filters:
    _bounded_dates(date_from, date_to)
    return Filters(date_from, date_to, (q or "").strip() or None, assignee)


FiltersDep = Annotated[Filters, Depends(filters)]


def _assignee_id(f: Filters, principal: StaffPrincipal) -> int | None:
    if f.assignee is None:
        return None
    if f.assignee == "none":
        return sales.UNASSIGNED
    if f.assignee == "me":
        if principal.account_id is None:
            raise RequestValidationError(
                [
                    {
                        "loc": ("query", "assignee"),
                        "type": "value_error",
                        "msg": "no account",
                        "ctx": {"reason": "集成令牌没有自己的账号，请用账号 id 筛选负责人。"},
                    }
                ]
            )
        return principal.account_id
    return int(f.assignee)


def _names(session, ids) -> dict[int, str]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return dict(
        session.execute(select(StaffAccount.id, StaffAccount.display_name).where(StaffAccount.id.in_(ids))).all()
    )


def _shown(out: dict[str, Any], row, principal: StaffPrincipal, names: dict[int, str]) -> dict[str, Any]:
    """What this caller sees of a record: the phone masked unless they call people back, the assignee by name."""
    if not principal.sees_phones:
        out["mobile"] = mask_phone(row.mobile)
    out["assignee"] = {"id": row.assignee_id, "name": names.get(row.assignee_id, "")} if row.assignee_id else None
    return out


def _notes_out(notes) -> list[dict[str, Any]]:
    return [
        {
            "id": n.id,
            "author": n.author,
            "text": n.text,
            "created_at": n.created_at.astimezone(sales.CHINA).isoformat(timespec="seconds"),
        }
        for n in notes
    ]


def _check_assignee(session, assignee_id: int) -> StaffAccount:
    account = session.get(StaffAccount, assignee_id)
    if account is None or not account.active or account.role not in (SALES, ADMIN):
        raise reject("assignee_id", NO_SUCH_ASSIGNEE)
    return account


def _apply(session, row, body: Change, principal: StaffPrincipal, kind: str, key: str, change_status) -> None:
    """Status and assignee changes of one record, each with its audit entry."""
    if body.status is not None and body.status != row.status:
        before = row.status
        change_status(row, body.status)
        if row.status != before:
            audit.record(
                session,
                principal,
                "status_changed",
                kind,
                key,
                f"{sales.STATUS_LABELS[before]} → {sales.STATUS_LABELS[row.status]}",
            )
    if "assignee_id" in body.model_fields_set and body.assignee_id != row.assignee_id:
        names = _names(session, [row.assignee_id, body.assignee_id])
        if body.assignee_id is not None:
            _check_assignee(session, body.assignee_id)
        audit.record(
            session,
            principal,
            "assignee_changed",
            kind,
            key,
            f"{names.get(row.assignee_id, '未分配')} → {names.get(body.assignee_id, '未分配')}",
        )
        row.assignee_id = body.assignee_id


def _record_read(request: Request, principal: StaffPrincipal, action: str, kind: str, key: object, detail: str) -> None:
    with request.app.state.db.transaction() as session:
        audit.record(session, principal, action, kind, key, detail)


async def _record_conversation(
    request: Request, principal: StaffPrincipal, kind: str, key: object, sender: str | None
) -> dict[str, Any]:
    """The conversation behind a record, phones masked unless the reader may see them; the read is audited."""
    out = await _conversation(request, sender, masked=not principal.sees_phones)
    await run_in_threadpool(
        _record_read, request, principal, "conversation_read", kind, key, f"{len(out['messages'])} 条消息"
    )
    return out


# -- enrollments ----------------------------------------------------------------------------------


def _package_id(cat: Catalogue, package: str | None) -> str | None:
    if not package:
        return None
    found = cat.resolve_package(package)
    if found is None:
        raise RequestValidationError(
            [
                {
                    "loc": ("query", "package"),
                    "type": "value_error",
                    "msg": "unknown package",
                    "ctx": {"reason": f"没有找到套餐“{package}”。"},
                }
            ]
        )
    return found.id


def _mobile(phone: str | None) -> str | None:
    if not phone:
        return None
    try:
        return normalize_mobile(phone)
    except ValueError as exc:
        raise RequestValidationError(
            [{"loc": ("query", "phone"), "type": "value_error", "msg": "bad phone", "ctx": {"reason": str(exc)}}]
        ) from None


EnrollmentStatus = Annotated[Literal[ENROLLMENT_STATUSES] | None, Query(alias="status")]  # type: ignore[valid-type]
LeadStatus = Annotated[Literal[LEAD_STATUSES] | None, Query(alias="status")]  # type: ignore[valid-type]


def _enrollment_query(session, cat, principal, f: Filters, status_, package, phone, sender, limit, offset):
    return sales.list_enrollments(
        session,
        status=status_,
        package_id=_package_id(cat, package),
        date_from=f.date_from,
        date_to=f.date_to,
        mobile=_mobile(phone),
        sender=sender,
        assignee_id=_assignee_id(f, principal),
        search=f.search,
        limit=limit,
        offset=offset,
    )


def _lead_query(session, principal, f: Filters, status_, limit, offset):
    return sales.list_leads(
        session,
        status=status_,
        date_from=f.date_from,
        date_to=f.date_to,
        assignee_id=_assignee_id(f, principal),
        search=f.search,
        limit=limit,
        offset=offset,
    )


@router.get("/api/enrollments")
def staff_list_enrollments(
    request: Request,
    cat: CatalogueDep,
    principal: Sales,
    f: FiltersDep,
    status_: EnrollmentStatus = None,
    package: str | None = Query(None, max_length=50),
    phone: str | None = Query(None, max_length=30),
    sender: str | None = Query(None, max_length=128, pattern=SENDER_PATTERN),
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=1_000_000),
) -> dict[str, Any]:
    with request.app.state.db.transaction() as session:
        rows, total = _enrollment_query(session, cat, principal, f, status_, package, phone, sender, limit, offset)
        names = _names(session, [e.assignee_id for e in rows])
        items = [_shown(enrollment_out(cat, e, staff=True), e, principal, names) for e in rows]
        audit.record(
            session, principal, "enrollments_read", "enrollments", None, f"{len(items)}/{total} 条，{f.words(status_)}"
        )
        return {"total": total, "items": items}


@router.get("/api/enrollments/{number}", responses={410: {"description": "owners: use POST /api/enrollments/lookup"}})
async def get_enrollment(number: EnrollmentNo, request: Request, cat: CatalogueDep) -> dict[str, Any]:
    """Staff: the full record with its notes. The owner's lookup moved to POST /api/enrollments/lookup
    (the phone no longer goes in the URL, where proxies and access logs keep it)."""
    principal = await staff_of(request)
    if principal is None:
        raise HTTPException(status.HTTP_410_GONE, detail=LOOKUP_MOVED)
    principal = await require_sales(request)  # a 403 for staff of other roles

    def read() -> dict[str, Any]:
        with request.app.state.db.transaction() as session:
            enrollment = sales.get_enrollment(session, number)
            if enrollment is None:
                raise HTTPException(status.HTTP_404_NOT_FOUND, detail=NOT_FOUND)
            out = _shown(
                enrollment_out(cat, enrollment, staff=True),
                enrollment,
                principal,
                _names(session, [enrollment.assignee_id]),
            )
            out["notes"] = _notes_out(sales.notes_of(session, "enrollment", enrollment.id))
            audit.record(session, principal, "enrollment_read", "enrollment", enrollment.number)
            return out

    return await run_in_threadpool(read)


@router.patch("/api/enrollments/{number}")
def change_enrollment(
    number: EnrollmentNo, body: Change, request: Request, cat: CatalogueDep, principal: Sales
) -> dict[str, Any]:
    if body.status is not None and body.status not in ENROLLMENT_STATUSES:
        raise reject("status", f"状态只能是 {' / '.join(ENROLLMENT_STATUSES)}。")
    with request.app.state.db.transaction() as session:
        enrollment = sales.get_enrollment(session, number)
        if enrollment is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail=NOT_FOUND)
        try:
            _apply(
                session, enrollment, body, principal, "enrollment", enrollment.number, sales.change_enrollment_status
            )
        except sales.StatusChangeRefused as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, detail=exc.detail) from None
        session.flush()
        return _shown(
            enrollment_out(cat, enrollment, staff=True),
            enrollment,
            principal,
            _names(session, [enrollment.assignee_id]),
        )


@router.post("/api/enrollments/{number}/notes", status_code=status.HTTP_201_CREATED)
def note_enrollment(number: EnrollmentNo, body: NoteRequest, request: Request, principal: Sales) -> dict[str, Any]:
    with request.app.state.db.transaction() as session:
        enrollment = sales.get_enrollment(session, number)
        if enrollment is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail=NOT_FOUND)
        return _add_note(session, principal, "enrollment", enrollment.id, enrollment.number, body.text)


def _add_note(session, principal: StaffPrincipal, kind: str, subject_id: int, key: str, text: str) -> dict[str, Any]:
    try:
        note = sales.add_note(session, kind, subject_id, text, principal.account_id, principal.display_name)
    except ValueError as exc:
        raise reject("text", str(exc)) from None
    audit.record(session, principal, "note_added", kind, key, f"{len(note.text)} 字")  # the text stays in the note
    return _notes_out([note])[0]


@router.get("/api/enrollments/{number}/conversation")
async def enrollment_conversation(number: EnrollmentNo, request: Request, principal: Sales) -> dict[str, Any]:
    def _sender() -> str | None:
        with request.app.state.db.transaction(write=False) as session:
            enrollment = sales.get_enrollment(session, number)
            if enrollment is None:
                raise HTTPException(status.HTTP_404_NOT_FOUND, detail=NOT_FOUND)
            return enrollment.sender

    return await _record_conversation(request, principal, "enrollment", number, await run_in_threadpool(_sender))


# -- leads ------------------------------------------------------------------------------------------


@router.get("/api/leads")
def staff_list_leads(
    request: Request,
    cat: CatalogueDep,
    principal: Sales,
    f: FiltersDep,
    status_: LeadStatus = None,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=1_000_000),
) -> dict[str, Any]:
    with request.app.state.db.transaction() as session:
        rows, total = _lead_query(session, principal, f, status_, limit, offset)
        names = _names(session, [lead.assignee_id for lead in rows])
        items = [_shown(lead_out(cat, lead), lead, principal, names) for lead in rows]
        audit.record(session, principal, "leads_read", "leads", None, f"{len(items)}/{total} 条，{f.words(status_)}")
        return {"total": total, "items": items}


def _lead(session, lead_id: int) -> Lead:
    lead = session.get(Lead, lead_id)
    if lead is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=LEAD_NOT_FOUND)
    return lead


@router.get("/api/leads/{lead_id}")
def get_lead(lead_id: LeadId, request: Request, cat: CatalogueDep, principal: Sales) -> dict[str, Any]:
    with request.app.state.db.transaction() as session:
        lead = _lead(session, lead_id)
        out = _shown(lead_out(cat, lead), lead, principal, _names(session, [lead.assignee_id]))
        out["notes"] = _notes_out(sales.notes_of(session, "lead", lead.id))
        audit.record(session, principal, "lead_read", "lead", lead.id)
        return out


@router.patch("/api/leads/{lead_id}")
def change_lead(lead_id: LeadId, body: Change, request: Request, cat: CatalogueDep, principal: Sales) -> dict[str, Any]:
    if body.status is not None and body.status not in LEAD_STATUSES:
        raise reject("status", f"状态只能是 {' / '.join(LEAD_STATUSES)}。")
    with request.app.state.db.transaction() as session:
        lead = _lead(session, lead_id)
        _apply(session, lead, body, principal, "lead", str(lead.id), sales.change_lead_status)
        session.flush()
        return _shown(lead_out(cat, lead), lead, principal, _names(session, [lead.assignee_id]))


@router.post("/api/leads/{lead_id}/notes", status_code=status.HTTP_201_CREATED)
def note_lead(lead_id: LeadId, body: NoteRequest, request: Request, principal: Sales) -> dict[str, Any]:
    with request.app.state.db.transaction() as session:
        lead = _lead(session, lead_id)
        return _add_note(session, principal, "lead", lead.id, str(lead.id), body.text)


@router.get("/api/leads/{lead_id}/conversation")
async def lead_conversation(lead_id: LeadId, request: Request, principal: Sales) -> dict[str, Any]:
    def _sender() -> str | None:
        with request.app.state.db.transaction(write=False) as session:
            return _lead(session, lead_id).sender

    return await _record_conversation(request, principal, "lead", lead_id, await run_in_threadpool(_sender))


@router.get("/api/staff/consultants")
def consultants(request: Request, _: Sales) -> dict[str, Any]:
    """Who a record can be assigned to: active course consultants and admins."""
    with request.app.state.db.transaction(write=False) as session:
        rows = session.scalars(
            select(StaffAccount)
            .where(StaffAccount.active.is_(True), StaffAccount.role.in_((SALES, ADMIN)))
            .order_by(StaffAccount.role.desc(), StaffAccount.display_name)
        ).all()
        return {"items": [{"id": a.id, "name": a.display_name, "username": a.username} for a in rows]}


# -- exports (admin) --------------------------------------------------------------------------------


def _csv(text: str, filename: str) -> Response:
    return Response(
        text.encode("utf-8-sig"),
        media_type="text/csv; charset=utf-8",  # BOM: Excel reads UTF-8
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/api/staff/exports/enrollments.csv", response_class=Response)
def export_enrollments(
    request: Request,
    cat: CatalogueDep,
    principal: Admin,
    f: FiltersDep,
    status_: EnrollmentStatus = None,
    package: str | None = Query(None, max_length=50),
) -> Response:
    with request.app.state.db.transaction() as session:
        rows, total = _enrollment_query(session, cat, principal, f, status_, package, None, None, EXPORT_MAX_ROWS, 0)
        names = _names(session, [e.assignee_id for e in rows])
        text = exports.enrollments_csv(
            cat, rows, names, sales.notes_by_subject(session, "enrollment", [e.id for e in rows])
        )
        audit.record(session, principal, "export", "enrollments", None, f"{len(rows)}/{total} 条，{f.words(status_)}")
    return _csv(text, "enrollments.csv")


@router.get("/api/staff/exports/leads.csv", response_class=Response)
def export_leads(
    request: Request, cat: CatalogueDep, principal: Admin, f: FiltersDep, status_: LeadStatus = None
) -> Response:
    with request.app.state.db.transaction() as session:
        rows, total = _lead_query(session, principal, f, status_, EXPORT_MAX_ROWS, 0)
        names = _names(session, [lead.assignee_id for lead in rows])
        text = exports.leads_csv(cat, rows, names, sales.notes_by_subject(session, "lead", [lead.id for lead in rows]))
        audit.record(session, principal, "export", "leads", None, f"{len(rows)}/{total} 条，{f.words(status_)}")
    return _csv(text, "leads.csv")
