"""Delivery-log retention: attempts older than ``FLEXHUB_DELIVERY_LOG_RETENTION_DAYS`` (30 by
default) are deleted, and so are finished outbox rows (delivered, failed, cancelled) completed
before then. Pending notifications are never touched. The sweeper runs inside ``platform
serve`` every ``FLEXHUB_RETENTION_SWEEP_SECONDS``; several processes sweeping at once is
harmless."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta

from sqlalchemy import delete

from flexhub.clock import utcnow
from flexhub.platform.context import PlatformContext
from flexhub.store.database import Database
from flexhub.store.delivery import DeliveryAttempt, OutboxRow

log = logging.getLogger("flexhub.delivery")


async def sweep(db: Database, keep_days: float, now: datetime | None = None) -> tuple[int, int]:
    """Delete what is older than ``keep_days``: (attempts, outbox rows) deleted."""
    cutoff = (now or utcnow()) - timedelta(days=keep_days)
    async with db.session() as session:
        attempts = await session.execute(
            delete(DeliveryAttempt).where(DeliveryAttempt.attempted_at < cutoff)
        )
        rows = await session.execute(
            delete(OutboxRow).where(
                OutboxRow.status != "pending",
                OutboxRow.completed_at.is_not(None),
                OutboxRow.completed_at < cutoff,
            )
        )
        await session.commit()
    return attempts.rowcount or 0, rows.rowcount or 0


async def run_retention(ctx: PlatformContext, stop: asyncio.Event) -> None:
    settings = ctx.settings
    while not stop.is_set():
        try:
            attempts, rows = await sweep(ctx.db, settings.delivery_log_retention_days)
            if attempts or rows:
                log.info("retention: deleted %d delivery attempts, %d outbox rows", attempts, rows)
        except Exception:  # a database hiccup: try again next round
            log.exception("delivery-log retention sweep failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=settings.retention_sweep_seconds)
