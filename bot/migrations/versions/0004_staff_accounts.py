"""Staff accounts with roles, their sessions, the audit log, notes, assignees and the hand-off queue.

New tables: staff_accounts, staff_sessions (sha256 of each cookie's token), audit_log, staff_notes
(what a consultant noted on an enrollment or a lead), handoff_messages (what a person tells the user
of a hand-off). Enrollments and leads get an assignee; hand-offs who took them and when, and a
status check (open = waiting, taken, closed).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _account_fk(table: str, column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], ["staff_accounts.id"], ondelete="SET NULL", name=op.f(f"fk_{table}_{column}_staff_accounts")
    )


def upgrade() -> None:
    op.create_table(
        "staff_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=32), nullable=False),
        sa.Column("display_name", sa.String(length=30), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("must_change_password", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("role IN ('support', 'sales', 'admin')", name=op.f("ck_staff_accounts_role")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_accounts")),
        sa.UniqueConstraint("username", name=op.f("uq_staff_accounts_username")),
    )

    op.create_table(
        "staff_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["staff_accounts.id"],
            ondelete="CASCADE",
            name=op.f("fk_staff_sessions_account_id_staff_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_sessions")),
    )
    for column in ("account_id", "expires_at"):
        op.create_index(op.f(f"ix_staff_sessions_{column}"), "staff_sessions", [column])

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("target_kind", sa.String(length=16), nullable=True),
        sa.Column("target_id", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        _account_fk("audit_log", "account_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    for column in ("created_at", "account_id", "action"):
        op.create_index(op.f(f"ix_audit_log_{column}"), "audit_log", [column])
    op.create_index(op.f("ix_audit_log_target_kind_target_id"), "audit_log", ["target_kind", "target_id"])

    op.create_table(
        "staff_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_kind", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("subject_kind IN ('enrollment', 'lead')", name=op.f("ck_staff_notes_subject_kind")),
        _account_fk("staff_notes", "author_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_notes")),
    )
    op.create_index(op.f("ix_staff_notes_subject_kind_subject_id"), "staff_notes", ["subject_kind", "subject_id"])

    for table in ("enrollments", "leads"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("assignee_id", sa.Integer(), nullable=True))
            batch.create_foreign_key(
                op.f(f"fk_{table}_assignee_id_staff_accounts"),
                "staff_accounts",
                ["assignee_id"],
                ["id"],
                ondelete="SET NULL",
            )
            batch.create_index(op.f(f"ix_{table}_assignee_id"), ["assignee_id"])

    with op.batch_alter_table("handoffs") as batch:
        batch.add_column(sa.Column("taken_by_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("taken_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_foreign_key(
            op.f("fk_handoffs_taken_by_id_staff_accounts"),
            "staff_accounts",
            ["taken_by_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_check_constraint(op.f("ck_handoffs_status"), "status IN ('open', 'taken', 'closed')")
        batch.create_index(op.f("ix_handoffs_sender"), ["sender"])

    op.create_table(
        "handoff_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("handoff_id", sa.Integer(), nullable=False),
        sa.Column("sender", sa.String(length=128), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("delivered", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["handoff_id"], ["handoffs.id"], ondelete="CASCADE", name=op.f("fk_handoff_messages_handoff_id_handoffs")
        ),
        _account_fk("handoff_messages", "author_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handoff_messages")),
    )
    for column in ("sender", "handoff_id"):
        op.create_index(op.f(f"ix_handoff_messages_{column}"), "handoff_messages", [column])


def downgrade() -> None:
    op.drop_table("handoff_messages")
    with op.batch_alter_table("handoffs") as batch:
        batch.drop_index(op.f("ix_handoffs_sender"))
        batch.drop_constraint(op.f("ck_handoffs_status"), type_="check")
        batch.drop_constraint(op.f("fk_handoffs_taken_by_id_staff_accounts"), type_="foreignkey")
        for column in ("closed_at", "taken_at", "taken_by_id"):
            batch.drop_column(column)
    for table in ("leads", "enrollments"):
        with op.batch_alter_table(table) as batch:
            batch.drop_index(op.f(f"ix_{table}_assignee_id"))
            batch.drop_constraint(op.f(f"fk_{table}_assignee_id_staff_accounts"), type_="foreignkey")
            batch.drop_column("assignee_id")
    op.drop_table("staff_notes")
    op.drop_table("audit_log")
    op.drop_table("staff_sessions")
    op.drop_table("staff_accounts")
