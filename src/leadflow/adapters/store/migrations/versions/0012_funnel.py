"""reports: the funnel projection, hand-backs, inquiries by external id

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-24 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
STAGES = (
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


def _epoch(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger(), nullable=True)


def upgrade() -> None:
    op.create_table(
        "funnel",
        sa.Column("person_id", Id, nullable=False),
        _epoch("first_at"),
        sa.Column("month", sa.String(length=7), nullable=True),
        sa.Column("source", sa.String(length=200), nullable=True),
        sa.Column("campaign", sa.String(length=200), nullable=True),
        sa.Column("form_key", sa.String(length=64), nullable=True),
        sa.Column("inquiries", sa.Integer(), nullable=False),
        sa.Column("grade", sa.String(length=20), nullable=True),
        sa.Column("route", sa.String(length=20), nullable=True),
        sa.Column("missing", sa.Text(), nullable=True),
        sa.Column("unanswered", sa.Text(), nullable=True),
        sa.Column("stage_type", sa.String(length=30), nullable=True),
        _epoch("stage_since"),
        *(_epoch(f"reached_{name}") for name in STAGES),
        *(_epoch(f"seconds_{name}") for name in STAGES),
        _epoch("ready_at"),
        _epoch("routed_at"),
        _epoch("last_routed_at"),
        sa.Column("rep_id", Id, nullable=True),
        _epoch("accepted_at"),
        _epoch("last_accepted_at"),
        _epoch("contacted_at"),
        sa.Column("handbacks", sa.Integer(), nullable=False),
        _epoch("opportunity_at"),
        sa.Column("opportunity_value", sa.Float(), nullable=True),
        sa.Column("outcome", sa.String(length=10), nullable=True),
        _epoch("outcome_at"),
        sa.Column("outcome_value", sa.Float(), nullable=True),
        sa.Column("outcome_reason", sa.String(length=200), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_funnel_person_id_people")
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_funnel")),
    )
    op.create_table(
        "funnel_times",
        sa.Column("person_id", Id, nullable=False),
        _epoch("first_at"),
        sa.Column("source", sa.String(length=200), nullable=True),
        sa.Column("campaign", sa.String(length=200), nullable=True),
        sa.Column("form_key", sa.String(length=64), nullable=True),
        sa.Column("rep_id", Id, nullable=True),
        sa.Column("grade", sa.String(length=20), nullable=True),
        sa.Column("month", sa.String(length=7), nullable=True),
        *(_epoch(f"in_{name}") for name in STAGES),
        _epoch("speed_to_lead"),
        _epoch("time_to_accept"),
        _epoch("to_sales_ready"),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_funnel_times_person_id_people")
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_funnel_times")),
    )
    counted = (
        "leads",
        "inquiries",
        *(f"reached_{name}" for name in STAGES),
        *(f"both_{name}" for name in STAGES[1:7]),
        "ready",
        "routed",
        "accepted",
        "handed_back",
        "won",
        "lost",
        *(f"zero_in_{name}" for name in STAGES),
        "zero_speed_to_lead",
        "zero_time_to_accept",
        "zero_to_sales_ready",
    )
    op.create_table(
        "funnel_counts",
        sa.Column("dim", sa.String(length=10), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        *(sa.Column(name, sa.BigInteger(), nullable=False) for name in counted),
        sa.Column("revenue", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("dim", "key", "day", name=op.f("pk_funnel_counts")),
    )
    op.create_table(
        "gap_counts",
        sa.Column("dim", sa.String(length=10), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=100), nullable=False),
        sa.Column("unanswered", sa.BigInteger(), nullable=False),
        sa.Column("missing", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("dim", "key", "day", "field", name=op.f("pk_gap_counts")),
    )
    op.create_table(
        "handbacks",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("person_id", Id, nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.String(length=100), nullable=True),
        sa.Column("rep_id", Id, nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_handbacks_person_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handbacks")),
    )
    with op.batch_alter_table("handbacks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_handbacks_person_id"), ["person_id"])
    with op.batch_alter_table("inquiries", schema=None) as batch_op:
        batch_op.create_index("ix_inquiries_external_id", ["external_id"])


def downgrade() -> None:
    with op.batch_alter_table("inquiries", schema=None) as batch_op:
        batch_op.drop_index("ix_inquiries_external_id")
    op.drop_table("funnel_times")
    op.drop_table("gap_counts")
    op.drop_table("funnel_counts")
    op.drop_table("handbacks")
    op.drop_table("funnel")
