"""foundation: partners, energy coordination, outbox

Revision ID: 0001
Revises:
Create Date: 2026-11-21 21:01:38.407457
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import flexhub.store.base

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "delivery_attempts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("outbox_id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("subscription_id", sa.String(length=36), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("attempted_at", flexhub.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("timed_out", sa.Boolean(), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("signature", sa.Text(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("worker", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_attempts")),
    )
    with op.batch_alter_table("delivery_attempts", schema=None) as batch_op:
        batch_op.create_index("ix_delivery_attempts_outbox", ["outbox_id"], unique=False)
        batch_op.create_index(
            "ix_delivery_attempts_tenant", ["tenant_id", "channel", "attempted_at"], unique=False
        )

    op.create_table(
        "neighbourhoods",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("price_area", sa.String(length=8), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column(
            "polygon",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "meter_point_ids",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", flexhub.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_neighbourhoods")),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("subscription_id", sa.String(length=36), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", flexhub.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", flexhub.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", flexhub.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("completed_at", flexhub.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_due", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index("ix_outbox_subscription", ["subscription_id"], unique=False)

    op.create_table(
        "partners",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("secret_hash", sa.String(length=256), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", flexhub.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partners")),
        sa.UniqueConstraint("client_id", name=op.f("uq_partners_client_id")),
        sa.UniqueConstraint("name", name=op.f("uq_partners_name")),
    )
    op.create_table(
        "ec_events",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("payload_type", sa.String(length=32), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", flexhub.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["partners.id"],
            name=op.f("fk_ec_events_tenant_id_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ec_events")),
    )
    with op.batch_alter_table("ec_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ec_events_tenant_created", ["tenant_id", "created_at"], unique=False
        )

    op.create_table(
        "ec_reports",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.String(length=200), nullable=True),
        sa.Column(
            "payloads",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", flexhub.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["partners.id"],
            name=op.f("fk_ec_reports_tenant_id_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ec_reports")),
    )
    with op.batch_alter_table("ec_reports", schema=None) as batch_op:
        batch_op.create_index("ix_ec_reports_tenant_event", ["tenant_id", "event_id"], unique=False)

    op.create_table(
        "ec_users",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=200), nullable=False),
        sa.Column("eligible", sa.Boolean(), nullable=False),
        sa.Column("simulated", sa.Boolean(), nullable=False),
        sa.Column("created_at", flexhub.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["partners.id"],
            name=op.f("fk_ec_users_tenant_id_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "user_id", name=op.f("pk_ec_users")),
    )
    with op.batch_alter_table("ec_users", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ec_users_tenant_created", ["tenant_id", "created_at", "user_id"], unique=False
        )

    op.create_table(
        "ec_webhooks",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("name", sa.String(length=400), nullable=True),
        sa.Column("secret", sa.Text(), nullable=True),
        sa.Column(
            "notification_types",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", flexhub.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("modified_at", flexhub.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "last_analyzed_at", flexhub.store.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["partners.id"],
            name=op.f("fk_ec_webhooks_tenant_id_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ec_webhooks")),
    )
    with op.batch_alter_table("ec_webhooks", schema=None) as batch_op:
        batch_op.create_index("ix_ec_webhooks_tenant", ["tenant_id"], unique=False)

    op.create_table(
        "ec_enrollments",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=200), nullable=False),
        sa.Column("enrollment_id", sa.String(length=36), nullable=False),
        sa.Column("enrolled_at", flexhub.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "user_id"],
            ["ec_users.tenant_id", "ec_users.user_id"],
            name=op.f("fk_ec_enrollments_tenant_id_ec_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "user_id", name=op.f("pk_ec_enrollments")),
        sa.UniqueConstraint("enrollment_id", name=op.f("uq_ec_enrollments_enrollment_id")),
    )
    op.create_table(
        "ec_locations",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("location_id", sa.String(length=200), nullable=False),
        sa.Column("user_id", sa.String(length=200), nullable=False),
        sa.Column("location_type", sa.String(length=32), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("simulated", sa.Boolean(), nullable=False),
        sa.Column("created_at", flexhub.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("modified_at", flexhub.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "user_id"],
            ["ec_users.tenant_id", "ec_users.user_id"],
            name=op.f("fk_ec_locations_tenant_id_ec_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "location_id", name=op.f("pk_ec_locations")),
    )
    with op.batch_alter_table("ec_locations", schema=None) as batch_op:
        batch_op.create_index("ix_ec_locations_user", ["tenant_id", "user_id"], unique=False)

    op.create_table(
        "ec_location_meters",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("meter_point_id", sa.String(length=200), nullable=False),
        sa.Column("location_id", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "location_id"],
            ["ec_locations.tenant_id", "ec_locations.location_id"],
            name=op.f("fk_ec_location_meters_tenant_id_ec_locations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "meter_point_id", name=op.f("pk_ec_location_meters")),
    )
    with op.batch_alter_table("ec_location_meters", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ec_location_meters_location", ["tenant_id", "location_id"], unique=False
        )

    op.create_table(
        "ec_resources",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("resource_id", sa.String(length=200), nullable=False),
        sa.Column("user_id", sa.String(length=200), nullable=False),
        sa.Column("location_id", sa.String(length=200), nullable=True),
        sa.Column("resource_type", sa.String(length=32), nullable=False),
        sa.Column("meter_point_id", sa.String(length=200), nullable=True),
        sa.Column("simulated", sa.Boolean(), nullable=False),
        sa.Column("created_at", flexhub.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "location_id"],
            ["ec_locations.tenant_id", "ec_locations.location_id"],
            name=op.f("fk_ec_resources_tenant_id_ec_locations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "user_id"],
            ["ec_users.tenant_id", "ec_users.user_id"],
            name=op.f("fk_ec_resources_tenant_id_ec_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "resource_id", name=op.f("pk_ec_resources")),
    )
    with op.batch_alter_table("ec_resources", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ec_resources_location", ["tenant_id", "location_id"], unique=False
        )
        batch_op.create_index("ix_ec_resources_user", ["tenant_id", "user_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("ec_resources", schema=None) as batch_op:
        batch_op.drop_index("ix_ec_resources_user")
        batch_op.drop_index("ix_ec_resources_location")

    op.drop_table("ec_resources")
    with op.batch_alter_table("ec_location_meters", schema=None) as batch_op:
        batch_op.drop_index("ix_ec_location_meters_location")

    op.drop_table("ec_location_meters")
    with op.batch_alter_table("ec_locations", schema=None) as batch_op:
        batch_op.drop_index("ix_ec_locations_user")

    op.drop_table("ec_locations")
    op.drop_table("ec_enrollments")
    with op.batch_alter_table("ec_webhooks", schema=None) as batch_op:
        batch_op.drop_index("ix_ec_webhooks_tenant")

    op.drop_table("ec_webhooks")
    with op.batch_alter_table("ec_users", schema=None) as batch_op:
        batch_op.drop_index("ix_ec_users_tenant_created")

    op.drop_table("ec_users")
    with op.batch_alter_table("ec_reports", schema=None) as batch_op:
        batch_op.drop_index("ix_ec_reports_tenant_event")

    op.drop_table("ec_reports")
    with op.batch_alter_table("ec_events", schema=None) as batch_op:
        batch_op.drop_index("ix_ec_events_tenant_created")

    op.drop_table("ec_events")
    op.drop_table("partners")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_subscription")
        batch_op.drop_index("ix_outbox_due")

    op.drop_table("outbox")
    op.drop_table("neighbourhoods")
    with op.batch_alter_table("delivery_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_delivery_attempts_tenant")
        batch_op.drop_index("ix_delivery_attempts_outbox")

    op.drop_table("delivery_attempts")
