"""eligibility batching

A user's eligibility flips are stored on the user at once; ``announced`` keeps what the
partner's last UserEligibility event said (users stored before this were told at once, so it
starts as their ``eligible``), and the eligibility cycle announces where the two differ, with
deleted users in ``ec_eligibility_gone``. ``eligibility_cycles`` records each cycle, its start
being the claim of one process.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 05:19:17.143376
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import flexhub.store.base

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "eligibility_cycles",
        sa.Column("starts_at", flexhub.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("runner", sa.String(length=64), nullable=False),
        sa.Column("ran_at", flexhub.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("users", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("starts_at", name=op.f("pk_eligibility_cycles")),
    )
    op.create_table(
        "ec_eligibility_gone",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=200), nullable=False),
        sa.Column("changed_at", flexhub.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["partners.id"],
            name=op.f("fk_ec_eligibility_gone_tenant_id_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "user_id", name=op.f("pk_ec_eligibility_gone")),
    )
    with op.batch_alter_table("ec_users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("announced", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "eligibility_changed_at",
                flexhub.store.base.UTCDateTime(timezone=True),
                nullable=True,
            )
        )
    # users stored before batching were told of each flip at once
    op.execute(sa.text("UPDATE ec_users SET announced = eligible"))
    with op.batch_alter_table("ec_users", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ec_users_unannounced",
            ["tenant_id"],
            unique=False,
            postgresql_where=sa.text("eligible <> announced"),
            sqlite_where=sa.text("eligible <> announced"),
        )


def downgrade() -> None:
    with op.batch_alter_table("ec_users", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_ec_users_unannounced",
            postgresql_where=sa.text("eligible <> announced"),
            sqlite_where=sa.text("eligible <> announced"),
        )
        batch_op.drop_column("eligibility_changed_at")
        batch_op.drop_column("announced")

    op.drop_table("ec_eligibility_gone")
    op.drop_table("eligibility_cycles")
