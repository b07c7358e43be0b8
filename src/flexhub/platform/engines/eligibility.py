"""Eligibility: which locations lie in a neighbourhood with a need for flexibility.

A location is eligible when a configured :class:`Neighbourhood` contains its coordinates
(point in polygon) or lists one of its meter points; a user is eligible when any of its
locations is. Writes that can change this call :func:`refresh_users` (or
:func:`users_deleted`) in their transaction; users whose eligibility flips are stored on
``EcUser.eligible`` and reported in ONE ``UserEligibility`` event per call.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.platform.coordination.events import create_event, iso
from flexhub.store.base import utcnow
from flexhub.store.coordination import EcLocation, EcLocationMeter, EcUser, Neighbourhood

Ring = Sequence[Sequence[float]]  # [[longitude, latitude], ...]

SANDBOX_HALF_SIZE_DEG = 0.05
# The sandbox test areas of the documentation (Svalbard). Svalbard is outside the Nordic price
# areas; NO4 (northern Norway) is the closest plausible one, and the currency is NOK.
SANDBOX_AREAS = (
    ("sandbox-test-area-1", "Sandbox test area 1", 79.51913682860402, 15.97611317258921),
    ("sandbox-test-area-2", "Sandbox test area 2", 78.22094240482632, 15.619465054484257),
)
SANDBOX_PRICE_AREA = "NO4"


def point_in_polygon(latitude: float, longitude: float, ring: Ring) -> bool:
    """Even-odd ray casting on a ``[[lon, lat], ...]`` ring (closed or not).

    Points exactly on an edge may fall either way; neighbourhoods are areas, not lines."""
    if len(ring) < 3:
        return False
    inside = False
    x, y = longitude, latitude
    prev_x, prev_y = ring[-1][0], ring[-1][1]
    for point in ring:
        cur_x, cur_y = point[0], point[1]
        if (cur_y > y) != (prev_y > y):
            cross_x = cur_x + (y - cur_y) * (prev_x - cur_x) / (prev_y - cur_y)
            if x < cross_x:
                inside = not inside
        prev_x, prev_y = cur_x, cur_y
    return inside


@dataclass(frozen=True)
class Area:
    """A neighbourhood in the shape the checks need."""

    id: str
    name: str
    price_area: str
    currency: str
    ring: tuple[tuple[float, float], ...] | None
    meters: frozenset[str]
    bbox: tuple[float, float, float, float] | None  # min_lon, min_lat, max_lon, max_lat

    @classmethod
    def of(cls, row: Neighbourhood) -> Area:
        ring = None
        bbox = None
        if row.polygon:
            ring = tuple((float(p[0]), float(p[1])) for p in row.polygon)
            lons = [p[0] for p in ring]
            lats = [p[1] for p in ring]
            bbox = (min(lons), min(lats), max(lons), max(lats))
        return cls(
            id=row.id,
            name=row.name,
            price_area=row.price_area,
            currency=row.currency,
            ring=ring,
            meters=frozenset(row.meter_point_ids or ()),
            bbox=bbox,
        )

    def contains_point(self, latitude: float | None, longitude: float | None) -> bool:
        if self.ring is None or self.bbox is None or latitude is None or longitude is None:
            return False
        min_lon, min_lat, max_lon, max_lat = self.bbox
        if not (min_lon <= longitude <= max_lon and min_lat <= latitude <= max_lat):
            return False
        return point_in_polygon(latitude, longitude, self.ring)

    def contains(
        self, latitude: float | None, longitude: float | None, meter_point_ids: Iterable[str]
    ) -> bool:
        return any(m in self.meters for m in meter_point_ids) or self.contains_point(
            latitude, longitude
        )


async def load_areas(session: AsyncSession) -> list[Area]:
    rows = await session.scalars(select(Neighbourhood).order_by(Neighbourhood.id))
    return [Area.of(r) for r in rows.all()]


def areas_for(
    areas: Iterable[Area],
    latitude: float | None,
    longitude: float | None,
    meter_point_ids: Iterable[str],
) -> list[Area]:
    """The neighbourhoods a location (coordinates and meters) lies in."""
    meters = list(meter_point_ids)
    return [a for a in areas if a.contains(latitude, longitude, meters)]


def meter_in_areas(areas: Iterable[Area], meter_point_id: str) -> bool:
    return any(meter_point_id in a.meters for a in areas)


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
) -> tuple[list[str], list[str]]:
    """Recompute the eligibility of these users after a write (same transaction; the caller
    commits). Returns ``(added, removed)``; when non-empty, one UserEligibility event holds them.
    """
    ids = sorted(set(user_ids))
    if not ids:
        return [], []
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
    await publish_changes(session, tenant_id, sorted(added), sorted(removed))
    return added, removed


async def users_deleted(session: AsyncSession, tenant_id: str, users: Iterable[Any]) -> None:
    """Users just deleted (rows with ``user_id`` and ``eligible``, as the DELETE returned
    them): the eligible ones leave in one UserEligibility event."""
    removed = sorted(u.user_id for u in users if u.eligible)
    await publish_changes(session, tenant_id, [], removed)


async def publish_changes(
    session: AsyncSession, tenant_id: str, added: list[str], removed: list[str]
) -> None:
    if not added and not removed:
        return
    await create_event(
        session,
        tenant_id,
        {
            "payloadType": "UserEligibility",
            "lastUpdated": iso(utcnow()),
            "addedUsers": added,
            "removedUsers": removed,
        },
    )


def square(latitude: float, longitude: float, half: float) -> list[list[float]]:
    """A closed ``[[lon, lat], ...]`` square ring around a point."""
    return [
        [longitude - half, latitude - half],
        [longitude + half, latitude - half],
        [longitude + half, latitude + half],
        [longitude - half, latitude + half],
        [longitude - half, latitude - half],
    ]


async def ensure_sandbox_neighbourhoods(session: AsyncSession) -> int:
    """Insert the documented sandbox test areas when no neighbourhood exists yet (the caller
    commits). Returns how many were added."""
    count = await session.scalar(select(func.count()).select_from(Neighbourhood))
    if count:
        return 0
    for area_id, name, latitude, longitude in SANDBOX_AREAS:
        session.add(
            Neighbourhood(
                id=area_id,
                name=name,
                price_area=SANDBOX_PRICE_AREA,
                currency="NOK",
                polygon=square(latitude, longitude, SANDBOX_HALF_SIZE_DEG),
                meter_point_ids=[],
                created_at=utcnow(),
            )
        )
    await session.flush()
    return len(SANDBOX_AREAS)
