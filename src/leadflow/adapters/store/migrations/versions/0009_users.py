"""users for the web pages, site_secrets; the indexes behind the web's lists

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = sa.DateTime(timezone=True)
HELD = sa.text("recontact_on IS NOT NULL")
LIFECYCLE_INDEXES = (
    ("ix_lifecycle_owner_accept_due", ["owner_rep_id", "accept_due"]),
    ("ix_lifecycle_team_owner_stage", ["team", "owner_rep_id", "stage"]),
    ("ix_lifecycle_team_accept_due", ["team", "accept_due"]),
    ("ix_lifecycle_team_contact_due", ["team", "contact_due"]),
)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("rep_id", Id, nullable=True),
        sa.Column("team", sa.String(length=100), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", When, nullable=False),
        sa.Column("updated_at", When, nullable=False),
        sa.ForeignKeyConstraint(["rep_id"], ["reps.id"], name=op.f("fk_users_rep_id_reps")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_rep_id"), ["rep_id"], unique=False)
    op.create_table(
        "site_secrets",
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("created_at", When, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_site_secrets")),
    )
    with op.batch_alter_table("lifecycle", schema=None) as batch_op:
        for name, columns in LIFECYCLE_INDEXES:
            batch_op.create_index(name, columns, unique=False)
        batch_op.create_index(
            "ix_lifecycle_held_stage_since",
            ["stage_since"],
            unique=False,
            sqlite_where=HELD,
            postgresql_where=HELD,
        )
    with op.batch_alter_table("inquiries", schema=None) as batch_op:
        batch_op.create_index("ix_inquiries_source_id", ["source", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("inquiries", schema=None) as batch_op:
        batch_op.drop_index("ix_inquiries_source_id")
    with op.batch_alter_table("lifecycle", schema=None) as batch_op:
        batch_op.drop_index("ix_lifecycle_held_stage_since")
        for name, _ in reversed(LIFECYCLE_INDEXES):
            batch_op.drop_index(name)
    op.drop_table("site_secrets")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_rep_id"))
    op.drop_table("users")
