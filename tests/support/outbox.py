"""Filling the outbox through the real event path, and running ``flexhub worker`` as separate
processes: start one, wait until it delivers, stop it; read the outbox's delivery states."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter

from sqlalchemy import func, select

from flexhub.clock import utcnow
from flexhub.platform.auth import add_partner
from flexhub.platform.coordination.events import create_event
from flexhub.store.coordination import EcWebhook
from flexhub.store.database import Database
from flexhub.store.delivery import OutboxRow


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
