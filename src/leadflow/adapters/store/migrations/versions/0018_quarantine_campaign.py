"""quarantine campaign: the campaign an inquiry was given beside its fields (an import's
--campaign, the API's envelope), so that a replay captures it under the same campaign

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-24 23:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("quarantine") as batch:
        batch.add_column(sa.Column("campaign", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("quarantine") as batch:
        batch.drop_column("campaign")
