"""The registration backend's tables (SQLAlchemy 2 declarative models).

The schema itself is owned by the Alembic migrations in bot/migrations/versions/; a test checks
that these models and the migrations agree.

Enrollments and leads are written by the course-consultation conversation; feedback, handoffs
and unanswered are written by the channels (WeChat, web widget, staff console).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ENROLLMENT_STATUSES = ("new", "contacted", "paid", "cancelled")
LEAD_STATUSES = ("new", "contacted", "closed")
HANDOFF_STATUSES = ("open", "taken", "closed")  # open: waiting for a person
STAFF_ROLES = ("support", "sales", "admin")  # 客服, 课程顾问, 管理员 (bot/accounts.py)
NOTE_SUBJECTS = ("enrollment", "lead")

# Stable constraint names, so that migrations can refer to them on SQLite and PostgreSQL alike.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in and out, also on SQLite (which stores no time zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Enrollment(Base):
    __tablename__ = "enrollments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)  # EN20261124-7KQ3XM2P (4 characters before)
    name: Mapped[str] = mapped_column(String(30))
    mobile: Mapped[str] = mapped_column(String(11))  # 11 digits, normalised
    package_id: Mapped[str] = mapped_column(String(32))
    subject_ids: Mapped[list[str]] = mapped_column(JSON)  # catalogue order
    price: Mapped[int] = mapped_column(Integer)  # quoted total, whole yuan
    quote: Mapped[dict[str, Any]] = mapped_column(JSON)  # the quote lines the user confirmed
    sender: Mapped[str | None] = mapped_column(String(128))  # WeChat OpenID or web sender id
    channel: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="new")
    # A client's Idempotency-Key: the same key never creates a second enrollment.
    idempotency_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    # What the key was used for (sender and content), to refuse the same key for anything else.
    fingerprint: Mapped[str] = mapped_column(String(64))
    # sender + mobile + package + subjects while the enrollment is not cancelled: the same person
    # submitting the same enrollment again gets the existing one.
    dedup_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    # The course consultant who follows it up (NULL: nobody yet).
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff_accounts.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    __table_args__ = (
        CheckConstraint(_in("status", ENROLLMENT_STATUSES), name="status"),
        CheckConstraint("price >= 0", name="price"),
        Index(None, "status"),
        Index(None, "package_id"),
        Index(None, "created_at"),
        Index(None, "mobile"),
        Index(None, "sender"),
        Index(None, "assignee_id"),
    )


class Lead(Base):
    """A request to be called back by a course consultant."""

    __tablename__ = "leads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(30))
    mobile: Mapped[str] = mapped_column(String(11))
    preferred_time: Mapped[str | None] = mapped_column(String(50))
    question: Mapped[str | None] = mapped_column(Text)
    package_id: Mapped[str | None] = mapped_column(String(32))
    subject_ids: Mapped[list[str] | None] = mapped_column(JSON)
    sender: Mapped[str | None] = mapped_column(String(128))
    channel: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="new")
    idempotency_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    # Sender and content the key was used for (NULL: stored before migration 0002).
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff_accounts.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    __table_args__ = (
        CheckConstraint(_in("status", LEAD_STATUSES), name="status"),
        Index(None, "status"),
        Index(None, "created_at"),
        Index(None, "assignee_id"),
    )


class Feedback(Base):
    """A user's thumbs up / down on an answer."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sender: Mapped[str | None] = mapped_column(String(128))
    channel: Mapped[str | None] = mapped_column(String(32))
    question: Mapped[str | None] = mapped_column(Text)
    answer: Mapped[str | None] = mapped_column(Text)
    faq_id: Mapped[str | None] = mapped_column(String(64))
    rating: Mapped[int] = mapped_column(Integer)  # +1 / -1
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        CheckConstraint("rating IN (1, -1)", name="rating"),
        Index(None, "faq_id"),
        Index(None, "created_at"),
    )


