"""velocity: each measure's positive durations in order, over all leads and per source
(partial indexes on funnel_times), so a median or p90 is read at its rank, not sorted

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-25 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

MEASURES = (
    *(
        f"in_{name}"
        for name in (
            "inquiry",
            "nurture",
            "marketing_qualified",
            "sales_accepted",
            "sales_qualified",
            "opportunity",
            "won",
            "lost",
            "recycled",
            "disqualified",
        )
    ),
    "speed_to_lead",
    "time_to_accept",
    "to_sales_ready",
)


def _indexes() -> list[tuple[str, list[str], sa.TextClause]]:
    """(name, columns, where) of each index, as ``tables._velocity_indexes`` declares them."""
    found = []
    for measure in MEASURES:
        where = sa.text(f"{measure} IS NOT NULL")
        found.append((f"ix_funnel_times_{measure}", [measure, "first_at"], where))
        found.append((f"ix_funnel_times_source_{measure}", ["source", measure, "first_at"], where))
    return found


def upgrade() -> None:
    with op.batch_alter_table("funnel_times", schema=None) as batch_op:
        for name, columns, where in _indexes():
            batch_op.create_index(
                name, columns, unique=False, sqlite_where=where, postgresql_where=where
            )


def downgrade() -> None:
    with op.batch_alter_table("funnel_times", schema=None) as batch_op:
        for name, _, _ in reversed(_indexes()):
            batch_op.drop_index(name)
