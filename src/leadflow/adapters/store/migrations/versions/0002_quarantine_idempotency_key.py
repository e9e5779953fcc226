"""quarantine items keep the idempotency key of the request that made them

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 09:25:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.add_column(sa.Column("idempotency_key", sa.String(length=200), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_quarantine_idempotency_key"), ["idempotency_key"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quarantine_idempotency_key"))
        batch_op.drop_column("idempotency_key")
