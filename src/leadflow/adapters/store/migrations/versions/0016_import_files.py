"""import files: which file an import read (inquiries or activities; name, SHA-256), its
rows, how many it took and when it finished, so a file is not imported twice and a
stopped import resumes

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-24 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("imports") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(length=20), server_default="inquiries", nullable=False)
        )
        batch.add_column(sa.Column("file", sa.String(length=1000), nullable=True))
        batch.add_column(sa.Column("checksum", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("rows", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("taken", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(op.f("ix_imports_checksum"), "imports", ["checksum"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_imports_checksum"), table_name="imports")
    with op.batch_alter_table("imports") as batch:
        for column in ("finished_at", "taken", "rows", "checksum", "file", "kind"):
            batch.drop_column(column)
