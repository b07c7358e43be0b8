"""flex market: competitions, obligations, assets, availability, dispatches

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 21:09:03

A branch of its own on 0001 (the Flex Market webhook tables are 0003, also on 0001); the
server upgrades to ``heads``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import flexhub.store.base

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
UTC = flexhub.store.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "fm_assets",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("provider_tenant_id", sa.String(length=64), nullable=False),
        sa.Column("ref", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=400), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("asset_category", sa.String(length=64), nullable=True),
        sa.Column("asset_type", sa.String(length=64), nullable=True),
        sa.Column("voltage_level", sa.String(length=40), nullable=True),
        sa.Column("country_code", sa.String(length=2), nullable=True),
        sa.Column("postcode", sa.String(length=16), nullable=True),
        sa.Column("latitude", sa.String(length=40), nullable=True),
        sa.Column("longitude", sa.String(length=40), nullable=True),
        sa.Column("import_meter_id", sa.String(length=64), nullable=True),
        sa.Column("export_meter_id", sa.String(length=64), nullable=True),
        sa.Column("active_import_capacity", sa.String(length=40), nullable=True),
        sa.Column("active_export_capacity", sa.String(length=40), nullable=True),
        sa.Column("reactive_import_capacity", sa.String(length=40), nullable=True),
        sa.Column("reactive_export_capacity", sa.String(length=40), nullable=True),
        sa.Column("response_time_seconds", sa.Integer(), nullable=True),
        sa.Column("min_runtime_seconds", sa.Integer(), nullable=True),
        sa.Column("max_runtime_seconds", sa.Integer(), nullable=True),
        sa.Column("recovery_time_seconds", sa.Integer(), nullable=True),
        sa.Column("created", UTC, nullable=False),
        sa.Column("modified", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_tenant_id"],
            ["partners.id"],
            name=op.f("fk_fm_assets_provider_tenant_id_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fm_assets")),
        sa.UniqueConstraint("provider_tenant_id", "ref", name="uq_fm_assets_provider_ref"),
    )
    with op.batch_alter_table("fm_assets", schema=None) as batch_op:
        batch_op.create_index(
            "ix_fm_assets_provider_created", ["provider_tenant_id", "created"], unique=False
        )

    op.create_table(
        "fm_competitions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("so_tenant_id", sa.String(length=64), nullable=False),
        sa.Column("ref", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=400), nullable=False),
        sa.Column("awarded", sa.Boolean(), nullable=False),
        sa.Column("need_direction", sa.String(length=16), nullable=False),
        sa.Column("power_type", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("area", JSON, nullable=True),
        sa.Column("postcodes", JSON, nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("bank_holiday_dates", JSON, nullable=False),
        sa.Column("bidding_open", UTC, nullable=False),
        sa.Column("bidding_close", UTC, nullable=False),
        sa.Column("respond_within_seconds", sa.Integer(), nullable=False),
        sa.Column("created", UTC, nullable=False),
        sa.Column("modified", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["so_tenant_id"],
            ["partners.id"],
            name=op.f("fk_fm_competitions_so_tenant_id_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fm_competitions")),
        sa.UniqueConstraint("so_tenant_id", "ref", name="uq_fm_competitions_so_ref"),
    )
    with op.batch_alter_table("fm_competitions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_fm_competitions_so_created", ["so_tenant_id", "created"], unique=False
        )

    op.create_table(
        "fm_service_periods",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("competition_id", sa.String(length=36), nullable=False),
        sa.Column("so_tenant_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=400), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["competition_id"],
            ["fm_competitions.id"],
            name=op.f("fk_fm_service_periods_competition_id_fm_competitions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["so_tenant_id"],
            ["partners.id"],
            name=op.f("fk_fm_service_periods_so_tenant_id_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fm_service_periods")),
    )
    with op.batch_alter_table("fm_service_periods", schema=None) as batch_op:
        batch_op.create_index(
            "ix_fm_service_periods_competition", ["competition_id", "position"], unique=False
        )

    op.create_table(
        "fm_service_windows",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("period_id", sa.String(length=36), nullable=False),
        sa.Column("competition_id", sa.String(length=36), nullable=False),
        sa.Column("so_tenant_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=400), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("end_time", sa.Time(), nullable=False),
        sa.Column("service_days", JSON, nullable=False),
        sa.Column("bank_holidays", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["competition_id"],
            ["fm_competitions.id"],
            name=op.f("fk_fm_service_windows_competition_id_fm_competitions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["period_id"],
            ["fm_service_periods.id"],
            name=op.f("fk_fm_service_windows_period_id_fm_service_periods"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["so_tenant_id"],
            ["partners.id"],
            name=op.f("fk_fm_service_windows_so_tenant_id_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fm_service_windows")),
    )
    with op.batch_alter_table("fm_service_windows", schema=None) as batch_op:
        batch_op.create_index(
            "ix_fm_service_windows_period", ["period_id", "position"], unique=False
        )

    op.create_table(
        "fm_obligations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("so_tenant_id", sa.String(length=64), nullable=False),
        sa.Column("provider_tenant_id", sa.String(length=64), nullable=False),
        sa.Column("competition_id", sa.String(length=36), nullable=False),
        sa.Column("bid_id", sa.String(length=200), nullable=False),
        sa.Column("service_window_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.Column("starts_at", UTC, nullable=False),
        sa.Column("ends_at", UTC, nullable=False),
        sa.Column("service_days", JSON, nullable=False),
        sa.Column("bank_holidays", sa.String(length=16), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("end_time", sa.Time(), nullable=False),
        sa.Column("capacity", sa.String(length=40), nullable=False),
        sa.Column("max_runtime_seconds", sa.Integer(), nullable=True),
        sa.Column("need_direction", sa.String(length=16), nullable=False),
        sa.Column("rates", JSON, nullable=False),
        sa.Column("assets", JSON, nullable=False),
        sa.Column("created", UTC, nullable=False),
        sa.Column("modified", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["competition_id"],
            ["fm_competitions.id"],
            name=op.f("fk_fm_obligations_competition_id_fm_competitions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["provider_tenant_id"],
            ["partners.id"],
            name=op.f("fk_fm_obligations_provider_tenant_id_partners"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["service_window_id"],
            ["fm_service_windows.id"],
            name=op.f("fk_fm_obligations_service_window_id_fm_service_windows"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["so_tenant_id"],
            ["partners.id"],
            name=op.f("fk_fm_obligations_so_tenant_id_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fm_obligations")),
    )
    with op.batch_alter_table("fm_obligations", schema=None) as batch_op:
        batch_op.create_index("ix_fm_obligations_competition", ["competition_id"], unique=False)
        batch_op.create_index(
            "ix_fm_obligations_provider_created", ["provider_tenant_id", "created"], unique=False
        )
        batch_op.create_index(
            "ix_fm_obligations_so_created", ["so_tenant_id", "created"], unique=False
        )
        batch_op.create_index(
            "ix_fm_obligations_status_starts_at", ["status", "starts_at"], unique=False
        )
        batch_op.create_index(
            "ix_fm_obligations_status_ends_at", ["status", "ends_at"], unique=False
        )

    op.create_table(
        "fm_availability_variations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("obligation_id", sa.String(length=36), nullable=False),
        sa.Column("provider_tenant_id", sa.String(length=64), nullable=False),
        sa.Column("so_tenant_id", sa.String(length=64), nullable=False),
        sa.Column("start", UTC, nullable=False),
        sa.Column("end", UTC, nullable=False),
        sa.Column("available_capacity", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["obligation_id"],
            ["fm_obligations.id"],
            name=op.f("fk_fm_availability_variations_obligation_id_fm_obligations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["provider_tenant_id"],
            ["partners.id"],
            name=op.f("fk_fm_availability_variations_provider_tenant_id_partners"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["so_tenant_id"],
            ["partners.id"],
            name=op.f("fk_fm_availability_variations_so_tenant_id_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fm_availability_variations")),
    )
    with op.batch_alter_table("fm_availability_variations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_fm_availability_variations_obligation", ["obligation_id", "start"], unique=False
        )
        batch_op.create_index(
            "ix_fm_availability_variations_so_created", ["so_tenant_id", "created"], unique=False
        )

    op.create_table(
        "fm_dispatch_instructions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("so_tenant_id", sa.String(length=64), nullable=False),
        sa.Column("provider_tenant_id", sa.String(length=64), nullable=False),
        sa.Column("obligation_id", sa.String(length=36), nullable=False),
        sa.Column("competition_id", sa.String(length=36), nullable=False),
        sa.Column("so_reference", sa.String(length=200), nullable=False),
        sa.Column("instruction_type", sa.String(length=16), nullable=False),
        sa.Column("stops", sa.String(length=36), nullable=True),
        sa.Column("stopped_by", sa.String(length=36), nullable=True),
        sa.Column("start", UTC, nullable=False),
        sa.Column("end", UTC, nullable=False),
        sa.Column("ends_at", UTC, nullable=False),
        sa.Column("capacity", sa.String(length=40), nullable=False),
        sa.Column("need_direction", sa.String(length=16), nullable=False),
        sa.Column("power_type", sa.String(length=16), nullable=False),
        sa.Column("asset_ids", JSON, nullable=False),
        sa.Column("signed_fields", JSON, nullable=False),
        sa.Column("signature", sa.Text(), nullable=True),
        sa.Column("signature_algorithm", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("respond_by", UTC, nullable=True),
        sa.Column("responded_at", UTC, nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("exceeds_declared_availability", sa.Boolean(), nullable=False),
        sa.Column("created", UTC, nullable=False),
        sa.Column("modified", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["competition_id"],
            ["fm_competitions.id"],
            name=op.f("fk_fm_dispatch_instructions_competition_id_fm_competitions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["obligation_id"],
            ["fm_obligations.id"],
            name=op.f("fk_fm_dispatch_instructions_obligation_id_fm_obligations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["provider_tenant_id"],
            ["partners.id"],
            name=op.f("fk_fm_dispatch_instructions_provider_tenant_id_partners"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["so_tenant_id"],
            ["partners.id"],
            name=op.f("fk_fm_dispatch_instructions_so_tenant_id_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fm_dispatch_instructions")),
        sa.UniqueConstraint("so_tenant_id", "so_reference", name="uq_fm_dispatch_so_reference"),
    )
    with op.batch_alter_table("fm_dispatch_instructions", schema=None) as batch_op:
        batch_op.create_index("ix_fm_dispatch_obligation", ["obligation_id", "start"], unique=False)
        batch_op.create_index(
            "ix_fm_dispatch_provider_created", ["provider_tenant_id", "created"], unique=False
        )
        batch_op.create_index(
            "ix_fm_dispatch_so_created", ["so_tenant_id", "created"], unique=False
        )
        batch_op.create_index("ix_fm_dispatch_status_ends_at", ["status", "ends_at"], unique=False)
        batch_op.create_index(
            "ix_fm_dispatch_status_respond_by", ["status", "respond_by"], unique=False
        )


def downgrade() -> None:
    for table in (
        "fm_dispatch_instructions",
        "fm_availability_variations",
        "fm_obligations",
        "fm_service_windows",
        "fm_service_periods",
        "fm_competitions",
        "fm_assets",
    ):
        op.drop_table(table)
