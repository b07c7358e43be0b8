"""The eligibility cycle: every ``FLEXHUB_ELIGIBILITY_CYCLE_SECONDS`` (10 minutes), the users
whose eligibility differs from what their partner was last told (``EcUser.announced``), and
the deleted users it was last told are eligible (``ec_eligibility_gone``), are announced in ONE
``UserEligibility`` event per partner; a user added and removed again in between differs from
nothing and is not mentioned.

Cycles start at whole multiples of the cycle length (UTC, since the epoch), so every process
agrees on them. It runs in ``platform serve`` and in each ``flexhub worker``; a cycle is
claimed by inserting its start into ``eligibility_cycles`` (the primary key), so of several
processes exactly one runs it (on PostgreSQL the others wait for the winner's commit and find
the start taken; a winner that dies rolls back and the next one claims it). The claim, the
events with their outbox rows and the removal of what they announce are one transaction.

Concurrent writes: the cycle marks the users it announces told in one statement that skips
users a write holds (``FOR UPDATE SKIP LOCKED``), so it never waits for one nor announces a
state that is not committed; a skipped user is announced by the next cycle.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.clock import utcnow
from flexhub.platform.coordination.events import create_event
from flexhub.store.coordination import EcEligibilityGone, EcUser, EligibilityCycle
from flexhub.store.database import Database
from flexhub.wire.coordination.events import UserEligibilityPayload

log = logging.getLogger("flexhub.coordination.eligibility")
IN_SLICE = 1000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
KEEP_CYCLES = timedelta(days=7)  # claims older than this are deleted by the next cycle


@dataclass(frozen=True)
class CycleRun:
    starts_at: datetime
    events: int  # UserEligibility events created (one per partner with a net change)
    users: int  # users announced (added and removed)


def cycle_start(now: datetime, seconds: float) -> datetime:
    """The start of the cycle ``now`` falls in."""
    elapsed = (now - EPOCH).total_seconds()
    return EPOCH + timedelta(seconds=(elapsed // seconds) * seconds)


def default_runner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:64]


async def _claim(session: AsyncSession, starts_at: datetime, runner: str) -> bool:
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(EligibilityCycle)
        .values(starts_at=starts_at, runner=runner, ran_at=utcnow(), events=0, users=0)
        .on_conflict_do_nothing(index_elements=["starts_at"])
        .returning(EligibilityCycle.starts_at)
    )
    return (await session.execute(statement)).first() is not None


async def _flipped(session: AsyncSession) -> list:
    """The users whose eligibility differs from what their partner was last told, now marked
    told: ``(tenant_id, user_id, eligible, eligibility_changed_at)``. A user a write holds
    right now is skipped (``SKIP LOCKED``): its change is the next cycle's."""
    differing = (
        select(EcUser.tenant_id, EcUser.user_id)
        .where(EcUser.eligible != EcUser.announced)
        .with_for_update(skip_locked=True)
    )
    statement = (
        update(EcUser)
        .where(tuple_(EcUser.tenant_id, EcUser.user_id).in_(differing))
        .values(announced=EcUser.eligible)
        .returning(EcUser.tenant_id, EcUser.user_id, EcUser.eligible, EcUser.eligibility_changed_at)
    )
    return list(
        (await session.execute(statement.execution_options(synchronize_session=False))).all()
    )


async def _gone(session: AsyncSession) -> list:
    """Deleted users their partner was last told are eligible, removed from the table:
    ``(tenant_id, user_id, changed_at)``."""
    statement = delete(EcEligibilityGone).returning(
        EcEligibilityGone.tenant_id, EcEligibilityGone.user_id, EcEligibilityGone.changed_at
    )
    return list((await session.execute(statement)).all())


async def run_cycle(
    db: Database, starts_at: datetime, runner: str | None = None
) -> CycleRun | None:
    """Run the cycle starting at ``starts_at`` unless some process has (then None)."""
    runner = (runner or default_runner())[:64]
    async with db.session() as session:
        if not await _claim(session, starts_at, runner):
            await session.rollback()
            return None
        gone = await _gone(session)
        flipped = await _flipped(session)
        added: dict[str, set[str]] = defaultdict(set)
        removed: dict[str, set[str]] = defaultdict(set)
        latest: dict[str, datetime] = {}

        def touch(tenant_id: str, at: datetime | None) -> None:
            if at is not None and (tenant_id not in latest or at > latest[tenant_id]):
                latest[tenant_id] = at

        for tenant_id, user_id, changed_at in gone:
            removed[tenant_id].add(user_id)
            touch(tenant_id, changed_at)
        for tenant_id, user_id, eligible, changed_at in flipped:
            touch(tenant_id, changed_at)
            if not eligible:
                removed[tenant_id].add(user_id)
            elif user_id in removed[tenant_id]:  # deleted, made again and eligible: as told
                removed[tenant_id].discard(user_id)
            else:
                added[tenant_id].add(user_id)
        events = users = 0
        for tenant_id in sorted(set(added) | set(removed)):
            if not added[tenant_id] and not removed[tenant_id]:
                continue
            payload = UserEligibilityPayload(
                lastUpdated=latest.get(tenant_id) or utcnow(),
                addedUsers=sorted(added[tenant_id]),
                removedUsers=sorted(removed[tenant_id]),
            )
            await create_event(session, tenant_id, payload)
            events += 1
            users += len(added[tenant_id]) + len(removed[tenant_id])
        await session.execute(
            update(EligibilityCycle)
            .where(EligibilityCycle.starts_at == starts_at)
            .values(events=events, users=users)
        )
        await session.execute(  # the record of claims needs to reach back only so far
            delete(EligibilityCycle).where(EligibilityCycle.starts_at < starts_at - KEEP_CYCLES)
        )
        await session.commit()
    return CycleRun(starts_at, events, users)


async def run_cycles(
    db: Database, seconds: float, stop: asyncio.Event, runner: str | None = None
) -> None:
    """Run each cycle as it starts, until ``stop`` is set."""
    runner = runner or default_runner()
    last: datetime | None = None
    while not stop.is_set():
        now = utcnow()
        due = cycle_start(now, seconds) + timedelta(seconds=seconds)
        if last is not None and due <= last:
            due = last + timedelta(seconds=seconds)
        try:
            await asyncio.wait_for(stop.wait(), timeout=max(0.0, (due - now).total_seconds()))
            return
        except TimeoutError:
            pass
        last = due
        try:
            done = await run_cycle(db, due, runner)
        except Exception:
            log.exception("eligibility cycle %s failed; its changes wait for the next", due)
            continue
        if done is None:
            log.info("eligibility cycle %s: already run by another process", due.isoformat())
        else:
            log.info(
                "eligibility cycle %s run by %s: %d event(s), %d user(s)",
                due.isoformat(),
                runner,
                done.events,
                done.users,
            )