class Handoff(Base):
    """A conversation handed to a person."""

    __tablename__ = "handoffs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sender: Mapped[str | None] = mapped_column(String(128))
    channel: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")  # HANDOFF_STATUSES
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    taken_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_accounts.id", ondelete="SET NULL"))
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint(_in("status", HANDOFF_STATUSES), name="status"),
        Index(None, "status"),
        Index(None, "created_at"),
        Index(None, "sender"),
    )


class HandoffMessage(Base):
    """What a person says to the user of a hand-off (the "a person has taken it" notice first); the
    widget fetches these, WeChat users get them through the customer-service message API."""

    __tablename__ = "handoff_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    handoff_id: Mapped[int] = mapped_column(ForeignKey("handoffs.id", ondelete="CASCADE"))
    sender: Mapped[str] = mapped_column(String(128))  # the user's conversation, to fetch by
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("staff_accounts.id", ondelete="SET NULL"))
    delivered: Mapped[bool] = mapped_column(Boolean, default=False)  # WeChat: the API accepted it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        Index(None, "sender"),
        Index(None, "handoff_id"),
    )


class Unanswered(Base):
    """A question the assistant declined or could only suggest answers for: one row per normalised
    question, with how often and when it was last asked (bot/unanswered_store.py bounds the table)."""

    __tablename__ = "unanswered"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sender: Mapped[str | None] = mapped_column(String(128))  # the most recent asker, to open a transcript
    channel: Mapped[str | None] = mapped_column(String(32))
    question: Mapped[str] = mapped_column(Text)  # the first wording, phone and ID numbers masked
    decision: Mapped[str | None] = mapped_column(String(16))  # decline | suggest
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)  # first asked
    # sha256 of the normalised question (NULL: stored before migration 0003, never merged into).
    question_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    # The normalised question's retrieval tokens, space-separated: the console groups rows without
    # normalising them again.
    tokens: Mapped[str | None] = mapped_column(Text)
    asks: Mapped[int] = mapped_column(Integer, default=1)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    added_by: Mapped[str | None] = mapped_column(String(128))  # the sender whose question created the row
    # The knowledge engine's best entries for the question with their fused scores, JSON
    # ({"gap:lost_certificate": 0.74, ...}); NULL until read. Groups questions by meaning (bot/unanswered.py).
    reading: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint("asks >= 1", name="asks"),
        Index(None, "created_at"),
        Index(None, "last_seen"),
        Index(None, "added_by"),
    )


class StaffAccount(Base):
    """One person working in the console, with one role (bot/accounts.py)."""

    __tablename__ = "staff_accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(32), unique=True)  # lower case
    display_name: Mapped[str] = mapped_column(String(30))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))  # argon2id, through pwdlib
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # A one-time password (set by an admin or `python -m bot.admin`) must be replaced at first login.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (CheckConstraint(_in("role", STAFF_ROLES), name="role"),)


class StaffSession(Base):
    """A logged-in browser. The cookie holds a random token; only its sha256 is stored here."""

    __tablename__ = "staff_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 hex of the cookie's token
    account_id: Mapped[int] = mapped_column(ForeignKey("staff_accounts.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())  # absolute end
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)  # idle end = this + idle limit

    __table_args__ = (
        Index(None, "account_id"),
        Index(None, "expires_at"),
    )


class AuditEntry(Base):
    """Who did what: every read of personal data and every change made through the staff API."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("staff_accounts.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(64))  # the username then (or the integration token)
    action: Mapped[str] = mapped_column(String(32))  # bot/audit.py ACTIONS
    target_kind: Mapped[str | None] = mapped_column(String(16))
    target_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)  # in words, phone numbers masked
    ip: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        Index(None, "created_at"),
        Index(None, "account_id"),
        Index(None, "action"),
        Index(None, "target_kind", "target_id"),
    )


class StaffNote(Base):
    """What a consultant noted about an enrollment or a lead (e.g. what the customer said on the phone)."""

    __tablename__ = "staff_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_kind: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[int] = mapped_column(Integer)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("staff_accounts.id", ondelete="SET NULL"))
    author: Mapped[str] = mapped_column(String(64))  # display name then
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        CheckConstraint(_in("subject_kind", NOTE_SUBJECTS), name="subject_kind"),
        Index(None, "subject_kind", "subject_id"),
    )
