"""import runner: the campaign an import gave its rows, and which process imports it and
when that process last committed rows, so that an import still running is not resumed
or repeated by another

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-24 19:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("imports") as batch:
        batch.add_column(sa.Column("campaign", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("runner", sa.String(length=300), nullable=True))
        batch.add_column(sa.Column("seen_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("imports") as batch:
        for column in ("seen_at", "runner", "campaign"):
            batch.drop_column(column)
