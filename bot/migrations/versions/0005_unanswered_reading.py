"""Unanswered questions keep the knowledge engine's reading of them, to group them by meaning.

New column: reading (JSON: the engine's best entries, FAQ items, gaps and document sections, with
their fused scores, as the question was declined). Rows stored before this revision have none; the
staff console reads them once with the knowledge index and stores the result
(bot/routes/unanswered.py). First seen is `created_at`, which the store sets when a question is
first asked and never moves (0003 merged duplicates with their earliest time).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("unanswered") as batch:
        batch.add_column(sa.Column("reading", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("unanswered") as batch:
        batch.drop_column("reading")
