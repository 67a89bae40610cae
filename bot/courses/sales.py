"""Enrollments and callback leads: idempotent storage, and the staff pipeline's queries.

No HTTP here (bot/routes/enrollments.py, leads.py and pipeline.py are the web layer) and no
commit: the caller owns the transaction, so a request writes everything or nothing. What a user
typed is checked before it gets here (bot/courses/contact.py, bot/courses/schemas.py).

Duplicates. An enrollment is never created twice for
- the same `Idempotency-Key` (a client retrying a request): the stored enrollment is returned
  only to the same request again (same sender, name, mobile, package and subjects, the
  `fingerprint`); the same key with another sender or other content is refused
  (IdempotencyConflict), so a key never hands one person's record to another;
- the same sender submitting the same enrollment (mobile + package + subjects) while the first
  one is not cancelled (`dedup_key`, a unique column released on cancellation).
Both are unique columns, so two requests racing each other still produce one row: the loser's
INSERT fails inside a SAVEPOINT and it returns the winner's row.

Leads follow the same key rule. A sender asking again for a call-back on the same number while
the first request is open replaces that request with the new one (never another sender's).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.courses.contact import SEPARATORS
from bot.courses.pricing import Quote
from bot.models import ENROLLMENT_STATUSES, LEAD_STATUSES, Enrollment, Lead, StaffNote, utcnow

CHINA = ZoneInfo("Asia/Shanghai")

_NUMBER_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read over the phone
# 8 of 32 characters: 2^40 numbers a day, so that numbers cannot be swept even with a known phone
# (the owner lookup is also throttled, bot/lookup_throttle.py). Numbers of 4 written before stay valid.
NUMBER_CHARS = 8

ENROLLMENT_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "new": ("contacted", "paid", "cancelled"),
    "contacted": ("paid", "cancelled"),
    "paid": ("cancelled",),
    "cancelled": (),
}
STATUS_LABELS = {"new": "待联系", "contacted": "已联系", "paid": "已付款", "cancelled": "已取消", "closed": "已结束"}


class IdempotencyConflict(Exception):
    """The Idempotency-Key was already used for a different request (other content or another sender)."""


class StatusChangeRefused(Exception):
    def __init__(self, current: str, wanted: str):
        super().__init__(f"{current} -> {wanted}")
        self.current, self.wanted = current, wanted

    @property
    def detail(self) -> str:
        allowed = "、".join(f"“{STATUS_LABELS[s]}”" for s in ENROLLMENT_TRANSITIONS.get(self.current, ()))
        text = f"报名状态不能从“{STATUS_LABELS[self.current]}”改为“{STATUS_LABELS[self.wanted]}”。"
        return text + (f"当前只能改为{allowed}。" if allowed else "已取消的报名不能再更改，请重新报名。")


# -- enrollments --------------------------------------------------------------------------------


@dataclass(frozen=True)
class EnrollmentInput:
    name: str
    mobile: str
    quote: Quote
    sender: str | None = None
    channel: str | None = None


def _digest(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def _fingerprint(data: EnrollmentInput) -> str:
    """What an Idempotency-Key is bound to: who sent it and everything they typed or chose."""
    return _digest(
        "enrollment/2",
        data.sender,
        data.name,
        data.mobile,
        data.quote.package.id,
        sorted(s.id for s in data.quote.subjects),
    )


def _same_request(existing: Enrollment, data: EnrollmentInput) -> bool:
    if existing.fingerprint == _fingerprint(data):
        return True
    # Rows written before the fingerprint covered sender and name: their retries still succeed.
    legacy = _digest(data.mobile, data.quote.package.id, sorted(s.id for s in data.quote.subjects))
    return existing.fingerprint == legacy and existing.sender == data.sender and existing.name == data.name


def _dedup_key(data: EnrollmentInput) -> str | None:
    if not data.sender:
        return None
    return _digest(
        "enrollment", data.sender, data.mobile, data.quote.package.id, sorted(s.id for s in data.quote.subjects)
    )


def new_enrollment_number(now: datetime | None = None) -> str:
    day = (now or utcnow()).astimezone(CHINA)
    return f"EN{day:%Y%m%d}-" + "".join(secrets.choice(_NUMBER_ALPHABET) for _ in range(NUMBER_CHARS))


def quote_record(quote: Quote) -> dict:
    """The quote as stored with the enrollment and shown back to owner and staff."""
    return {
        "lines": [
            {"kind": line.kind, "label": line.label, "subjects": list(line.subject_ids), "price": line.price}
            for line in quote.lines
        ],
        "total": quote.total,
        "singles_total": quote.singles_total,
        "full_applied": quote.full_applied,
        "notes": list(quote.notes),
    }


def _existing_enrollment(session: Session, key: str | None, dedup: str | None) -> Enrollment | None:
    if key:
        found = session.scalar(select(Enrollment).where(Enrollment.idempotency_key == key))
        if found is not None:
            return found
    if dedup:
        return session.scalar(select(Enrollment).where(Enrollment.dedup_key == dedup))
    return None


def create_enrollment(session: Session, data: EnrollmentInput, idempotency_key: str | None) -> tuple[Enrollment, bool]:
    """(enrollment, created). Raises IdempotencyConflict for a reused key with other content."""
    fingerprint, dedup = _fingerprint(data), _dedup_key(data)
    for _attempt in range(8):
        existing = _existing_enrollment(session, idempotency_key, dedup)
        if existing is not None:
            if idempotency_key and existing.idempotency_key == idempotency_key and not _same_request(existing, data):
                raise IdempotencyConflict(idempotency_key)
            return existing, False
        enrollment = Enrollment(
            number=new_enrollment_number(),
            name=data.name,
            mobile=data.mobile,
            package_id=data.quote.package.id,
            subject_ids=[s.id for s in data.quote.subjects],
            price=data.quote.total,
            quote=quote_record(data.quote),
            sender=data.sender,
            channel=data.channel,
            status="new",
            idempotency_key=idempotency_key,
            fingerprint=fingerprint,
            dedup_key=dedup,
        )
        try:
            with session.begin_nested():
                session.add(enrollment)
        except IntegrityError:
            # Another request won the race for the key, or the number was taken: look again.
            continue
        return enrollment, True
    raise RuntimeError("could not allocate an enrollment number")


def get_enrollment(session: Session, number: str) -> Enrollment | None:
    return session.scalar(select(Enrollment).where(Enrollment.number == number.strip().upper()))


def china_day_range(date_from: date | None, date_to: date | None) -> tuple[datetime | None, datetime | None]:
    """Calendar days in China time -> [start, end) in UTC."""
    start = datetime.combine(date_from, time.min, CHINA).astimezone(timezone.utc) if date_from else None
    end = datetime.combine(date_to + timedelta(days=1), time.min, CHINA).astimezone(timezone.utc) if date_to else None
    return start, end


def within_china_days(query, column, date_from: date | None, date_to: date | None):
    """`query` limited to the rows whose `column` falls on those calendar days in China time."""
    start, end = china_day_range(date_from, date_to)
    if start:
        query = query.where(column >= start)
    if end:
        query = query.where(column < end)
    return query


def newest_first_page(session: Session, query, model, limit: int, offset: int) -> tuple[list, int]:
    """One page of `query`'s rows, newest first, and how many rows there are in all."""
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(model.created_at.desc(), model.id.desc()).limit(limit).offset(offset))
    return list(rows), int(total or 0)


