"""Eligibility: which users have a location in a neighbourhood with a need for flexibility.

A location is eligible when a neighbourhood contains its coordinates or lists one of its meter
points (``placement``); a user is eligible when any of its locations is. Writes that can
change this call :func:`refresh_users` in their transaction, and a reload of the
neighbourhoods calls :func:`reassess_all`; users whose eligibility flips are stored on
``EcUser.eligible`` at once (with ``eligibility_changed_at``) and returned as an
:class:`EligibilityChange` per partner; the Energy Coordination API's eligibility cycle
announces what differs from what each partner was last told (``EcUser.announced``).

Concurrency: a write to a user locks the user (:func:`lock_users`), and before that takes the
placement guard shared (:func:`hold_guard`); a reload takes it exclusively, so it sees every
location a concurrent write stored and no write places with the neighbourhoods it replaces.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from flexhub.clock import utcnow
from flexhub.platform.engines.neighbourhood_rows import placement
from flexhub.platform.engines.raw_rows import plain_rows
from flexhub.store.coordination import EcLocation, EcLocationMeter, EcUser

GUARD_KEY = 0x666C_6578_656C_6967  # "flexelig": the placement guard's advisory lock
IN_SLICE = 1000  # values per IN (...) list


@dataclass(frozen=True)
class EligibilityChange:
    """Users who became eligible (``added``) and who no longer are (``removed``), sorted."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed)


async def locations_with_meters(
    session: AsyncSession, tenant_id: str, user_ids: Iterable[str]
) -> list[tuple[EcLocation, list[str]]]:
    """The users' locations, each with its meter point ids in registration order."""
    ids = list(set(user_ids))
    if not ids:
        return []
    locations = (
        await session.scalars(
            select(EcLocation).where(EcLocation.tenant_id == tenant_id, EcLocation.user_id.in_(ids))
        )
    ).all()
    found: list[tuple[int, str, str]] = []
    location_ids = [loc.location_id for loc in locations]
    # by location id, a slice per statement on the (tenant, location) index: a join on the
    # users' ids let PostgreSQL pick a nested loop over a batch's fresh rows (10,000 locations
    # took 20 s)
    for start in range(0, len(location_ids), IN_SLICE):
        rows = await session.execute(
            select(
                EcLocationMeter.position,
                EcLocationMeter.meter_point_id,
                EcLocationMeter.location_id,
            ).where(
                EcLocationMeter.tenant_id == tenant_id,
                EcLocationMeter.location_id.in_(location_ids[start : start + IN_SLICE]),
            )
        )
        found.extend(rows.all())
    meters: dict[str, list[str]] = {}
    for _, meter, location_id in sorted(found):  # registration order
        meters.setdefault(location_id, []).append(meter)
    return [(loc, meters.get(loc.location_id, [])) for loc in locations]


