"""The delivery worker as separate processes (``flexhub worker``) against a real database:
a worker killed mid-batch loses nothing, and two workers on PostgreSQL deliver each
notification exactly once."""

from __future__ import annotations

import json
import signal
from collections import Counter

import pytest
from sqlalchemy import func, select

from flexhub.store.delivery import DeliveryAttempt, OutboxRow
from support.outbox import outbox_states, seed, start_worker, stop, wait_delivered, wait_ready
from support.receiver import Receiver


async def test_worker_killed_mid_batch_loses_nothing(db, fresh_backend, tmp_path):
    receiver = await Receiver(delay=1.0).start()  # slow answers keep the batch in flight
    procs = []
    try:
        tenant = await seed(db, receiver.url, 25)
        first = start_worker(fresh_backend.url, tmp_path)
        procs.append(first)
        await wait_ready(first)
        await receiver.wait_for(1, timeout=30)
        first.send_signal(signal.SIGKILL)  # killed while its requests are in flight
        first.wait()
        states = await outbox_states(db, tenant)
        assert states["pending"] > 0, states  # the killed worker left leased rows behind
        async with db.session() as session:
            leased = await session.scalar(
                select(func.count()).where(
                    OutboxRow.tenant_id == tenant, OutboxRow.lease_owner.is_not(None)
                )
            )
        assert leased > 0

        receiver.delay = 0.0
        second = start_worker(fresh_backend.url, tmp_path)
        procs.append(second)
        await wait_ready(second)
        await wait_delivered(db, tenant, 25)

        async with db.session() as session:
            ids = set(
                (
                    await session.scalars(select(OutboxRow.id).where(OutboxRow.tenant_id == tenant))
                ).all()
            )
        received = [json.loads(r.body)["notificationId"] for r in receiver.requests]
        assert set(received) == ids  # every notification arrived (some twice: at least once)
    finally:
        for p in procs:
            stop(p)
        await receiver.stop()


async def test_two_workers_deliver_each_notification_once(db, fresh_backend, tmp_path):
    if fresh_backend.name != "postgres":
        pytest.skip("several concurrent workers are a PostgreSQL deployment")
    receiver = await Receiver().start()
    procs = [
        start_worker(fresh_backend.url, tmp_path, FLEXHUB_WORKER_LEASE_SECONDS=60) for _ in range(2)
    ]
    try:
        for p in procs:
            await wait_ready(p)
        tenant = await seed(db, receiver.url, 300)
        await wait_delivered(db, tenant, 300)
        received = Counter(json.loads(r.body)["notificationId"] for r in receiver.requests)
        assert len(received) == 300
        assert max(received.values()) == 1, "a notification was delivered twice"
        async with db.session() as session:
            by_worker = dict(
                (
                    await session.execute(
                        select(DeliveryAttempt.worker, func.count())
                        .where(DeliveryAttempt.tenant_id == tenant)
                        .group_by(DeliveryAttempt.worker)
                    )
                ).all()
            )
        assert len(by_worker) == 2, by_worker  # both workers took part
        assert sum(by_worker.values()) == 300
    finally:
        for p in procs:
            stop(p)
        await receiver.stop()
