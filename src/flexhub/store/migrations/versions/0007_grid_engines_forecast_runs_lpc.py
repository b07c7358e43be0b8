"""grid engines: imported forecast needs, price-curve runs, LPC requests and targets

forecast_needs (hourly need per neighbourhood, overriding the built-in forecast),
price_curve_runs (one row per local day and neighbourhood: what was sent, sent once),
lpc_requests and lpc_targets (power-limit requests and each target's acknowledgement).

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-02 04:29:24.747121
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import flexhub.store.base

revision: str = "0007"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "lpc_requests",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("payload_type", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("neighbourhood_id", sa.String(length=64), nullable=True),
        sa.Column("deadline", flexhub.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", flexhub.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lpc_requests")),
    )
    with op.batch_alter_table("lpc_requests", schema=None) as batch_op:
        batch_op.create_index("ix_lpc_requests_created", ["created_at"], unique=False)

    op.create_table(
        "price_curve_runs",
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("neighbourhood_id", sa.String(length=64), nullable=False),
        sa.Column("price_area", sa.String(length=8), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("need_hours", sa.Integer(), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("targets", sa.Integer(), nullable=False),
        sa.Column("created_at", flexhub.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("day", "neighbourhood_id", name=op.f("pk_price_curve_runs")),
    )
    with op.batch_alter_table("price_curve_runs", schema=None) as batch_op:
        batch_op.create_index("ix_price_curve_runs_created", ["created_at"], unique=False)

    op.create_table(
        "forecast_needs",
        sa.Column("neighbourhood_id", sa.String(length=64), nullable=False),
        sa.Column("hour", flexhub.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("need_kw", sa.Float(), nullable=False),
        sa.Column("imported_at", flexhub.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["neighbourhood_id"],
            ["neighbourhoods.id"],
            name=op.f("fk_forecast_needs_neighbourhood_id_neighbourhoods"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("neighbourhood_id", "hour", name=op.f("pk_forecast_needs")),
    )
    op.create_table(
        "lpc_targets",
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("location_id", sa.String(length=200), nullable=False),
        sa.Column("meter_point_id", sa.String(length=200), nullable=False),
        sa.Column("resource_id", sa.String(length=200), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("report_id", sa.String(length=36), nullable=True),
        sa.Column("updated_at", flexhub.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["lpc_requests.id"],
            name=op.f("fk_lpc_targets_request_id_lpc_requests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["partners.id"],
            name=op.f("fk_lpc_targets_tenant_id_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("request_id", "position", name=op.f("pk_lpc_targets")),
    )
    with op.batch_alter_table("lpc_targets", schema=None) as batch_op:
        batch_op.create_index("ix_lpc_targets_event", ["tenant_id", "event_id"], unique=False)
        batch_op.create_index("ix_lpc_targets_state", ["state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("lpc_targets", schema=None) as batch_op:
        batch_op.drop_index("ix_lpc_targets_state")
        batch_op.drop_index("ix_lpc_targets_event")

    op.drop_table("lpc_targets")
    op.drop_table("forecast_needs")
    with op.batch_alter_table("price_curve_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_price_curve_runs_created")

    op.drop_table("price_curve_runs")
    with op.batch_alter_table("lpc_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_lpc_requests_created")

    op.drop_table("lpc_requests")
