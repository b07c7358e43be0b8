"""The hand-off: rows committed in the worker's own process are leased to it in the writing
transaction and posted without a claim; rows whose hand-off was lost (a crash between commit
and hand-off) are claimed again when the lease runs out and delivered once."""

from __future__ import annotations

import asyncio
import json
from collections import Counter

from sqlalchemy import select

from flexhub.platform.app import platform_channels
from flexhub.platform.context import PlatformContext
from flexhub.platform.delivery.worker import Worker
from flexhub.platform.keys import KeyStore
from flexhub.store.database import Database, Handoff
from flexhub.store.delivery import DeliveryAttempt, OutboxRow
from support.databases import platform_settings
from support.outbox import outbox_states, seed, wait_delivered
from support.receiver import Receiver


def context(db: Database, url: str, tmp_path, **overrides) -> PlatformContext:
    settings = platform_settings(url, tmp_path, webhook_allow_private=True, **overrides)
    return PlatformContext(settings, db, KeyStore(tmp_path / "keys").load())


async def test_committed_rows_go_straight_to_the_running_worker(db, fresh_backend, tmp_path):
    receiver = await Receiver(delay=0.5).start()
    # a poll far away and no claim able to find the rows: only the hand-off can deliver
    ctx = context(db, fresh_backend.url, tmp_path, worker_poll_seconds=3600)
    worker = Worker(ctx, platform_channels(ctx), "in-process")
    task = asyncio.create_task(worker.run())
    try:
        while db.handoff is None:
            await asyncio.sleep(0.01)
        tenant = await seed(db, receiver.url, 3)
        async with db.session() as session:  # leased to the worker by the writing transaction
            owners = (
                await session.scalars(
                    select(OutboxRow.lease_owner).where(OutboxRow.tenant_id == tenant)
                )
            ).all()
        assert owners == ["in-process"] * 3
        await wait_delivered(db, tenant, 3)
        async with db.session() as session:
            workers = (
                await session.scalars(
                    select(DeliveryAttempt.worker).where(DeliveryAttempt.tenant_id == tenant)
                )
            ).all()
        assert workers == ["in-process"] * 3
    finally:
        worker.stop()
        await task
        await receiver.stop()
    assert db.handoff is None  # a stopped worker takes no more rows


async def test_a_lost_hand_off_is_claimed_after_its_lease_and_delivered_once(
    db, fresh_backend, tmp_path
):
    receiver = await Receiver().start()
    lost: list = []
    # the rows are leased to a worker that dies before it gets them
    db.handoff = Handoff("crashed", {"coordination", "flexmarket"}, 1.0, lost.extend)
    try:
        tenant = await seed(db, receiver.url, 4)
    finally:
        db.handoff = None
    assert len(lost) == 4
    ctx = context(db, fresh_backend.url, tmp_path, worker_poll_seconds=0.2, worker_handoff=False)
    worker = Worker(ctx, platform_channels(ctx), "survivor")
    task = asyncio.create_task(worker.run())
    try:
        await wait_delivered(db, tenant, 4)
    finally:
        worker.stop()
        await task
        await receiver.stop()
    received = Counter(json.loads(r.body)["notificationId"] for r in receiver.requests)
    assert sorted(received) == sorted(row.id for row in lost)
    assert set(received.values()) == {1}


class CountingWorker(Worker):
    """A worker that counts its claims and its looks for the next due row."""

    def __init__(self, *args) -> None:
        super().__init__(*args)
        self.claims = self.due_looks = 0

    async def claim(self):
        self.claims += 1
        return await super().claim()

    async def _next_due(self):
        self.due_looks += 1
        return await super()._next_due()


async def test_handed_rows_cost_no_claim_and_other_writers_rows_are_claimed(
    db, fresh_backend, tmp_path
):
    receiver = await Receiver().start()
    # no poll within the test: on PostgreSQL another process's rows wake the worker by NOTIFY
    poll = 3600 if db.is_postgres else 0.3
    ctx = context(db, fresh_backend.url, tmp_path, worker_poll_seconds=poll, worker_pipelines=1)
    worker = CountingWorker(ctx, platform_channels(ctx), "in-process")
    task = asyncio.create_task(worker.run())
    other = Database(fresh_backend.url)  # another process's writes: nothing handed
    try:
        for _ in range(500):  # started: its first claim found nothing
            if db.handoff is not None and worker.claims:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)
        claims, looks = worker.claims, worker.due_looks
        for _ in range(5):  # five commits, one after the other, each handed and delivered
            tenant = await seed(db, receiver.url, 2)
            await wait_delivered(db, tenant, 2)
        if db.is_postgres:  # (on SQLite the poll claims every 0.3 s)
            assert (worker.claims, worker.due_looks) == (claims, looks)
        tenant = await seed(other, receiver.url, 3)
        async with db.session() as session:
            owners = set(
                (
                    await session.scalars(
                        select(OutboxRow.lease_owner).where(OutboxRow.tenant_id == tenant)
                    )
                ).all()
            )
        await wait_delivered(db, tenant, 3)
        assert worker.claims > claims
    finally:
        worker.stop()
        await task
        await receiver.stop()
        await other.dispose()
    assert owners <= {None, "in-process"}  # written unleased (or claimed already)
    assert len(receiver.requests) == 13


async def test_other_writers_rows_are_claimed_while_handed_rows_keep_coming(
    db, fresh_backend, tmp_path
):
    """Neither a stream of handed batches nor their wake-ups put off a claim that is due: the
    poll runs from the last claim (on SQLite it is what finds another process's rows), and a
    NOTIFY (PostgreSQL) is not used up by a handed batch."""
    receiver = await Receiver().start()
    ctx = context(db, fresh_backend.url, tmp_path, worker_poll_seconds=0.5)
    worker = Worker(ctx, platform_channels(ctx), "in-process")
    task = asyncio.create_task(worker.run())
    other = Database(fresh_backend.url)  # another process's writes: nothing handed
    try:
        while db.handoff is None:
            await asyncio.sleep(0.01)
        tenant = await seed(other, receiver.url, 3)
        deadline = asyncio.get_running_loop().time() + 4
        while (await outbox_states(db, tenant))["delivered"] < 3:
            assert asyncio.get_running_loop().time() < deadline, await outbox_states(db, tenant)
            await seed(db, receiver.url, 1)  # a handed row (and a wake-up) every ~0.1 s
            await asyncio.sleep(0.1)
    finally:
        worker.stop()
        await task
        await receiver.stop()
        await other.dispose()
