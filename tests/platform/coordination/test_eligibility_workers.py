"""Two ``flexhub worker`` processes on one PostgreSQL database run the eligibility cycle: every
cycle is run by one of them (the other finds it taken), and each change is announced once."""

from __future__ import annotations

import asyncio
import re
import threading
import time

import pytest
from sqlalchemy import select

from flexhub.platform.auth import add_partner
from flexhub.platform.coordination.services import locations, neighbourhoods, users
from flexhub.platform.coordination.services.locations import LocationSpec
from flexhub.platform.engines.neighbourhoods import parse_collection
from flexhub.store.coordination import EcEvent, EligibilityCycle
from flexhub.store.database import Database
from support.databases import make_backend
from support.geo import collection, square_feature
from support.outbox import start_worker, stop

RAN = re.compile(r"eligibility cycle (\S+) run by .*: (\d+) event")
TAKEN = re.compile(r"eligibility cycle (\S+): already run by another process")


@pytest.fixture(scope="module")
def pg(tmp_path_factory):
    yield from make_backend("postgres", tmp_path_factory.mktemp("cycle-workers"))


class Lines:
    """A process's output lines, read as they come."""

    def __init__(self, proc) -> None:
        self.lines: list[str] = []
        self.thread = threading.Thread(target=self._read, args=(proc,), daemon=True)
        self.thread.start()

    def _read(self, proc) -> None:
        for line in proc.stdout:
            self.lines.append(line)

    def matches(self, pattern: re.Pattern) -> list[tuple[str, ...]]:
        return [m.groups() for line in list(self.lines) if (m := pattern.search(line))]


async def seed(db: Database, count: int) -> tuple[str, list[str]]:
    """A partner with ``count`` users, each with a location in a neighbourhood."""
    area = square_feature("workers-area", 8.0, 62.0, size=0.1)
    async with db.session() as s:
        await neighbourhoods.replace(s, parse_collection(collection(area)), sandbox=False)
    async with db.session() as s:
        creds = await add_partner(s, "cycle-workers", "provider")
        await s.commit()
    ids = [f"u-{i:03d}" for i in range(count)]
    async with db.session() as s:
        await users.create_users(s, creds.partner_id, ids)
    items = [(u, LocationSpec(f"l-{u}", latitude=62.05, longitude=8.05)) for u in ids]
    async with db.session() as s:
        await locations.create_locations_batch(s, creds.partner_id, items)
    return creds.partner_id, ids


async def events(db: Database, tenant_id: str) -> list[EcEvent]:
    async with db.session() as s:
        rows = await s.scalars(
            select(EcEvent)
            .where(EcEvent.tenant_id == tenant_id, EcEvent.payload_type == "UserEligibility")
            .order_by(EcEvent.created_at)
        )
        return list(rows.all())


async def wait_until(check, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.2)


async def test_two_workers_run_each_cycle_once(pg, tmp_path):
    db = Database(pg.url)
    await db.upgrade()
    procs = []
    try:
        tenant, ids = await seed(db, 60)
        env = {"FLEXHUB_ELIGIBILITY_CYCLE_SECONDS": "2", "PYTHONUNBUFFERED": "1"}
        procs = [start_worker(pg.url, tmp_path, **env) for _ in range(2)]
        outputs = [Lines(p) for p in procs]

        async def both_contended() -> bool:
            ran = {s for o in outputs for s, _ in o.matches(RAN)}
            taken = {s for o in outputs for (s,) in o.matches(TAKEN)}
            return len(ran & taken) >= 2 and len(await events(db, tenant)) >= 1

        await wait_until(both_contended)
        (first,) = await events(db, tenant)
        assert first.payload["addedUsers"] == ids and first.payload["removedUsers"] == []

        async with db.session() as s:  # more changes while they run: announced once more
            for u in ids[:5]:
                await users.delete_user(s, tenant, u)

        async def announced_again() -> bool:
            return len(await events(db, tenant)) >= 2

        await wait_until(announced_again)
        ran_before = len({s for o in outputs for s, _ in o.matches(RAN)})

        async def two_more_cycles() -> bool:
            return len({s for o in outputs for s, _ in o.matches(RAN)}) >= ran_before + 2

        await wait_until(two_more_cycles)
        found = await events(db, tenant)
        assert len(found) == 2
        assert found[1].payload["removedUsers"] == ids[:5] and found[1].payload["addedUsers"] == []

        ran = [s for o in outputs for s, _ in o.matches(RAN)]
        assert len(ran) == len(set(ran))  # no cycle was run twice
        taken = {s for o in outputs for (s,) in o.matches(TAKEN)}
        assert len(set(ran) & taken) >= 2  # both tried those cycles: one ran each
        async with db.session() as s:
            claimed = (await s.scalars(select(EligibilityCycle))).all()
        by_start = {c.starts_at.isoformat(): c for c in claimed}
        assert set(ran) <= set(by_start)
        assert sum(c.events for c in claimed) == 2
    finally:
        for p in procs:
            stop(p)
        await db.dispose()
