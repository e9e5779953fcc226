"""nurture: enrollments, touches, preferences, tasks

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = sa.DateTime(timezone=True)


def _person(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["person_id"], ["people.id"], name=op.f(f"fk_{table}_person_id_people")
    )


def upgrade() -> None:
    op.create_table(
        "enrollments",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("person_id", Id, nullable=False),
        sa.Column("track", sa.String(length=100), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("due_at", When, nullable=True),
        sa.Column("entered_at", When, nullable=False),
        sa.Column("last_step_at", When, nullable=True),
        sa.Column("exited_at", When, nullable=True),
        sa.Column("exit_reason", sa.String(length=100), nullable=True),
        _person("enrollments"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrollments")),
    )
    with op.batch_alter_table("enrollments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_enrollments_person_id"), ["person_id"])
        batch_op.create_index("ix_enrollments_status_due_at", ["status", "due_at"])
    op.create_table(
        "touches",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("person_id", Id, nullable=False),
        sa.Column("at", When, nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("side", sa.String(length=10), nullable=False),
        sa.Column("stage", sa.String(length=60), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("track", sa.String(length=100), nullable=True),
        sa.Column("step", sa.Integer(), nullable=True),
        sa.Column("subject", sa.String(length=500), nullable=True),
        sa.Column("token", sa.String(length=40), nullable=True),
        sa.Column("links", sa.JSON(), nullable=True),
        _person("touches"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_touches")),
        sa.UniqueConstraint("token", name=op.f("uq_touches_token")),
    )
    with op.batch_alter_table("touches", schema=None) as batch_op:
        batch_op.create_index("ix_touches_person_id_at", ["person_id", "at"])
    op.create_table(
        "preferences",
        sa.Column("person_id", Id, nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("opted_out", sa.Boolean(), nullable=False),
        sa.Column("at", When, nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        _person("preferences"),
        sa.PrimaryKeyConstraint("person_id", "channel", name=op.f("pk_preferences")),
    )
    op.create_table(
        "tasks",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("person_id", Id, nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("due_at", When, nullable=False),
        sa.Column("created_at", When, nullable=False),
        sa.Column("done_at", When, nullable=True),
        sa.Column("by", sa.String(length=200), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("track", sa.String(length=100), nullable=True),
        _person("tasks"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
    )
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tasks_person_id"), ["person_id"])
        batch_op.create_index("ix_tasks_status_due_at", ["status", "due_at"])


def downgrade() -> None:
    op.drop_table("tasks")
    op.drop_table("preferences")
    op.drop_table("touches")
    op.drop_table("enrollments")
