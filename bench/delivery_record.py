"""Recording a batch's results on its subscriptions (PostgreSQL): the time of one channel's
``record`` for a batch of 64 attempts on 64 webhooks (one UPDATE), beside a trivial
PostgreSQL transaction on the same pool.

Run: ``.venv/bin/python bench/delivery_record.py``; ``figures(quick)`` gives the same for
``bench/run.py``'s table. Needs the PostgreSQL server (FLEXHUB_TEST_POSTGRES_URL, default the
local one); it creates and drops its own database. Nothing here asserts on the figures.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
import uuid
from datetime import timedelta

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from figures import Figure
from flexhub.clock import utcnow
from flexhub.config import RetryPolicy
from flexhub.platform.auth import add_partner
from flexhub.platform.coordination.channel import CoordinationChannel
from flexhub.store.coordination import EcWebhook
from flexhub.store.database import Database
from flexhub.store.delivery import DeliveryAttempt, OutboxRow

PG = os.environ.get(
    "FLEXHUB_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
SIZE = 64


async def _measure(rounds: int) -> tuple[float, float]:
    name = f"bench_record_{uuid.uuid4().hex[:8]}"
    admin_url = make_url(PG).set(drivername="postgresql", database="postgres")
    admin = await asyncpg.connect(admin_url.render_as_string(hide_password=False))
    await admin.execute(f'CREATE DATABASE "{name}"')
    db = Database(make_url(PG).set(database=name).render_as_string(hide_password=False))
    try:
        await db.upgrade()
        async with db.session() as session:
            creds = await add_partner(session, "bench-record")
            hooks = [
                EcWebhook(
                    id=str(uuid.uuid4()),
                    tenant_id=creds.partner_id,
                    url="http://127.0.0.1/hook",
                    notification_types=[],
                )
                for _ in range(SIZE)
            ]
            session.add_all(hooks)
            await session.commit()
        channel = CoordinationChannel(RetryPolicy(), None, timedelta(days=3))  # type: ignore[arg-type]
        recorded, bare = [], []
        for i in range(rounds):
            now = utcnow()
            batch = [
                (
                    OutboxRow(id=str(uuid.uuid4()), subscription_id=hook.id),
                    DeliveryAttempt(succeeded=i % 2 == 0, attempted_at=now, timed_out=False),
                    False,
                )
                for hook in hooks
            ]
            start = time.perf_counter()
            async with db.session() as session:
                await channel.record(session, batch)
                await session.commit()
            recorded.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            async with db.session() as session:
                await session.execute(text("SELECT 1"))
                await session.commit()
            bare.append((time.perf_counter() - start) * 1000)
        return statistics.median(recorded), statistics.median(bare)
    finally:
        await db.dispose()
        await admin.execute(f'DROP DATABASE "{name}"')
        await admin.close()


def figures(quick: bool) -> list[Figure]:
    recorded, bare = asyncio.run(_measure(20 if quick else 100))
    return [
        Figure(
            f"health of a {SIZE}-webhook batch recorded, p50",
            recorded,
            "ms",
            "trivial PostgreSQL transaction p50",
            bare,
        )
    ]


if __name__ == "__main__":
    for figure in figures(quick=False):
        print(
            f"{figure.name}: {figure.value:.2f} {figure.unit} ({figure.reference}: "
            f"{figure.reference_value:.2f} {figure.unit})"
        )
