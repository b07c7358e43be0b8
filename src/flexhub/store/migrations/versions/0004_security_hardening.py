"""security hardening: token versions, webhook failure tracking, retention indexes

Revision ID: 0004
Revises: 0002, 0003
Create Date: 2026-12-02 00:02:19.742722

Merges the two heads. ``partners.token_version`` (raised to revoke a partner's tokens);
``failing_since`` on both subscription tables (webhooks failing for days are disabled);
indexes for the delivery-log retention sweep. Energy Coordination webhook secrets are encrypted
by the platform at its next start (it holds the key), not here.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import flexhub.store.base

revision: str = "0004"
down_revision: str | None = ("0002", "0003")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("delivery_attempts", schema=None) as batch_op:
        batch_op.create_index("ix_delivery_attempts_attempted_at", ["attempted_at"], unique=False)

    with op.batch_alter_table("ec_webhooks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("failing_since", flexhub.store.base.UTCDateTime(timezone=True), nullable=True)
        )

    with op.batch_alter_table("fm_subscriptions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("failing_since", flexhub.store.base.UTCDateTime(timezone=True), nullable=True)
        )

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_completed", ["completed_at"], unique=False)

    with op.batch_alter_table("partners", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("token_version", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("partners", schema=None) as batch_op:
        batch_op.drop_column("token_version")

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_completed")

    with op.batch_alter_table("fm_subscriptions", schema=None) as batch_op:
        batch_op.drop_column("failing_since")

    with op.batch_alter_table("ec_webhooks", schema=None) as batch_op:
        batch_op.drop_column("failing_since")

    with op.batch_alter_table("delivery_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_delivery_attempts_attempted_at")
