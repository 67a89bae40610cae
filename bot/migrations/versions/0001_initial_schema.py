"""Initial schema: enrollments and leads (course sales); feedback, handoffs, unanswered (channels).

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "enrollments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=30), nullable=False),
        sa.Column("mobile", sa.String(length=11), nullable=False),
        sa.Column("package_id", sa.String(length=32), nullable=False),
        sa.Column("subject_ids", sa.JSON(), nullable=False),
        sa.Column("price", sa.Integer(), nullable=False),
        sa.Column("quote", sa.JSON(), nullable=False),
        sa.Column("sender", sa.String(length=128), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("idempotency_key", sa.String(length=128), nullable=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("dedup_key", sa.String(length=64), nullable=True),
        *_timestamps(),
        sa.CheckConstraint("status IN ('new', 'contacted', 'paid', 'cancelled')", name=op.f("ck_enrollments_status")),
        sa.CheckConstraint("price >= 0", name=op.f("ck_enrollments_price")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrollments")),
        sa.UniqueConstraint("number", name=op.f("uq_enrollments_number")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_enrollments_idempotency_key")),
        sa.UniqueConstraint("dedup_key", name=op.f("uq_enrollments_dedup_key")),
    )
    for column in ("status", "package_id", "created_at", "mobile", "sender"):
        op.create_index(op.f(f"ix_enrollments_{column}"), "enrollments", [column])

    op.create_table(
        "leads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=30), nullable=False),
        sa.Column("mobile", sa.String(length=11), nullable=False),
        sa.Column("preferred_time", sa.String(length=50), nullable=True),
        sa.Column("question", sa.Text(), nullable=True),
        sa.Column("package_id", sa.String(length=32), nullable=True),
        sa.Column("subject_ids", sa.JSON(), nullable=True),
        sa.Column("sender", sa.String(length=128), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("idempotency_key", sa.String(length=128), nullable=True),
        *_timestamps(),
        sa.CheckConstraint("status IN ('new', 'contacted', 'closed')", name=op.f("ck_leads_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leads")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_leads_idempotency_key")),
    )
    for column in ("status", "created_at"):
        op.create_index(op.f(f"ix_leads_{column}"), "leads", [column])

    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sender", sa.String(length=128), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("question", sa.Text(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("faq_id", sa.String(length=64), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("rating IN (1, -1)", name=op.f("ck_feedback_rating")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback")),
    )
    for column in ("faq_id", "created_at"):
        op.create_index(op.f(f"ix_feedback_{column}"), "feedback", [column])

    op.create_table(
        "handoffs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sender", sa.String(length=128), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handoffs")),
    )
    for column in ("status", "created_at"):
        op.create_index(op.f(f"ix_handoffs_{column}"), "handoffs", [column])

    op.create_table(
        "unanswered",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sender", sa.String(length=128), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unanswered")),
    )
    op.create_index(op.f("ix_unanswered_created_at"), "unanswered", ["created_at"])


def downgrade() -> None:
    for table in ("unanswered", "handoffs", "feedback", "leads", "enrollments"):
        op.drop_table(table)
