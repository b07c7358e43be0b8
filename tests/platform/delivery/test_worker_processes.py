"""The delivery worker as separate processes (``flexhub worker``) against a real database:
a worker killed mid-batch loses nothing, and two workers on PostgreSQL deliver each
notification exactly once."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter

import pytest
from sqlalchemy import func, select

from conftest import make_backend
from flexhub.clock import utcnow
from flexhub.platform.auth import add_partner
from flexhub.platform.coordination.events import create_event
from flexhub.store.coordination import EcWebhook
from flexhub.store.database import Database
from flexhub.store.delivery import DeliveryAttempt, OutboxRow
from support import Receiver


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def fresh_backend(request, tmp_path_factory):
    yield from make_backend(request.param, tmp_path_factory.mktemp(f"w-{request.param}"))


@pytest.fixture
async def db(fresh_backend):
    database = Database(fresh_backend.url)
    await database.upgrade()
    yield database
    await database.dispose()


async def seed(db: Database, url: str, count: int, secret: str = "s3cret") -> str:
    """A partner with one webhook and ``count`` events; returns the tenant id."""
    async with db.session() as session:
        creds = await add_partner(session, f"p-{time.time_ns()}")
        session.add(
            EcWebhook(
                id=f"wh-{time.time_ns()}",
                tenant_id=creds.partner_id,
                url=url,
                secret=secret,
                notification_types=["UserEligibilityUpdated"],
                enabled=True,
            )
        )
        await session.flush()
        for i in range(count):
            await create_event(
                session,
                creds.partner_id,
                {
                    "payloadType": "UserEligibility",
                    "lastUpdated": utcnow().isoformat(),
                    "addedUsers": [f"user-{i}"],
                    "removedUsers": [],
                },
            )
        await session.commit()
    return creds.partner_id


def start_worker(url: str, data_dir, **env_overrides) -> subprocess.Popen:
    env = dict(os.environ)
    env.update(
        {
            "FLEXHUB_DATABASE_URL": url,
            "FLEXHUB_DATA_DIR": str(data_dir),
            "FLEXHUB_WEBHOOK_ALLOW_PRIVATE": "true",
            "FLEXHUB_WORKER_POLL_SECONDS": "0.5",
            "FLEXHUB_WORKER_LEASE_SECONDS": "3",
            "FLEXHUB_WORKER_BATCH": "10",
        }
    )
    env.update({k: str(v) for k, v in env_overrides.items()})
    return subprocess.Popen(
        [sys.executable, "-m", "flexhub.cli", "worker"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


async def wait_ready(proc: subprocess.Popen, timeout: float = 30) -> None:
    """Wait for the worker's start-up line."""
    loop = asyncio.get_running_loop()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = await asyncio.wait_for(
            loop.run_in_executor(None, proc.stdout.readline), deadline - time.monotonic()
        )
        if not line:
            raise AssertionError(f"worker exited with {proc.wait()}")
        if "delivering" in line:
            threading.Thread(target=proc.stdout.read, daemon=True).start()  # keep the pipe drained
            return
    raise AssertionError("worker did not start")


async def outbox_states(db: Database, tenant_id: str) -> Counter:
    async with db.session() as session:
        rows = await session.execute(
            select(OutboxRow.status, func.count())
            .where(OutboxRow.tenant_id == tenant_id)
            .group_by(OutboxRow.status)
        )
        return Counter(dict(rows.all()))


async def wait_delivered(db: Database, tenant_id: str, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (await outbox_states(db, tenant_id))["delivered"] == count:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"not all delivered: {await outbox_states(db, tenant_id)}")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


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
