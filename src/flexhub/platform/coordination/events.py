"""Creating an Energy Coordination event inside the caller's transaction: the event is stored
and one outbox row is enqueued per enabled webhook of the partner that subscribes to its
notification type, so the change, the event and its notifications commit together or not at
all."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.clock import utcnow
from flexhub.platform.delivery.fanout import Subscriptions, notify_subscribers
from flexhub.store.coordination import EcEvent, EcWebhook
from flexhub.wire.coordination.events import NOTIFICATION_TYPES, EventPayload

CHANNEL = "coordination"
WEBHOOKS = Subscriptions(EcWebhook, enabled="enabled", types="notification_types")
_PAYLOAD: TypeAdapter[EventPayload] = TypeAdapter(EventPayload)


async def create_event(
    session: AsyncSession,
    tenant_id: str,
    payload: EventPayload | Mapping[str, Any],
    created_at: datetime | None = None,
) -> EcEvent:
    """Store an event for a partner and enqueue a notification to each enabled webhook that
    subscribes to its type (a payload given as JSON is checked against the wire models first).
    The caller commits."""
    if isinstance(payload, Mapping):
        payload = _PAYLOAD.validate_python(payload)
    event = EcEvent(
        id=str(uuid.uuid4()),
        tenant_id=tenant_id,
        payload_type=payload.payloadType,
        payload=payload.model_dump(mode="json"),
        created_at=created_at or utcnow(),
    )
    session.add(event)
    await notify_subscribers(
        session,
        WEBHOOKS,
        tenant_id=tenant_id,
        channel=CHANNEL,
        event_id=event.id,
        event_type=NOTIFICATION_TYPES[payload.payloadType],
    )
    return event