# -- the staff pipeline: search, assignee, notes ---------------------------------------------------

UNASSIGNED = 0  # assignee filter: nobody yet
NOTE_MAX_CHARS = 2000


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def search_clause(model, text: str, with_number: bool) -> ColumnElement[bool] | None:
    """What staff type in the search box: part of a name, 4+ digits of a phone, or (enrollments)
    part of an enrollment number."""
    text = text.strip()
    digits = SEPARATORS.sub("", unicodedata.normalize("NFKC", text)).lstrip("+")
    if digits.isdigit():  # a phone as people type it: 138 1234 5678, +86 138…
        text = digits
    if not text:
        return None
    clauses = [model.name.ilike(_like(text), escape="\\")]
    if text.isdigit() and len(text) >= 4:
        clauses.append(model.mobile.like(_like(text[-11:]), escape="\\"))
    if with_number:
        clauses.append(model.number.ilike(_like(text.upper()), escape="\\"))
    return or_(*clauses)


def _filtered(query, model, assignee_id: int | None, search: str | None, with_number: bool):
    if assignee_id == UNASSIGNED:
        query = query.where(model.assignee_id.is_(None))
    elif assignee_id is not None:
        query = query.where(model.assignee_id == assignee_id)
    clause = search_clause(model, search, with_number) if search else None
    return query.where(clause) if clause is not None else query


def add_note(session: Session, kind: str, subject_id: int, text: str, author_id: int | None, author: str) -> StaffNote:
    text = (text or "").strip()
    if not text:
        raise ValueError("备注内容不能为空。")
    if len(text) > NOTE_MAX_CHARS:
        raise ValueError(f"备注太长了（超过{NOTE_MAX_CHARS}字）。")
    note = StaffNote(subject_kind=kind, subject_id=subject_id, text=text, author_id=author_id, author=author)
    session.add(note)
    session.flush()
    return note


def notes_of(session: Session, kind: str, subject_id: int) -> list[StaffNote]:
    return list(
        session.scalars(
            select(StaffNote)
            .where(StaffNote.subject_kind == kind, StaffNote.subject_id == subject_id)
            .order_by(StaffNote.created_at.desc(), StaffNote.id.desc())
        )
    )


