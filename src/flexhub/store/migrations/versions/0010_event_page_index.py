"""event page index

``GET /events`` reads a partner's events newest first, ``ORDER BY created_at DESC, id DESC``;
the index on ``(tenant_id, created_at)`` gave the rows in ``created_at`` order only, so
PostgreSQL read every event of the partner that shares a ``created_at`` (a batch written in
one transaction shares one) and sorted them for each page. With ``id`` in the index, a page
is the index range's first rows, read in order.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 13:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ec_events") as batch:
        batch.create_index("ix_ec_events_tenant_created_id", ["tenant_id", "created_at", "id"])
        batch.drop_index("ix_ec_events_tenant_created")


def downgrade() -> None:
    with op.batch_alter_table("ec_events") as batch:
        batch.create_index("ix_ec_events_tenant_created", ["tenant_id", "created_at"])
        batch.drop_index("ix_ec_events_tenant_created_id")
