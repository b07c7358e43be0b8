"""Flex Market tables: competitions (with service periods and windows), obligations, assets,
availability variations and dispatch instructions.

Every row names its owning tenant(s): ``so_tenant_id`` (the system operator that opened the
competition) and/or ``provider_tenant_id`` (the flex provider). Quantities are kept as the exact
decimal strings that were given (no float rounding on any backend); durations as seconds.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from flexhub.clock import utcnow
from flexhub.store.base import Base, JSONType, UTCDateTime

ID = String(36)
TENANT = String(64)
DECIMAL = String(40)  # an exact decimal string, validated by the service


def tenant_fk() -> ForeignKey:
    return ForeignKey("partners.id", ondelete="CASCADE")


class FmCompetition(Base):
    __tablename__ = "fm_competitions"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    so_tenant_id: Mapped[str] = mapped_column(TENANT, tenant_fk())
    ref: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(400))
    awarded: Mapped[bool] = mapped_column(Boolean, default=False)  # else status follows dates
    need_direction: Mapped[str] = mapped_column(String(16))
    power_type: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))
    area: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)  # GeoJSON
    postcodes: Mapped[list[str]] = mapped_column(JSONType, default=list)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    bank_holiday_dates: Mapped[list[str]] = mapped_column(JSONType, default=list)
    bidding_open: Mapped[datetime] = mapped_column(UTCDateTime)
    bidding_close: Mapped[datetime] = mapped_column(UTCDateTime)
    respond_within_seconds: Mapped[int] = mapped_column(Integer, default=3600)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    modified: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    __table_args__ = (
        UniqueConstraint("so_tenant_id", "ref", name="uq_fm_competitions_so_ref"),
        Index("ix_fm_competitions_so_created", "so_tenant_id", "created"),
    )


class FmServicePeriod(Base):
    __tablename__ = "fm_service_periods"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    competition_id: Mapped[str] = mapped_column(
        ID, ForeignKey("fm_competitions.id", ondelete="CASCADE")
    )
    so_tenant_id: Mapped[str] = mapped_column(TENANT, tenant_fk())
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(400))
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date] = mapped_column(Date)  # exclusive
    __table_args__ = (Index("ix_fm_service_periods_competition", "competition_id", "position"),)


class FmServiceWindow(Base):
    """Daily times on the service days of a period; ``end_time <= start_time`` runs past
    midnight into the next day (equal times: a whole day)."""

    __tablename__ = "fm_service_windows"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    period_id: Mapped[str] = mapped_column(
        ID, ForeignKey("fm_service_periods.id", ondelete="CASCADE")
    )
    competition_id: Mapped[str] = mapped_column(
        ID, ForeignKey("fm_competitions.id", ondelete="CASCADE")
    )
    so_tenant_id: Mapped[str] = mapped_column(TENANT, tenant_fk())
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(400))
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)
    service_days: Mapped[list[str]] = mapped_column(JSONType)
    bank_holidays: Mapped[str] = mapped_column(String(16))  # included | excluded
    __table_args__ = (Index("ix_fm_service_windows_period", "period_id", "position"),)


class FmObligation(Base):
    __tablename__ = "fm_obligations"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    so_tenant_id: Mapped[str] = mapped_column(TENANT, tenant_fk())
    provider_tenant_id: Mapped[str] = mapped_column(TENANT, tenant_fk())
    competition_id: Mapped[str] = mapped_column(
        ID, ForeignKey("fm_competitions.id", ondelete="CASCADE")
    )
    bid_id: Mapped[str] = mapped_column(String(200))
    service_window_id: Mapped[str] = mapped_column(
        ID, ForeignKey("fm_service_windows.id", ondelete="CASCADE")
    )
    status: Mapped[str] = mapped_column(String(16), default="awarded")
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date] = mapped_column(Date)  # exclusive
    # the local midnights of start and end in the competition's timezone, as UTC instants
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    service_days: Mapped[list[str]] = mapped_column(JSONType)
    bank_holidays: Mapped[str] = mapped_column(String(16))
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)
    capacity: Mapped[str] = mapped_column(DECIMAL)  # MW
    max_runtime_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)
    need_direction: Mapped[str] = mapped_column(String(16))
    rates: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    assets: Mapped[dict[str, list[str]]] = mapped_column(JSONType)  # {"flex": [], "planned": []}
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    modified: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    __table_args__ = (
        Index("ix_fm_obligations_provider_created", "provider_tenant_id", "created"),
        Index("ix_fm_obligations_so_created", "so_tenant_id", "created"),
        Index("ix_fm_obligations_competition", "competition_id"),
        Index("ix_fm_obligations_status_starts_at", "status", "starts_at"),
        Index("ix_fm_obligations_status_ends_at", "status", "ends_at"),
    )


class FmAsset(Base):
    __tablename__ = "fm_assets"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    provider_tenant_id: Mapped[str] = mapped_column(TENANT, tenant_fk())
    ref: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(400))
    status: Mapped[str] = mapped_column(String(32), default="in_development")
    asset_category: Mapped[str | None] = mapped_column(String(64), nullable=True)
    asset_type: Mapped[str | None] = mapped_column(String(64), nullable=True)
    voltage_level: Mapped[str | None] = mapped_column(DECIMAL, nullable=True)
    country_code: Mapped[str | None] = mapped_column(String(2), nullable=True)
    postcode: Mapped[str | None] = mapped_column(String(16), nullable=True)
    latitude: Mapped[str | None] = mapped_column(DECIMAL, nullable=True)
    longitude: Mapped[str | None] = mapped_column(DECIMAL, nullable=True)
    import_meter_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    export_meter_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    active_import_capacity: Mapped[str | None] = mapped_column(DECIMAL, nullable=True)
    active_export_capacity: Mapped[str | None] = mapped_column(DECIMAL, nullable=True)
    reactive_import_capacity: Mapped[str | None] = mapped_column(DECIMAL, nullable=True)
    reactive_export_capacity: Mapped[str | None] = mapped_column(DECIMAL, nullable=True)
    response_time_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)
    min_runtime_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)
    max_runtime_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)
    recovery_time_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    modified: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    __table_args__ = (
        UniqueConstraint("provider_tenant_id", "ref", name="uq_fm_assets_provider_ref"),
        Index("ix_fm_assets_provider_created", "provider_tenant_id", "created"),
    )


class FmAvailabilityVariation(Base):
    __tablename__ = "fm_availability_variations"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    obligation_id: Mapped[str] = mapped_column(
        ID, ForeignKey("fm_obligations.id", ondelete="CASCADE")
    )
    provider_tenant_id: Mapped[str] = mapped_column(TENANT, tenant_fk())
    so_tenant_id: Mapped[str] = mapped_column(TENANT, tenant_fk())
    start: Mapped[datetime] = mapped_column(UTCDateTime)
    end: Mapped[datetime] = mapped_column(UTCDateTime)
    available_capacity: Mapped[str] = mapped_column(DECIMAL)  # MW
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    __table_args__ = (
        Index("ix_fm_availability_variations_obligation", "obligation_id", "start"),
        Index("ix_fm_availability_variations_so_created", "so_tenant_id", "created"),
    )


class FmDispatchInstruction(Base):
    """A dispatch (or stop) instruction. ``signed_fields`` holds the fields the SO may sign
    exactly as it sent them (same strings); ``start``/``end`` are their parsed UTC values and
    ``ends_at`` the effective end (moved to the stop time when a running instruction is
    stopped; ``end`` itself never changes, so the SO signature stays valid)."""

    __tablename__ = "fm_dispatch_instructions"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    so_tenant_id: Mapped[str] = mapped_column(TENANT, tenant_fk())
    provider_tenant_id: Mapped[str] = mapped_column(TENANT, tenant_fk())
    obligation_id: Mapped[str] = mapped_column(
        ID, ForeignKey("fm_obligations.id", ondelete="CASCADE")
    )
    competition_id: Mapped[str] = mapped_column(
        ID, ForeignKey("fm_competitions.id", ondelete="CASCADE")
    )
    so_reference: Mapped[str] = mapped_column(String(200))
    instruction_type: Mapped[str] = mapped_column(String(16))  # dispatch | stop
    stops: Mapped[str | None] = mapped_column(ID, nullable=True)
    stopped_by: Mapped[str | None] = mapped_column(ID, nullable=True)
    start: Mapped[datetime] = mapped_column(UTCDateTime)
    end: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    capacity: Mapped[str] = mapped_column(DECIMAL)  # MW
    need_direction: Mapped[str] = mapped_column(String(16))
    power_type: Mapped[str] = mapped_column(String(16))
    asset_ids: Mapped[list[str]] = mapped_column(JSONType, default=list)
    signed_fields: Mapped[dict[str, Any]] = mapped_column(JSONType)
    signature: Mapped[str | None] = mapped_column(Text, nullable=True)
    signature_algorithm: Mapped[str | None] = mapped_column(String(32), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    respond_by: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    exceeds_declared_availability: Mapped[bool] = mapped_column(Boolean, default=False)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    modified: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    __table_args__ = (
        UniqueConstraint("so_tenant_id", "so_reference", name="uq_fm_dispatch_so_reference"),
        Index("ix_fm_dispatch_provider_created", "provider_tenant_id", "created"),
        Index("ix_fm_dispatch_so_created", "so_tenant_id", "created"),
        Index("ix_fm_dispatch_obligation", "obligation_id", "start"),
        Index("ix_fm_dispatch_status_respond_by", "status", "respond_by"),
        Index("ix_fm_dispatch_status_ends_at", "status", "ends_at"),
    )
