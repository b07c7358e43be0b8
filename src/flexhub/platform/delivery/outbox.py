"""Enqueue notifications inside the caller's transaction.

The caller writes its event and calls :func:`enqueue` on the same session before committing,
so the event and its outbox rows land together or not at all. On PostgreSQL a NOTIFY is sent
in the same transaction (delivered at commit); in-process workers are woken after the commit.
When a worker runs in this process (:attr:`Database.handoff`), the rows are leased to it in the
same transaction and handed to it at commit, so it posts them without claiming them first.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.clock import utcnow
from flexhub.store.database import DATABASE_INFO, OUTBOX_CHANNEL, mark_outbox_written
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
    return await enqueue_many(
        session, channel=channel, items=[(tenant_id, event_id, event_type, subscription_ids)]
    )


async def enqueue_many(
    session: AsyncSession,
    *,
    channel: str,
    items: Iterable[tuple[str, str, str, Iterable[str]]],
) -> list[OutboxRow]:
    """Outbox rows for many events at once, ``(tenant_id, event_id, event_type,
    subscription_ids)`` each, with one NOTIFY."""
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
        for tenant_id, event_id, event_type, subscription_ids in items
        for sub in subscription_ids
    ]
    if not rows:
        return rows
    db = session.info.get(DATABASE_INFO)
    handoff = db.handoff if db is not None else None
    handed: list[OutboxRow] = []
    if handoff is not None and channel in handoff.channels:
        # leased to the in-process worker in this transaction, handed to it at commit: it
        # posts them without a claim round trip; if it never gets them, the lease runs out
        for row in rows:
            row.lease_owner = handoff.owner
            row.lease_until = now + timedelta(seconds=handoff.lease_seconds)
        handed = rows
    session.add_all(rows)
    postgres = session.bind is not None and session.bind.dialect.name == "postgresql"
    if postgres and not handed:  # handed rows are leased: other workers have nothing to claim
        await session.execute(text("SELECT pg_notify(:ch, '')"), {"ch": OUTBOX_CHANNEL})
    mark_outbox_written(session, handed)
    return rows


# the results of a batch in one statement: NULL in an array keeps the row's value (leases are
# always cleared)
_RESULTS_PG = text(
    """
    UPDATE outbox AS o SET
        status = COALESCE(v.status, o.status),
        attempts = COALESCE(v.attempts, o.attempts),
        next_attempt_at = COALESCE(v.next_attempt_at, o.next_attempt_at),
        completed_at = COALESCE(v.completed_at, o.completed_at),
        lease_owner = NULL,
        lease_until = NULL
    FROM unnest(
        CAST(:ids AS varchar[]), CAST(:statuses AS varchar[]), CAST(:attempts AS integer[]),
        CAST(:nexts AS timestamptz[]), CAST(:completed AS timestamptz[])
    ) AS v(id, status, attempts, next_attempt_at, completed_at)
    WHERE o.id = v.id
    """
)


async def write_results(session: AsyncSession, updates: list[dict]) -> None:
    """Outcome of a batch's rows (``id`` and the columns that change, the lease cleared): one
    ``UPDATE ... FROM unnest(...)`` on PostgreSQL, an executemany UPDATE by id on SQLite."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        await session.execute(
            _RESULTS_PG,
            {
                "ids": [u["id"] for u in updates],
                "statuses": [u.get("status") for u in updates],
                "attempts": [u.get("attempts") for u in updates],
                "nexts": [u.get("next_attempt_at") for u in updates],
                "completed": [u.get("completed_at") for u in updates],
            },
        )
        return
    await session.execute(update(OutboxRow), updates)
