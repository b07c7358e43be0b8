"""The dispatch sweeper: applies the Flex Market status changes that come with time, so that
they happen (and their webhooks go out) even when nobody reads the objects.

Pending instructions past ``respond_by`` become ``expired`` (``dispatch_instruction.expired``),
accepted ones past their end ``completed``, and obligations follow their dates
(``obligation.updated``). Requests apply the same changes lazily; a conditional update makes
sure each change happens, and is published, once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.clock import utcnow
from flexhub.platform.context import PlatformContext
from flexhub.platform.flexmarket.services.lifecycle import settle

log = logging.getLogger("flexhub.flexmarket.sweeper")


BATCH = 500  # changes per transaction, so that a backlog does not make one huge transaction


async def sweep(session: AsyncSession, now: datetime) -> int:
    """Apply every change due by ``now``, committing each batch; returns how many instructions
    and obligations changed."""
    total = 0
    while True:
        changed = await settle(session, now, limit=BATCH)
        await session.commit()
        total += changed
        if changed < BATCH:
            return total


async def run_sweeper(ctx: PlatformContext, stop: asyncio.Event, interval: float = 5.0) -> None:
    """Sweep every ``interval`` seconds until ``stop`` is set; errors are logged, not fatal."""
    while not stop.is_set():
        try:
            async with ctx.db.session() as session:
                changed = await sweep(session, utcnow())
            if changed:
                log.info("dispatch sweep changed %d objects", changed)
        except Exception:
            log.exception("dispatch sweep failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
