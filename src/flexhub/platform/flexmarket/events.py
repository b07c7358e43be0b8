"""Creating a Flex Market webhook event inside the caller's transaction: the event is stored
and one outbox row is enqueued per active subscription of the tenant that wants its type, so
the change, the event and its notifications commit together or not at all."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel
from pydantic_core import to_jsonable_python
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.clock import utcnow
from flexhub.platform.delivery.fanout import Subscriptions, notify_subscribers
from flexhub.store.flexmarket_webhooks import FmEvent, FmSubscription
from flexhub.wire.flexmarket.webhooks import EVENT_TYPES

CHANNEL = "flexmarket"
SUBSCRIPTIONS = Subscriptions(FmSubscription, enabled="active", types="events")


async def create_event(
    session: AsyncSession, tenant_id: str, event_type: str, data: BaseModel | Mapping[str, Any]
) -> FmEvent:
    """``event_type`` is e.g. ``dispatch_instruction.created``; ``data`` is the object exactly as
    the REST API shows it to ``tenant_id`` (the provider), as ``mappers`` builds it. The caller
    commits. Returns the stored event (its id is the deliveries' ``jti``)."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown Flex Market event type {event_type!r}")
    event = FmEvent(
        id=str(uuid.uuid4()),
        tenant_id=tenant_id,
        event_type=event_type,
        data=to_jsonable_python(data),
        created=utcnow(),
    )
    session.add(event)
    await notify_subscribers(
        session,
        SUBSCRIPTIONS,
        tenant_id=tenant_id,
        channel=CHANNEL,
        event_id=event.id,
        event_type=event_type,
    )
    return event
