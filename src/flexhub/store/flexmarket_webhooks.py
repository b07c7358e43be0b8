"""Flex Market webhook tables: a provider's subscriptions and the events published to it.

An event is stored once per tenant; the outbox holds one row per (event, subscription) and the
delivery log (``delivery_attempts``, channel "flexmarket") every attempt.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from flexhub.clock import utcnow
from flexhub.store.base import Base, JSONType, UTCDateTime


class FmSubscription(Base):
    __tablename__ = "fm_subscriptions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("partners.id", ondelete="CASCADE")
    )
    url: Mapped[str] = mapped_column(Text)
    events: Mapped[list[str]] = mapped_column(JSONType, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    modified: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # the first failed attempt since the last success (None while deliveries succeed)
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    __table_args__ = (Index("ix_fm_subscriptions_tenant", "tenant_id", "created"),)


class FmEvent(Base):
    """One published event; its id is the ``jti`` of every delivery of it."""

    __tablename__ = "fm_events"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("partners.id", ondelete="CASCADE")
    )
    event_type: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    __table_args__ = (Index("ix_fm_events_tenant_created", "tenant_id", "created"),)
