"""Neighbourhoods: the parts of the grid where flexibility is needed, each an area (a polygon)
and/or a list of meter points, in a price area with its currency. Placing a location in them
(point in polygon, or a meter point listed) is what eligibility stands on.

The documented sandbox test areas are loaded as ordinary neighbourhoods when none exists.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.clock import utcnow
from flexhub.store.coordination import Neighbourhood

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
