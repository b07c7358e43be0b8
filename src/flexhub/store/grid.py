"""The grid engines' tables: imported hourly needs per neighbourhood, price-curve runs (one row
per local day and neighbourhood, with what it sent), and power-limit (LPC) requests with the
state of each target."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from flexhub.clock import utcnow
from flexhub.store.base import Base, UTCDateTime

ID = String(200)


class ForecastNeed(Base):
    """An imported need for one hour of one neighbourhood (kW: positive = the grid wants less
    consumption, negative = more); it overrides the built-in forecast for that hour."""

    __tablename__ = "forecast_needs"

    neighbourhood_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("neighbourhoods.id", ondelete="CASCADE"), primary_key=True
    )
    hour: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    need_kw: Mapped[float] = mapped_column(Float)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PriceCurveRun(Base):
    """The day-ahead price curves of one neighbourhood for one local day: sent once (the key
    is what makes a second run, or a second process, send nothing)."""

    __tablename__ = "price_curve_runs"

    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # YYYY-MM-DD, local
    neighbourhood_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    price_area: Mapped[str] = mapped_column(String(8))
    trigger: Mapped[str] = mapped_column(String(16))  # schedule | operator | cli
    need_hours: Mapped[int] = mapped_column(Integer, default=0)
    events: Mapped[int] = mapped_column(Integer, default=0)
    targets: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    __table_args__ = (Index("ix_price_curve_runs_created", "created_at"),)


class LpcRequest(Base):
    """An operator's (or the forecast's) power-limit request: one event per partner."""

    __tablename__ = "lpc_requests"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    payload_type: Mapped[str] = mapped_column(String(32))  # LocationLPC|ResourceLPC|LPCReservation
    source: Mapped[str] = mapped_column(String(16))  # operator | forecast
    neighbourhood_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    deadline: Mapped[datetime] = mapped_column(UTCDateTime)  # acknowledge before this
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    __table_args__ = (Index("ix_lpc_requests_created", "created_at"),)


class LpcTarget(Base):
    """One target of an LPC request and where its acknowledgement stands: Pending, then
    Acknowledged or Declined by a report, or Unacknowledged when the deadline passed first."""

    __tablename__ = "lpc_targets"

    request_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("lpc_requests.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("partners.id", ondelete="CASCADE")
    )
    event_id: Mapped[str] = mapped_column(String(36))
    location_id: Mapped[str] = mapped_column(ID)
    meter_point_id: Mapped[str] = mapped_column(ID)
    resource_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    state: Mapped[str] = mapped_column(String(16), default="Pending")
    report_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    __table_args__ = (
        Index("ix_lpc_targets_event", "tenant_id", "event_id"),
        Index("ix_lpc_targets_state", "state"),
    )
