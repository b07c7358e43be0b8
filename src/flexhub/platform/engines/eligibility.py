"""Eligibility: which users have a location in a neighbourhood with a need for flexibility.

A location is eligible when a neighbourhood contains its coordinates or lists one of its meter
points (``neighbourhoods``); a user is eligible when any of its locations is. Writes that can
change this call :func:`refresh_users` (or :func:`users_deleted`) in their transaction; users
whose eligibility flips are stored on ``EcUser.eligible`` and returned as one
:class:`EligibilityChange`, which the Energy Coordination API publishes as ONE
``UserEligibility`` event.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.platform.engines.neighbourhoods import areas_for, load_areas
from flexhub.store.coordination import EcLocation, EcLocationMeter, EcUser


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
    meters: dict[str, list[str]] = {}
    if locations:  # by user, not by location id: users may have more locations than one IN
        rows = await session.execute(
            select(EcLocationMeter.location_id, EcLocationMeter.meter_point_id)
            .join(
                EcLocation,
                (EcLocation.tenant_id == EcLocationMeter.tenant_id)
                & (EcLocation.location_id == EcLocationMeter.location_id),
            )
            .where(EcLocationMeter.tenant_id == tenant_id, EcLocation.user_id.in_(ids))
            .order_by(EcLocationMeter.position, EcLocationMeter.meter_point_id)
        )
        for location_id, meter in rows.all():
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


async def refresh_users(
    session: AsyncSession, tenant_id: str, user_ids: Iterable[str]
) -> EligibilityChange:
    """Recompute the eligibility of these users after a write (same transaction; the caller
    publishes what changed and commits)."""
    ids = sorted(set(user_ids))
    if not ids:
        return EligibilityChange()
    await session.flush()
    # read afresh and locked: a concurrent write to the same user waits for this one to commit
    # and then sees its result, so each change is published once
    users = await lock_users(session, tenant_id, ids)
    areas = await load_areas(session)
    eligible: set[str] = set()
    for location, meters in await locations_with_meters(session, tenant_id, ids):
        if location.user_id not in eligible and areas_for(
            areas, location.latitude, location.longitude, meters
        ):
            eligible.add(location.user_id)
    added: list[str] = []
    removed: list[str] = []
    for user in users:
        now_eligible = user.user_id in eligible
        if now_eligible != bool(user.eligible):
            user.eligible = now_eligible
            (added if now_eligible else removed).append(user.user_id)
    return EligibilityChange(sorted(added), sorted(removed))


def users_deleted(users: Iterable[Any]) -> EligibilityChange:
    """Users just deleted (rows with ``user_id`` and ``eligible``, as the DELETE returned
    them): the eligible ones leave."""
    return EligibilityChange([], sorted(u.user_id for u in users if u.eligible))
