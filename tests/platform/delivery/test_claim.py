"""Claiming outbox rows: a claim takes at most one batch, concurrent claims never share a row,
and rows leased by someone else wait for their lease to run out."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from flexhub.clock import utcnow
from flexhub.platform.app import platform_channels
from flexhub.platform.context import PlatformContext
from flexhub.platform.delivery.worker import Worker
from flexhub.platform.keys import KeyStore
from flexhub.store.database import Database
from flexhub.store.delivery import OutboxRow
from support.databases import end_backends_waiting_on_lock, make_backend, platform_settings
from support.outbox import seed
from support.receiver import Receiver


@pytest.fixture(params=["sqlite", "postgres"])
def fresh_backend(request, tmp_path_factory):
    """A database of each kind per test: a claim sees every tenant's rows."""
    yield from make_backend(request.param, tmp_path_factory.mktemp(f"c-{request.param}"))


@pytest.fixture
async def ctx(fresh_backend, tmp_path):
    db = Database(fresh_backend.url)
    await db.upgrade()
    settings = platform_settings(fresh_backend.url, tmp_path, worker_batch=10)
    yield PlatformContext(settings, db, KeyStore(tmp_path / "keys").load())
    await db.dispose()


async def leased(db: Database, tenant: str) -> int:
    async with db.session() as session:
        return await session.scalar(
            select(func.count()).where(
                OutboxRow.tenant_id == tenant, OutboxRow.lease_owner.is_not(None)
            )
        )


async def test_a_claim_takes_one_batch_and_concurrent_claims_are_disjoint(ctx):
    tenant = await seed(ctx.db, "http://127.0.0.1:9/hook", 100)
    first = await Worker(ctx, platform_channels(ctx), "w1").claim()
    assert len(first) == 10
    assert await leased(ctx.db, tenant) == 10
    claims = await asyncio.gather(
        *(Worker(ctx, platform_channels(ctx), f"w{i}").claim() for i in range(2, 6))
    )
    ids = [row.id for batch in [first, *claims] for row in batch]
    assert all(len(batch) == 10 for batch in claims)
    assert len(ids) == len(set(ids)) == 50


async def _status_once_delivered(db: Database, tenant: str) -> str | None:
    """The status of the tenant's one outbox row once it is delivered (or after 10 s)."""
    for _ in range(100):
        async with db.session() as session:
            status = await session.scalar(
                select(OutboxRow.status).where(OutboxRow.tenant_id == tenant)
            )
        if status == "delivered":
            break
        await asyncio.sleep(0.1)
    return status


async def test_leased_rows_wait_for_their_lease(ctx):
    tenant = await seed(ctx.db, "http://127.0.0.1:9/hook", 5)
    assert len(await Worker(ctx, platform_channels(ctx), "a").claim()) == 5
    assert await Worker(ctx, platform_channels(ctx), "b").claim() == []
    async with ctx.db.session() as session:  # the first worker died: its lease runs out
        await session.execute(
            update(OutboxRow)
            .where(OutboxRow.tenant_id == tenant)
            .values(lease_until=utcnow() - timedelta(seconds=1))
        )
        await session.commit()
    again = await Worker(ctx, platform_channels(ctx), "b").claim()
    assert len(again) == 5 and {r.lease_owner for r in again} == {"b"}


async def test_a_row_in_flight_keeps_its_lease_past_its_length(fresh_backend, tmp_path):
    """The receiver takes three leases to answer: the worker renews the row's lease while it
    waits, so a second worker claiming all along gets nothing, and the row is posted once."""
    db = Database(fresh_backend.url)
    await db.upgrade()
    settings = platform_settings(
        fresh_backend.url, tmp_path, worker_lease_seconds=0.9, delivery_timeout_seconds=8.0
    )
    ctx = PlatformContext(settings, db, KeyStore(tmp_path / "keys").load())
    receiver = await Receiver(delay=2.7).start()
    holder = Worker(ctx, platform_channels(ctx), "holder")
    running = None
    try:
        tenant = await seed(db, receiver.url, 1)
        running = asyncio.create_task(holder.run())
        await receiver.wait_for(1)  # posted, its answer 2.7 s away
        other = Worker(ctx, platform_channels(ctx), "other")
        taken = []
        for _ in range(10):  # 2 s: the row's lease (0.9 s) would have run out twice
            taken += await other.claim()
            await asyncio.sleep(0.2)
        assert taken == []
        assert await _status_once_delivered(db, tenant) == "delivered"
        assert len(receiver.requests) == 1
        assert holder._held == set()  # recorded: nothing left to renew
    finally:
        holder.stop()
        if running is not None:
            await running
        await receiver.stop()
        await db.dispose()


async def _end_what_waits_on_the_outbox(admin, dbname: str) -> None:
    """Lock the outbox, end the backends that come to wait on it, release it."""
    locker = admin.transaction()
    await locker.start()
    await admin.execute("LOCK TABLE outbox IN ACCESS EXCLUSIVE MODE")
    await end_backends_waiting_on_lock(admin, dbname)
    await locker.rollback()


async def test_a_connection_ended_under_the_worker_does_not_stop_it(fresh_backend, tmp_path):
    """The soak's ``pg_terminate_backend`` fault, under the worker's one pipeline, three times:
    its statement (a claim, as it happens: a table lock cannot hold the wait-for-work read and
    let the claim before it pass) waits on a lock this test holds and its backend is ended.
    The worker logs it and goes on; an event written afterwards is delivered."""
    if fresh_backend.name != "postgres":
        pytest.skip("pg_terminate_backend is PostgreSQL's")
    import asyncpg
    from sqlalchemy.engine import make_url

    db = Database(fresh_backend.url)
    await db.upgrade()
    settings = platform_settings(
        fresh_backend.url, tmp_path, worker_poll_seconds=0.1, worker_pipelines=1
    )
    ctx = PlatformContext(settings, db, KeyStore(tmp_path / "keys").load())
    url = make_url(fresh_backend.url)
    admin = await asyncpg.connect(
        url.set(drivername="postgresql").render_as_string(hide_password=False)
    )
    receiver = await Receiver().start()
    worker = Worker(ctx, platform_channels(ctx), "w")
    running = asyncio.create_task(worker.run())
    try:
        for _ in range(3):
            await _end_what_waits_on_the_outbox(admin, url.database)
        await asyncio.sleep(0.3)
        assert not running.done()
        tenant = await seed(db, receiver.url, 1)
        await receiver.wait_for(1, timeout=20)
        assert await _status_once_delivered(db, tenant) == "delivered"
    finally:
        worker.stop()
        await running
        await receiver.stop()
        await admin.close()
        await db.dispose()
