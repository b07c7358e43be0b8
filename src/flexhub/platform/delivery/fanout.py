"""What every API's webhooks do alike around the outbox, whatever their tables and signing:

- :func:`notify_subscribers`: when an event is stored, enqueue one notification per enabled
  subscription of the tenant that asked for its type (in the caller's transaction);
- :func:`resolve`: when a channel prepares a batch, load the subscriptions and events its rows
  point at (two queries) and tell which rows are still deliverable.

A subscription table is described by a :class:`Subscriptions`: its model, the boolean column
that switches a subscription on and the attribute listing the event types it wants.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.platform.delivery.outbox import enqueue_many
from flexhub.store.delivery import OutboxRow


@dataclass(frozen=True)
class Subscriptions:
    """A subscription table: rows with ``id`` and ``tenant_id``, an on/off column and a list of
    wanted event types."""

    model: Any
    enabled: str  # the boolean column, e.g. "active"
    types: str  # the list of wanted event types, e.g. "events"

    def wants(self, subscription: Any, event_type: str) -> bool:
        return event_type in (getattr(subscription, self.types) or [])


async def notify_subscribers(
    session: AsyncSession,
    table: Subscriptions,
    *,
    tenant_id: str,
    channel: str,
    event_id: str,
    event_type: str,
) -> list[OutboxRow]:
    """Enqueue the event to each of the tenant's enabled subscriptions that wants its type.
    The caller has stored the event on ``session`` and commits."""
    return await notify_many(
        session, table, channel=channel, events=[(tenant_id, event_id, event_type)]
    )


async def notify_many(
    session: AsyncSession,
    table: Subscriptions,
    *,
    channel: str,
    events: list[tuple[str, str, str]],
) -> list[OutboxRow]:
    """:func:`notify_subscribers` for many ``(tenant_id, event_id, event_type)`` at once: one
    query for the tenants' subscriptions, one NOTIFY."""
    model = table.model
    tenants = sorted({tenant_id for tenant_id, _, _ in events})
    subscriptions: dict[str, list[Any]] = {t: [] for t in tenants}
    # the events just added are flushed with their outbox rows at commit, not before this
    # query (one flush less), unless a subscription changed in this transaction is unflushed
    touched = any(isinstance(obj, model) for obj in (*session.new, *session.dirty))
    with contextlib.nullcontext() if touched else session.no_autoflush:
        for k in range(0, len(tenants), 1000):
            found = await session.scalars(
                select(model).where(
                    model.tenant_id.in_(tenants[k : k + 1000]),
                    getattr(model, table.enabled).is_(True),
                )
            )
            for sub in found:
                subscriptions[sub.tenant_id].append(sub)
    return await enqueue_many(
        session,
        channel=channel,
        items=[
            (
                tenant_id,
                event_id,
                event_type,
                [s.id for s in subscriptions[tenant_id] if table.wants(s, event_type)],
            )
            for tenant_id, event_id, event_type in events
        ],
    )


async def by_id(session: AsyncSession, model: Any, ids: set[str]) -> dict[str, Any]:
    """The rows of ``model`` with these ids, by id (one query)."""
    found = await session.scalars(select(model).where(model.id.in_(ids)))
    return {obj.id: obj for obj in found}


async def resolve(
    session: AsyncSession,
    rows: list[OutboxRow],
    table: Subscriptions,
    event_model: Any,
) -> dict[str, tuple[Any, Any] | None]:
    """Per outbox row id, its ``(subscription, event)``, or None when either is gone, the
    subscription is switched off, or the subscription or the event is not the row's tenant's
    (never written so, but a notification must not cross tenants); the worker drops those."""
    subscriptions = await by_id(session, table.model, {r.subscription_id for r in rows})
    events = await by_id(session, event_model, {r.event_id for r in rows})
    out: dict[str, tuple[Any, Any] | None] = {}
    for row in rows:
        sub, event = subscriptions.get(row.subscription_id), events.get(row.event_id)
        live = (
            sub is not None
            and event is not None
            and getattr(sub, table.enabled)
            and sub.tenant_id == event.tenant_id == row.tenant_id
        )
        out[row.id] = (sub, event) if live else None
    return out
