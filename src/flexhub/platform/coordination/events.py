"""Creating an Energy Coordination event inside the caller's transaction: the event is stored
and one outbox row is enqueued per enabled webhook of the partner that subscribes to its
notification type, so the change, the event and its notifications commit together or not at
all."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.clock import utcnow
from flexhub.platform.delivery.fanout import Subscriptions, notify_many
from flexhub.store.coordination import EcEvent, EcWebhook
from flexhub.wire.coordination.events import NOTIFICATION_TYPES, EventPayload

CHANNEL = "coordination"
WEBHOOKS = Subscriptions(EcWebhook, enabled="enabled", types="notification_types")
_PAYLOAD: TypeAdapter[EventPayload] = TypeAdapter(EventPayload)


def payload_wire(payload: EventPayload) -> str:
    """The payload as the wire serialiser writes it inside an event (``GetEventResponse``)."""
    return _PAYLOAD.dump_json(payload).decode()


async def create_event(
    session: AsyncSession,
    tenant_id: str,
    payload: EventPayload | Mapping[str, Any],
    created_at: datetime | None = None,
) -> EcEvent:
    """Store an event for a partner and enqueue a notification to each enabled webhook that
    subscribes to its type (a payload given as JSON is checked against the wire models first).
    The caller commits."""
    (event,) = await create_events(session, [(tenant_id, payload)], created_at)
    return event


async def create_events(
    session: AsyncSession,
    items: Sequence[tuple[str, EventPayload | Mapping[str, Any]]],
    created_at: datetime | None = None,
    *,
    checked: bool = False,
    wires: Sequence[str] | None = None,
) -> list[EcEvent]:
    """:func:`create_event` for many ``(tenant_id, payload)`` at once (one subscription query,
    one NOTIFY). ``checked``: the JSON payloads were built from checked wire models (the
    engines' bulk output) and are stored as they are, in one INSERT (the returned rows are not
    in the session). Every event keeps its payload's wire text (:func:`payload_wire`), which
    ``GET /events`` splices; ``wires``: that text for each checked payload, built by the
    caller from the same checked models (the payloads are then not validated again). The
    caller commits."""
    when = created_at or utcnow()
    events = []
    for i, (tenant_id, payload) in enumerate(items):
        if isinstance(payload, Mapping) and checked:
            data = dict(payload)  # as it is stored; its wire text from the model it reads as
            if wires is not None:
                kind, wire = data["payloadType"], wires[i]
            else:
                model = _PAYLOAD.validate_python(data)
                kind, wire = model.payloadType, payload_wire(model)
        else:
            model = _PAYLOAD.validate_python(payload) if isinstance(payload, Mapping) else payload
            kind, data, wire = model.payloadType, model.model_dump(mode="json"), payload_wire(model)
        events.append(
            EcEvent(
                id=str(uuid.uuid4()),
                tenant_id=tenant_id,
                payload_type=kind,
                payload=data,
                wire=wire,
                created_at=when,
            )
        )
    if checked and events:  # bulk: one INSERT for all rows, no unit-of-work bookkeeping
        columns = ("id", "tenant_id", "payload_type", "payload", "wire", "created_at")
        await session.execute(
            insert(EcEvent), [{c: getattr(e, c) for c in columns} for e in events]
        )
    else:
        session.add_all(events)
    await notify_many(
        session,
        WEBHOOKS,
        channel=CHANNEL,
        events=[(e.tenant_id, e.id, NOTIFICATION_TYPES[e.payload_type]) for e in events],
    )
    return events
