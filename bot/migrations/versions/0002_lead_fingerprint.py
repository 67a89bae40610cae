"""Leads: the fingerprint an Idempotency-Key is bound to (sender and content).

A lead's key replays the stored lead only for the same request; leads stored before this
revision keep NULL and are matched on sender, name and mobile (bot/sales.py).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("leads") as batch:
        batch.add_column(sa.Column("fingerprint", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("leads") as batch:
        batch.drop_column("fingerprint")
