"""flex market webhooks: subscriptions and published events

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-22 10:00:00

A branch of its own on 0001 (the Flex Market market tables are 0002, also on 0001); the
server upgrades to ``heads``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import flexhub.store.base

revision: str = "0003"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "fm_subscriptions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("events", JSON, nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created", flexhub.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("modified", flexhub.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["partners.id"],
            name=op.f("fk_fm_subscriptions_tenant_id_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fm_subscriptions")),
    )
    with op.batch_alter_table("fm_subscriptions", schema=None) as batch_op:
        batch_op.create_index("ix_fm_subscriptions_tenant", ["tenant_id", "created"], unique=False)

    op.create_table(
        "fm_events",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("data", JSON, nullable=False),
        sa.Column("created", flexhub.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["partners.id"],
            name=op.f("fk_fm_events_tenant_id_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fm_events")),
    )
    with op.batch_alter_table("fm_events", schema=None) as batch_op:
        batch_op.create_index("ix_fm_events_tenant_created", ["tenant_id", "created"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("fm_events", schema=None) as batch_op:
        batch_op.drop_index("ix_fm_events_tenant_created")
    op.drop_table("fm_events")
    with op.batch_alter_table("fm_subscriptions", schema=None) as batch_op:
        batch_op.drop_index("ix_fm_subscriptions_tenant")
    op.drop_table("fm_subscriptions")
