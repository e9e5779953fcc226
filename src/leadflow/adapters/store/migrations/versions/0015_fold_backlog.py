"""fold_backlog: the events a server logged without folding them into the reports' rows
yet (SQLite), folded by the next reader or writer of those rows

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-24 04:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fold_backlog",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("after", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fold_backlog")),
    )


def downgrade() -> None:
    op.drop_table("fold_backlog")
