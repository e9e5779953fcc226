"""the lifecycle's indexes hold only the rows their lists read

A lead in nurture has no team, owner or deadline, yet every capture wrote it into seven
indexes: each an extra page in the write-ahead log of every capture. Now the indexes
behind a rep's queue, a team's board and its deadlines are partial (rows with an owner,
a team, a deadline), and ``ix_lifecycle_owner_rep_id`` goes: ``(owner_rep_id,
accept_due)`` serves every query it served.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23 14:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

PARTIAL = (
    ("ix_lifecycle_owner_accept_due", ["owner_rep_id", "accept_due"], "owner_rep_id"),
    ("ix_lifecycle_team_owner_stage", ["team", "owner_rep_id", "stage"], "team"),
    ("ix_lifecycle_team_accept_due", ["team", "accept_due"], "accept_due"),
    ("ix_lifecycle_team_contact_due", ["team", "contact_due"], "contact_due"),
)


def upgrade() -> None:
    with op.batch_alter_table("lifecycle", schema=None) as batch_op:
        batch_op.drop_index("ix_lifecycle_owner_rep_id")
        for name, columns, present in PARTIAL:
            where = sa.text(f"{present} IS NOT NULL")
            batch_op.drop_index(name)
            batch_op.create_index(name, columns, sqlite_where=where, postgresql_where=where)


def downgrade() -> None:
    with op.batch_alter_table("lifecycle", schema=None) as batch_op:
        for name, columns, _ in reversed(PARTIAL):
            batch_op.drop_index(name)
            batch_op.create_index(name, columns)
        batch_op.create_index("ix_lifecycle_owner_rep_id", ["owner_rep_id"])