def notes_by_subject(session: Session, kind: str, subject_ids: list[int]) -> dict[int, list[StaffNote]]:
    """The notes of many records at once (for exports), newest first per record."""
    found: dict[int, list[StaffNote]] = {}
    for start in range(0, len(subject_ids), 500):  # bounded IN lists
        chunk = subject_ids[start : start + 500]
        for note in session.scalars(
            select(StaffNote)
            .where(StaffNote.subject_kind == kind, StaffNote.subject_id.in_(chunk))
            .order_by(StaffNote.created_at.desc(), StaffNote.id.desc())
        ):
            found.setdefault(note.subject_id, []).append(note)
    return found


def list_enrollments(
    session: Session,
    *,
    status: str | None = None,
    package_id: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    mobile: str | None = None,
    sender: str | None = None,
    assignee_id: int | None = None,
    search: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Enrollment], int]:
    query = _filtered(select(Enrollment), Enrollment, assignee_id, search, with_number=True)
    if status:
        query = query.where(Enrollment.status == status)
    if package_id:
        query = query.where(Enrollment.package_id == package_id)
    if mobile:
        query = query.where(Enrollment.mobile == mobile)
    if sender:
        query = query.where(Enrollment.sender == sender)
    query = within_china_days(query, Enrollment.created_at, date_from, date_to)
    return newest_first_page(session, query, Enrollment, limit, offset)


def change_enrollment_status(enrollment: Enrollment, status: str) -> None:
    if status not in ENROLLMENT_STATUSES:
        raise ValueError(status)
    if status == enrollment.status:
        return
    if status not in ENROLLMENT_TRANSITIONS[enrollment.status]:
        raise StatusChangeRefused(enrollment.status, status)
    enrollment.status = status
    if status == "cancelled":
        enrollment.dedup_key = None  # the same person may enroll again


# -- leads ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LeadInput:
    name: str
    mobile: str
    preferred_time: str | None = None
    question: str | None = None
    package_id: str | None = None
    subject_ids: tuple[str, ...] | None = None
    sender: str | None = None
    channel: str | None = None


_LEAD_FIELDS = ("name", "mobile", "preferred_time", "question", "package_id", "channel")


def _lead_fingerprint(data: LeadInput) -> str:
    return _digest("lead/1", data.sender, *(getattr(data, f) for f in _LEAD_FIELDS), list(data.subject_ids or ()))


def _replay_lead(existing: Lead, data: LeadInput, key: str) -> tuple[Lead, bool]:
    """The lead stored under `key`, for the request that stored it; anyone else gets IdempotencyConflict."""
    if existing.fingerprint is not None:
        same = existing.fingerprint == _lead_fingerprint(data)
    else:  # stored before leads had a fingerprint: at least the same person and number
        same = existing.sender == data.sender and existing.mobile == data.mobile and existing.name == data.name
    if not same:
        raise IdempotencyConflict(key)
    return existing, False


def create_lead(session: Session, data: LeadInput, idempotency_key: str | None) -> tuple[Lead, bool]:
    """(lead, created). A retry with the same key and content returns the stored lead (the same key
    with other content or another sender: IdempotencyConflict). The same sender asking again for a
    call-back on the same number while the first request is open replaces it with this request:
    what the person asked last is what the consultant sees, and nothing of the old one is kept."""
    if idempotency_key:
        existing = session.scalar(select(Lead).where(Lead.idempotency_key == idempotency_key))
        if existing is not None:
            return _replay_lead(existing, data, idempotency_key)
    if data.sender:
        existing = session.scalar(
            select(Lead)
            .where(Lead.sender == data.sender, Lead.mobile == data.mobile, Lead.status == "new")
            .order_by(Lead.id.desc())
            .limit(1)
        )
        if existing is not None:
            for attr in _LEAD_FIELDS:
                setattr(existing, attr, getattr(data, attr))
            existing.subject_ids = list(data.subject_ids) if data.subject_ids else None
            return existing, False
    lead = Lead(
        name=data.name,
        mobile=data.mobile,
        preferred_time=data.preferred_time,
        question=data.question,
        package_id=data.package_id,
        subject_ids=list(data.subject_ids) if data.subject_ids else None,
        sender=data.sender,
        channel=data.channel,
        status="new",
        idempotency_key=idempotency_key,
        fingerprint=_lead_fingerprint(data),
    )
    try:
        with session.begin_nested():
            session.add(lead)
    except IntegrityError:
        existing = session.scalar(select(Lead).where(Lead.idempotency_key == idempotency_key))
        if existing is None:
            raise
        return _replay_lead(existing, data, idempotency_key)
    return lead, True


def list_leads(
    session: Session,
    *,
    status: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    assignee_id: int | None = None,
    search: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Lead], int]:
    query = _filtered(select(Lead), Lead, assignee_id, search, with_number=False)
    if status:
        query = query.where(Lead.status == status)
    query = within_china_days(query, Lead.created_at, date_from, date_to)
    return newest_first_page(session, query, Lead, limit, offset)


def change_lead_status(lead: Lead, status: str) -> None:
    if status not in LEAD_STATUSES:
        raise ValueError(status)
    lead.status = status
