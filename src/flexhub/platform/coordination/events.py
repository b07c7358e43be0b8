"""Energy Coordination events: create one (and its outbox rows, same transaction), read them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.platform.delivery.fanout import Subscriptions, notify_subscribers
from flexhub.store.base import utcnow
from flexhub.store.coordination import EcEvent, EcWebhook

CHANNEL = "coordination"
WEBHOOKS = Subscriptions(EcWebhook, enabled="enabled", types="notification_types")

NOTIFICATION_TYPES = {
    "PriceCurve": "PriceCurveCreated",
    "UserEligibility": "UserEligibilityUpdated",
    "LocationLPC": "LocationLPCRequested",
    "ResourceLPC": "ResourceLPCRequested",
    "LPCReservation": "LPCReservationCreated",
}


async def create_event(
    session: AsyncSession,
    tenant_id: str,
    payload: dict[str, Any],
    created_at: datetime | None = None,
) -> EcEvent:
    """Store an event for a partner and enqueue a notification to each enabled webhook that
    subscribes to its type. The caller commits."""
    payload_type = payload["payloadType"]
    event = EcEvent(
        id=str(uuid.uuid4()),
        tenant_id=tenant_id,
        payload_type=payload_type,
        payload=payload,
        created_at=created_at or utcnow(),
    )
    session.add(event)
    await notify_subscribers(
        session,
        WEBHOOKS,
        tenant_id=tenant_id,
        channel=CHANNEL,
        event_id=event.id,
        event_type=NOTIFICATION_TYPES[payload_type],
    )
    return event


def event_wire(event: EcEvent) -> dict[str, Any]:
    """``GetEventResponse``."""
    return {"id": event.id, "createdAt": iso(event.created_at), "payload": event.payload}


def iso(value: datetime) -> str:
    """ISO-8601 with offset, as the document's examples write it."""
    return value.isoformat()


async def list_events(
    session: AsyncSession, tenant_id: str, page: int, page_size: int
) -> tuple[list[EcEvent], int]:
    """Newest first."""
    total = await session.scalar(
        select(func.count()).select_from(EcEvent).where(EcEvent.tenant_id == tenant_id)
    )
    rows = await session.scalars(
        select(EcEvent)
        .where(EcEvent.tenant_id == tenant_id)
        .order_by(EcEvent.created_at.desc(), EcEvent.id.desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    return list(rows.all()), int(total or 0)


async def get_event(session: AsyncSession, tenant_id: str, event_id: str) -> EcEvent | None:
    return await session.scalar(
        select(EcEvent).where(EcEvent.tenant_id == tenant_id, EcEvent.id == event_id)
    )
