"""the indexes behind the nurture page: open enrollments by track and step, and by track
and due time; touches the contact policy held back, by time (each covering its queries)

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-24 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

OPEN = sa.text("status NOT IN ('finished', 'exited')")  # active or paused
HELD = sa.text("status IN ('deferred', 'skipped')")
ENROLLMENT_INDEXES = (
    ("ix_enrollments_open_track_step", ["track", "step", "due_at", "id", "status"]),
    ("ix_enrollments_open_track_due", ["track", "due_at", "id", "step", "status"]),
)


def upgrade() -> None:
    with op.batch_alter_table("enrollments", schema=None) as batch_op:
        for name, columns in ENROLLMENT_INDEXES:
            batch_op.create_index(
                name, columns, unique=False, sqlite_where=OPEN, postgresql_where=OPEN
            )
    with op.batch_alter_table("touches", schema=None) as batch_op:
        batch_op.create_index(
            "ix_touches_held_at",
            ["at", "status", "reason", "person_id"],
            unique=False,
            sqlite_where=HELD,
            postgresql_where=HELD,
        )


def downgrade() -> None:
    with op.batch_alter_table("touches", schema=None) as batch_op:
        batch_op.drop_index("ix_touches_held_at")
    with op.batch_alter_table("enrollments", schema=None) as batch_op:
        for name, _ in reversed(ENROLLMENT_INDEXES):
            batch_op.drop_index(name)
