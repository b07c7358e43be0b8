"""Enqueue notifications inside the caller's transaction.

The caller writes its event and calls :func:`enqueue` on the same session before committing,
so the event and its outbox rows land together or not at all. On PostgreSQL a NOTIFY is sent
in the same transaction (delivered at commit); in-process workers are woken after the commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.clock import utcnow
from flexhub.store.database import OUTBOX_CHANNEL, mark_outbox_written
from flexhub.store.delivery import OutboxRow


async def enqueue(
    session: AsyncSession,
    *,
    tenant_id: str,
    channel: str,
    event_id: str,
    event_type: str,
    subscription_ids: Iterable[str],
) -> list[OutboxRow]:
    now = utcnow()
    rows = [
        OutboxRow(
            id=str(uuid.uuid4()),
            tenant_id=tenant_id,
            channel=channel,
            subscription_id=sub,
            event_id=event_id,
            event_type=event_type,
            status="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        for sub in subscription_ids
    ]
    if not rows:
        return rows
    session.add_all(rows)
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_notify(:ch, '')"), {"ch": OUTBOX_CHANNEL})
    mark_outbox_written(session)
    return rows
