"""Energy Coordination tables: users, locations, meters, resources, enrollment, neighbourhoods,
events, reports and webhook subscriptions. Ids are partner-assigned and unique per partner."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from flexhub.clock import utcnow
from flexhub.store.base import Base, JSONType, UTCDateTime

ID = String(200)


def tenant_fk() -> ForeignKey:
    return ForeignKey("partners.id", ondelete="CASCADE")


class EcUser(Base):
    __tablename__ = "ec_users"

    tenant_id: Mapped[str] = mapped_column(String(64), tenant_fk(), primary_key=True)
    user_id: Mapped[str] = mapped_column(ID, primary_key=True)
    eligible: Mapped[bool] = mapped_column(Boolean, default=False)
    simulated: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # what the partner's last UserEligibility event said of the user (False: never told) and
    # when ``eligible`` last flipped; the eligibility cycle announces users where they differ
    announced: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    eligibility_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    __table_args__ = (
        Index("ix_ec_users_tenant_created", "tenant_id", "created_at", "user_id"),
        Index(
            "ix_ec_users_unannounced",
            "tenant_id",
            postgresql_where=text("eligible <> announced"),
            sqlite_where=text("eligible <> announced"),
        ),
    )


class EcLocation(Base):
    __tablename__ = "ec_locations"

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    location_id: Mapped[str] = mapped_column(ID, primary_key=True)
    user_id: Mapped[str] = mapped_column(ID)
    location_type: Mapped[str] = mapped_column(String(32), default="Unknown")
    latitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    longitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    simulated: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    modified_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "user_id"],
            ["ec_users.tenant_id", "ec_users.user_id"],
            ondelete="CASCADE",
        ),
        Index("ix_ec_locations_user", "tenant_id", "user_id"),
    )


class EcLocationMeter(Base):
    """A meter point id registered on a location; unique per partner."""

    __tablename__ = "ec_location_meters"

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    meter_point_id: Mapped[str] = mapped_column(ID, primary_key=True)
    location_id: Mapped[str] = mapped_column(ID)
    position: Mapped[int] = mapped_column(Integer, default=0)
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "location_id"],
            ["ec_locations.tenant_id", "ec_locations.location_id"],
            ondelete="CASCADE",
        ),
        Index("ix_ec_location_meters_location", "tenant_id", "location_id"),
    )


class EcResource(Base):
    __tablename__ = "ec_resources"

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    resource_id: Mapped[str] = mapped_column(ID, primary_key=True)
    user_id: Mapped[str] = mapped_column(ID)
    location_id: Mapped[str | None] = mapped_column(ID, nullable=True)  # None for vehicles
    resource_type: Mapped[str] = mapped_column(String(32))
    meter_point_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    simulated: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "user_id"],
            ["ec_users.tenant_id", "ec_users.user_id"],
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(
            ["tenant_id", "location_id"],
            ["ec_locations.tenant_id", "ec_locations.location_id"],
            ondelete="CASCADE",
        ),
        Index("ix_ec_resources_user", "tenant_id", "user_id"),
        Index("ix_ec_resources_location", "tenant_id", "location_id"),
    )


class EcEnrollment(Base):
    __tablename__ = "ec_enrollments"

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ID, primary_key=True)
    enrollment_id: Mapped[str] = mapped_column(String(36), unique=True)
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "user_id"],
            ["ec_users.tenant_id", "ec_users.user_id"],
            ondelete="CASCADE",
        ),
    )


class Neighbourhood(Base):
    """A grid area with a need for flexibility: a polygon and/or a set of meter points."""

    __tablename__ = "neighbourhoods"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    price_area: Mapped[str] = mapped_column(String(8))
    currency: Mapped[str] = mapped_column(String(3), default="NOK")
    # [[longitude, latitude], ...] closed ring (WGS84); None when defined by meters only
    polygon: Mapped[list[list[float]] | None] = mapped_column(JSONType, nullable=True)
    meter_point_ids: Mapped[list[str]] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The grid model (engines): a GeoJSON Polygon or MultiPolygon geometry (WGS84, holes
    # allowed; supersedes ``polygon`` when set), the IANA time zone of the local day, the
    # transformer's capacity, and optional solar/load parameters (kWp installed, households...).
    geometry: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    time_zone: Mapped[str] = mapped_column(String(64), default="Europe/Oslo")
    capacity_kw: Mapped[float | None] = mapped_column(Float, nullable=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class EcEligibilityGone(Base):
    """A user deleted while its partner's last UserEligibility event said it is eligible
    (written with the delete): the next cycle announces it removed. No foreign key to the
    user, which is gone."""

    __tablename__ = "ec_eligibility_gone"

    tenant_id: Mapped[str] = mapped_column(String(64), tenant_fk(), primary_key=True)
    user_id: Mapped[str] = mapped_column(ID, primary_key=True)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EligibilityCycle(Base):
    """One run of the eligibility cycle, claimed by inserting its start (the primary key): of
    several processes one inserts, the others find it taken."""

    __tablename__ = "eligibility_cycles"

    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    runner: Mapped[str] = mapped_column(String(64))
    ran_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    events: Mapped[int] = mapped_column(Integer, default=0)
    users: Mapped[int] = mapped_column(Integer, default=0)


class EcEvent(Base):
    __tablename__ = "ec_events"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64), tenant_fk())
    payload_type: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    # the payload as the wire serialiser writes it, from the model checked at creation: pages
    # are spliced from it (NULL for events stored before it existed: rendered from payload)
    wire: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    __table_args__ = (Index("ix_ec_events_tenant_created_id", "tenant_id", "created_at", "id"),)


class EcReport(Base):
    __tablename__ = "ec_reports"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64), tenant_fk())
    event_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    payloads: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    __table_args__ = (Index("ix_ec_reports_tenant_event", "tenant_id", "event_id"),)


class EcWebhook(Base):
    __tablename__ = "ec_webhooks"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64), tenant_fk())
    url: Mapped[str] = mapped_column(Text)
    name: Mapped[str | None] = mapped_column(String(400), nullable=True)
    secret: Mapped[str | None] = mapped_column(Text, nullable=True)  # encrypted (secretbox)
    notification_types: Mapped[list[str]] = mapped_column(JSONType, default=list)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(16), default="New")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    modified_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_analyzed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # the first failed attempt since the last success (None while deliveries succeed)
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    __table_args__ = (Index("ix_ec_webhooks_tenant", "tenant_id"),)