async def lock_users(
    session: AsyncSession, tenant_id: str, user_ids: Iterable[str]
) -> list[EcUser]:
    """The users that exist, read afresh and locked until the transaction ends, in id order.

    Writes that change what a user owns lock the user first: concurrent writes to the same user
    then take turns and each sees the others' result (also when it recomputes eligibility),
    and as the user always comes before its locations they cannot deadlock. PostgreSQL locks
    the rows (``FOR NO KEY UPDATE``: rows that merely reference them are not held up); SQLite
    has no row locks but one write lock, taken here by a write that changes nothing."""
    ids = sorted(set(user_ids))
    if not ids:
        return []
    await hold_guard(session)
    where = (EcUser.tenant_id == tenant_id, EcUser.user_id.in_(ids))
    if session.bind.dialect.name == "sqlite":
        touch = update(EcUser).where(*where).values(eligible=EcUser.eligible)
        await session.execute(touch.execution_options(synchronize_session=False))
    rows = await session.scalars(
        select(EcUser)
        .where(*where)
        .order_by(EcUser.user_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    return list(rows.all())


async def lock_user_flags(
    session: AsyncSession, tenant_id: str, user_ids: Iterable[str]
) -> dict[str, bool]:
    """:func:`lock_users` without ORM entities (a batch of 10,000 users): the users that exist,
    locked until the transaction ends, with their stored eligibility flag."""
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    await hold_guard(session)
    flags: dict[str, bool] = {}
    for start in range(0, len(ids), IN_SLICE * 10):
        where = (
            EcUser.tenant_id == tenant_id,
            EcUser.user_id.in_(ids[start : start + IN_SLICE * 10]),
        )
        if session.bind.dialect.name == "sqlite":
            touch = update(EcUser).where(*where).values(eligible=EcUser.eligible)
            await session.execute(touch.execution_options(synchronize_session=False))
        rows = await session.execute(
            select(EcUser.user_id, EcUser.eligible)
            .where(*where)
            .order_by(EcUser.user_id)
            .with_for_update(key_share=True)
        )
        flags.update((user_id, bool(flag)) for user_id, flag in rows.all())
    return flags


async def _placed_users(session: AsyncSession, tenant_id: str, ids: list[str]) -> set[str]:
    """Those of the users with a location in a neighbourhood (core rows, placed in bulk)."""
    index = await placement(session)
    if not len(index):
        return set()
    located: list[tuple[str, str, float | None, float | None]] = []
    for start in range(0, len(ids), IN_SLICE * 10):
        rows = await session.execute(
            select(
                EcLocation.user_id, EcLocation.location_id, EcLocation.latitude,
                EcLocation.longitude,
            ).where(
                EcLocation.tenant_id == tenant_id,
                EcLocation.user_id.in_(ids[start : start + IN_SLICE * 10]),
            )
        )  # fmt: skip
        located.extend(rows.all())
    if not located:
        return set()
    users, _, lat, lon = zip(*located, strict=True)
    placed = index.place_many(lat, lon)
    eligible = {users[i] for i, area in enumerate(placed) if area is not None}
    if index.meters:  # a neighbourhood that lists meter points: the locations' meters asked
        owner = {location_id: user_id for user_id, location_id, _, _ in located}
        unplaced = [lid for lid, uid in owner.items() if uid not in eligible]
        for start in range(0, len(unplaced), IN_SLICE):
            rows = await session.execute(
                select(EcLocationMeter.location_id, EcLocationMeter.meter_point_id).where(
                    EcLocationMeter.tenant_id == tenant_id,
                    EcLocationMeter.location_id.in_(unplaced[start : start + IN_SLICE]),
                )
            )
            eligible.update(owner[lid] for lid, meter in rows.all() if meter in index.meters)
    return eligible


async def refresh_users(
    session: AsyncSession, tenant_id: str, user_ids: Iterable[str]
) -> EligibilityChange:
    """Recompute the eligibility of these users after a write (same transaction; the caller
    publishes what changed and commits). Read and written as core rows (a batch of 10,000
    locations placed in one vectorised call, the flips stored in one statement on
    PostgreSQL); users the session already holds get the new flag too."""
    ids = sorted(set(user_ids))
    if not ids:
        return EligibilityChange()
    await session.flush()
    # read afresh and locked: a concurrent write to the same user waits for this one to commit
    # and then sees its result, so each change is published once
    stored = await lock_user_flags(session, tenant_id, ids)
    eligible = await _placed_users(session, tenant_id, ids)
    added = sorted(u for u, flag in stored.items() if not flag and u in eligible)
    removed = sorted(u for u, flag in stored.items() if flag and u not in eligible)
    change = EligibilityChange(added, removed)
    if change:
        await _store_flags(session, {tenant_id: change})
        flipped = dict.fromkeys(added, True) | dict.fromkeys(removed, False)
        for held in list(session.identity_map.values()):
            mine = isinstance(held, EcUser) and held.tenant_id == tenant_id
            if mine and held.user_id in flipped:
                set_committed_value(held, "eligible", flipped[held.user_id])
    return change


async def hold_guard(session: AsyncSession, *, exclusive: bool = False) -> None:
    """Take the placement guard until the transaction ends: shared by writes to users (before
    they lock any user), exclusive by a reload of the neighbourhoods. PostgreSQL: an advisory
    lock; SQLite has one writer at a time, taken here by a write that changes nothing."""
    if session.bind.dialect.name == "postgresql":
        function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
        await session.execute(text(f"SELECT {function}(:key)"), {"key": GUARD_KEY})
    elif exclusive:
        touch = update(EcUser).where(EcUser.tenant_id.is_(None)).values(eligible=False)
        await session.execute(touch.execution_options(synchronize_session=False))


async def eligible_now(session: AsyncSession) -> dict[str, set[str]]:
    """Every partner's users who lie in a neighbourhood now (locations read and placed in
    bulk: coordinates vectorised through the index; meters listed by a neighbourhood looked
    up, a slice of them per statement)."""
    index = await placement(session)
    eligible: dict[str, set[str]] = {}
    if not len(index):
        return eligible
    rows = await plain_rows(  # on PostgreSQL read by asyncpg itself: no ORM rows
        await session.connection(),
        select(EcLocation.tenant_id, EcLocation.user_id, EcLocation.latitude, EcLocation.longitude),
    )
    if rows:
        tenants, users, lat, lon = zip(*rows, strict=True)
        placed = index.place_points(
            np.array(lat, dtype=np.float64), np.array(lon, dtype=np.float64)
        )
        for i in np.flatnonzero(placed >= 0).tolist():
            eligible.setdefault(tenants[i], set()).add(users[i])
    listed = sorted(index.meters)
    for start in range(0, len(listed), IN_SLICE):
        metered = await session.execute(
            select(EcLocation.tenant_id, EcLocation.user_id)
            .join(
                EcLocationMeter,
                (EcLocationMeter.tenant_id == EcLocation.tenant_id)
                & (EcLocationMeter.location_id == EcLocation.location_id),
            )
            .where(EcLocationMeter.meter_point_id.in_(listed[start : start + IN_SLICE]))
        )
        for tenant_id, user_id in metered.all():
            eligible.setdefault(tenant_id, set()).add(user_id)
    return eligible


async def reassess_all(session: AsyncSession) -> dict[str, EligibilityChange]:
    """After the neighbourhoods changed (same transaction, the guard held exclusively): every
    user's eligibility recomputed and stored; what flipped, per partner. The caller publishes
    and commits."""
    await session.flush()
    now_eligible = await eligible_now(session)
    stored = (
        await session.execute(
            select(EcUser.tenant_id, EcUser.user_id).where(EcUser.eligible.is_(True))
        )
    ).all()
    was_eligible: dict[str, set[str]] = {}
    for tenant_id, user_id in stored:
        was_eligible.setdefault(tenant_id, set()).add(user_id)
    changes: dict[str, EligibilityChange] = {}
    for tenant_id in sorted(set(now_eligible) | set(was_eligible)):
        now, was = now_eligible.get(tenant_id, set()), was_eligible.get(tenant_id, set())
        change = EligibilityChange(sorted(now - was), sorted(was - now))
        if change:
            changes[tenant_id] = change
    await _store_flags(session, changes)
    return changes


# every partner's flips in one statement: the arrays joined to the users on their key, and
# only rows whose flag differs are written
_PG_FLAGS = text(
    "UPDATE ec_users AS u SET eligible = v.eligible, eligibility_changed_at = :at "
    "FROM unnest(CAST(:tenants AS varchar[]), CAST(:users AS varchar[]), "
    "CAST(:flags AS boolean[])) AS v(tenant_id, user_id, eligible) "
    "WHERE u.tenant_id = v.tenant_id AND u.user_id = v.user_id "
    "AND u.eligible IS DISTINCT FROM v.eligible"
)


async def _store_flags(session: AsyncSession, changes: dict[str, EligibilityChange]) -> None:
    """Store every partner's flipped flags (with the time they flipped): on PostgreSQL one
    statement for all partners; on SQLite one per partner, flag and slice of ids."""
    if not changes:
        return
    at = utcnow()
    if session.bind.dialect.name == "postgresql":
        tenants: list[str] = []
        users: list[str] = []
        flags: list[bool] = []
        for tenant_id, change in changes.items():
            for user_ids, flag in ((change.added, True), (change.removed, False)):
                tenants.extend([tenant_id] * len(user_ids))
                users.extend(user_ids)
                flags.extend([flag] * len(user_ids))
        await session.execute(
            _PG_FLAGS, {"at": at, "tenants": tenants, "users": users, "flags": flags}
        )
        return
    for tenant_id, change in changes.items():
        for user_ids, flag in ((change.added, True), (change.removed, False)):
            for start in range(0, len(user_ids), IN_SLICE):
                statement = (
                    update(EcUser)
                    .where(
                        EcUser.tenant_id == tenant_id,
                        EcUser.user_id.in_(user_ids[start : start + IN_SLICE]),
                    )
                    .values(eligible=flag, eligibility_changed_at=at)
                )
                await session.execute(statement.execution_options(synchronize_session=False))
