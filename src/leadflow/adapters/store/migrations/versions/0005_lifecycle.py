"""lifecycle: stage, owner and deadlines per lead; timers; round-robin turns; account owners

Revision ID: 0005
Revises: 0003
Create Date: 2026-11-23 11:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0003"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("reps", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("last_turn", sa.BigInteger(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner_rep_id", Id, nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_accounts_owner_rep_id_reps"), "reps", ["owner_rep_id"], ["id"]
        )
    op.create_table(
        "lifecycle",
        sa.Column("person_id", Id, nullable=False),
        sa.Column("stage", sa.String(length=60), nullable=False),
        sa.Column("stage_since", When, nullable=False),
        sa.Column("side", sa.String(length=10), nullable=False),
        sa.Column("team", sa.String(length=100), nullable=True),
        sa.Column("owner_rep_id", Id, nullable=True),
        sa.Column("sales_ready_at", When, nullable=True),
        sa.Column("routed_at", When, nullable=True),
        sa.Column("accepted_at", When, nullable=True),
        sa.Column("first_contact_at", When, nullable=True),
        sa.Column("accept_due", When, nullable=True),
        sa.Column("contact_due", When, nullable=True),
        sa.Column("reason", sa.String(length=100), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recontact_on", sa.Date(), nullable=True),
        sa.Column("updated_at", When, nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_rep_id"], ["reps.id"], name=op.f("fk_lifecycle_owner_rep_id_reps")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_lifecycle_person_id_people")
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_lifecycle")),
    )
    with op.batch_alter_table("lifecycle", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lifecycle_owner_rep_id"), ["owner_rep_id"])
        batch_op.create_index("ix_lifecycle_stage", ["stage"])
    op.create_table(
        "timers",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("person_id", Id, nullable=False),
        sa.Column("due_at", When, nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("done_at", When, nullable=True),
        sa.Column("worker", sa.String(length=100), nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_timers_person_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_timers")),
    )
    with op.batch_alter_table("timers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_timers_person_id"), ["person_id"])
        batch_op.create_index("ix_timers_status_due_at", ["status", "due_at"])


def downgrade() -> None:
    op.drop_table("timers")
    op.drop_table("lifecycle")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_accounts_owner_rep_id_reps"), type_="foreignkey")
        batch_op.drop_column("owner_rep_id")
    with op.batch_alter_table("reps", schema=None) as batch_op:
        batch_op.drop_column("last_turn")
