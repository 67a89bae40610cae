"""Unanswered questions: one row per normalised question, with its count and when it was last asked.

New columns: question_key (sha256 of the normalised question, unique), tokens (its retrieval
tokens, so the staff console need not normalise again), asks, last_seen, added_by (the sender
whose question created the row, for the per-sender cap). Rows stored before this revision keep a
NULL key (they are not normalised here: that needs the knowledge library); rows with the same
text are merged into one with their count, first and last time.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("unanswered") as batch:
        batch.add_column(sa.Column("question_key", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("tokens", sa.Text(), nullable=True))
        batch.add_column(sa.Column("asks", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("last_seen", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("added_by", sa.String(length=128), nullable=True))

    # Same text, one row: the newest keeps the sender (for the transcript link) and gets the totals.
    op.execute(
        "UPDATE unanswered SET "
        "asks = (SELECT COUNT(*) FROM unanswered AS u2 WHERE u2.question = unanswered.question), "
        "last_seen = (SELECT MAX(u2.created_at) FROM unanswered AS u2 WHERE u2.question = unanswered.question), "
        "created_at = (SELECT MIN(u2.created_at) FROM unanswered AS u2 WHERE u2.question = unanswered.question), "
        "added_by = sender"
    )
    op.execute("DELETE FROM unanswered WHERE id NOT IN (SELECT MAX(id) FROM unanswered GROUP BY question)")

    with op.batch_alter_table("unanswered") as batch:
        # A row written without it (by hand, or by an older bot/ during a rolling upgrade) was seen now.
        batch.alter_column(
            "last_seen",
            existing_type=sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("CURRENT_TIMESTAMP"),
        )
        batch.create_unique_constraint(op.f("uq_unanswered_question_key"), ["question_key"])
        batch.create_check_constraint(op.f("ck_unanswered_asks"), "asks >= 1")
        batch.create_index(op.f("ix_unanswered_last_seen"), ["last_seen"])
        batch.create_index(op.f("ix_unanswered_added_by"), ["added_by"])


def downgrade() -> None:
    with op.batch_alter_table("unanswered") as batch:
        batch.drop_index(op.f("ix_unanswered_added_by"))
        batch.drop_index(op.f("ix_unanswered_last_seen"))
        batch.drop_constraint(op.f("ck_unanswered_asks"), type_="check")
        batch.drop_constraint(op.f("uq_unanswered_question_key"), type_="unique")
        for column in ("added_by", "last_seen", "asks", "tokens", "question_key"):
            batch.drop_column(column)
