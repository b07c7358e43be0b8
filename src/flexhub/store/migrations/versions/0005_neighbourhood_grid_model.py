"""neighbourhood grid model

A neighbourhood gets a GeoJSON geometry (Polygon or MultiPolygon, holes allowed), the time
zone of its local day, its transformer capacity and its solar/load parameters.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 04:21:50.235148
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import flexhub.store.base

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("neighbourhoods", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "geometry",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=True,
            )
        )
        batch_op.add_column(
            sa.Column(
                "time_zone",
                sa.String(length=64),
                nullable=False,
                server_default="Europe/Oslo",
            )
        )
        batch_op.add_column(sa.Column("capacity_kw", sa.Float(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "params",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=False,
                server_default="{}",
            )
        )
        batch_op.add_column(
            sa.Column("updated_at", flexhub.store.base.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("neighbourhoods", schema=None) as batch_op:
        batch_op.drop_column("updated_at")
        batch_op.drop_column("params")
        batch_op.drop_column("capacity_kw")
        batch_op.drop_column("time_zone")
        batch_op.drop_column("geometry")
