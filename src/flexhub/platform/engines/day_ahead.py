"""Day-ahead price curves from the need forecast: which registered resources lie in which
neighbourhood, what the forecast says about each neighbourhood's next day, and for each partner
the targets of its PriceCurve event there. Pure rules over what it reads; the Energy
Coordination package publishes the plans (one event per partner and neighbourhood).

Targets: the resources of users that are enrolled and eligible, in the neighbourhood: a
location-bound resource at its location when that location lies in it; a vehicle at each of its
user's locations that lies in it.
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.platform.engines import price_curves
from flexhub.platform.engines.forecast import (
    GridArea,
    NeedForecaster,
    combined_need,
    grid_area,
    lpc_hours,
)
from flexhub.platform.engines.placement import Placement as AreaIndex
from flexhub.platform.engines.raw_rows import plain_rows as _rows
from flexhub.store.coordination import (
    EcEnrollment,
    EcLocation,
    EcLocationMeter,
    EcResource,
    EcUser,
    Neighbourhood,
)
from flexhub.store.grid import ForecastNeed
from flexhub.timeseries import PRICE_AREA_ZONES, local_day_hours, local_day_window

Target = tuple[str, str]  # (resourceId, locationId)


@dataclass
class Placement:
    """What lies in each neighbourhood (by id)."""

    locations: Counter = field(default_factory=Counter)  # area → locations
    resources: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    targets: dict[str, dict[str, list[Target]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(list))
    )  # area → tenant → targets
    # area → tenant → the enrolled, eligible users' locations there with their meter points
    sites: dict[str, dict[str, list[tuple[str, list[str]]]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(list))
    )
    # (tenant, resource) → its own meter point, for power limits
    resource_meters: dict[tuple[str, str], str] = field(default_factory=dict)


@dataclass(frozen=True)
class PlacementRows:
    """What :func:`assemble` places: every partner's locations, meter points, enrolled eligible
    users and resources, as plain tuples."""

    locations: list[tuple]  # (tenant, location, user, latitude, longitude)
    meters: list[tuple]  # (tenant, location, meter point)
    taking_part: list[tuple]  # (tenant, user): enrolled and eligible
    resources: list[tuple]  # (tenant, resource, user, location, type, meter point)


async def placement_rows(session: AsyncSession) -> PlacementRows:
    conn = await session.connection()
    locations = await _rows(
        conn,
        select(
            EcLocation.tenant_id,
            EcLocation.location_id,
            EcLocation.user_id,
            EcLocation.latitude,
            EcLocation.longitude,
        ),
    )
    meters = await _rows(
        conn,
        select(
            EcLocationMeter.tenant_id, EcLocationMeter.location_id, EcLocationMeter.meter_point_id
        ),
    )
    taking_part = await _rows(
        conn,
        select(EcEnrollment.tenant_id, EcEnrollment.user_id)
        .join(
            EcUser,
            (EcUser.tenant_id == EcEnrollment.tenant_id) & (EcUser.user_id == EcEnrollment.user_id),
        )
        .where(EcUser.eligible.is_(True)),
    )
    resources = await _rows(
        conn,
        select(
            EcResource.tenant_id,
            EcResource.resource_id,
            EcResource.user_id,
            EcResource.location_id,
            EcResource.resource_type,
            EcResource.meter_point_id,
        ),
    )
    return PlacementRows(locations, meters, taking_part, resources)


async def place(session: AsyncSession, areas: AreaIndex) -> Placement:
    """Every partner's locations and resources placed in the neighbourhoods, with the targets
    of the enrolled, eligible users."""
    if not areas:
        return Placement()
    rows = await placement_rows(session)
    # 100,000s of rows placed: in a thread, so that the server's event loop keeps answering
    return await asyncio.to_thread(assemble, rows, areas)


def assemble(rows: PlacementRows, areas: AreaIndex) -> Placement:
    """:func:`place` once the rows are read: no I/O, so that it can run off the event loop."""
    out = Placement()
    if not areas:
        return out
    locations = rows.locations
    meters: dict[tuple[str, str], list[str]] = defaultdict(list)
    for tenant_id, location_id, meter in rows.meters:
        meters[(tenant_id, location_id)].append(meter)
    placed = [  # one neighbourhood per location: the placement index's rule
        [] if area_id is None else [area_id]
        for area_id in areas.place_many(
            [row[3] for row in locations],
            [row[4] for row in locations],
            [meters.get((row[0], row[1]), ()) for row in locations],
        )
    ]
    taking_part = set(rows.taking_part)
    at: dict[tuple[str, str], list[str]] = {}  # (tenant, location) → areas
    user_sites: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for (tenant_id, location_id, user_id, _lat, _lon), area_ids in zip(
        locations, placed, strict=True
    ):
        if not area_ids:
            continue
        key = (tenant_id, location_id)
        at[key] = area_ids
        part = (tenant_id, user_id) in taking_part
        sites = user_sites[(tenant_id, user_id)]
        for area_id in area_ids:
            out.locations[area_id] += 1
            sites.append((area_id, location_id))
            if part:
                out.sites[area_id][tenant_id].append((location_id, list(meters.get(key, ()))))
    resources = rows.resources
    counts, targets = out.resources, out.targets
    for tenant_id, resource_id, user_id, location_id, kind, meter in resources:
        if meter is not None:
            out.resource_meters[(tenant_id, resource_id)] = meter
        if location_id is not None:
            area_ids = at.get((tenant_id, location_id))
            if not area_ids:
                continue
            here = [(a, location_id) for a in area_ids]
        else:  # a vehicle: at each of its user's locations in a neighbourhood
            here = user_sites.get((tenant_id, user_id))
            if not here:
                continue
        part = (tenant_id, user_id) in taking_part
        counted: set[str] = set()
        for area_id, site in here:
            if area_id not in counted:
                counted.add(area_id)
                counts[area_id][kind] += 1
            if part:
                targets[area_id][tenant_id].append((resource_id, site))
    return out


def day_zone(row: Neighbourhood) -> str:
    """The zone whose midnight starts the neighbourhood's day: its price area's."""
    return PRICE_AREA_ZONES.get(row.price_area, row.time_zone or "Europe/Oslo")


async def imported_needs(
    session: AsyncSession, rows: Sequence[Neighbourhood], day: date
) -> dict[str, dict[datetime, float]]:
    """Imported needs for the neighbourhoods' local ``day``, by neighbourhood."""
    out: dict[str, dict[datetime, float]] = defaultdict(dict)
    zones: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        zones[day_zone(row)].append(row.id)
    for zone, ids in zones.items():
        start, end = local_day_window(day, zone)
        found = await session.execute(
            select(ForecastNeed.neighbourhood_id, ForecastNeed.hour, ForecastNeed.need_kw).where(
                ForecastNeed.neighbourhood_id.in_(ids),
                ForecastNeed.hour >= start,
                ForecastNeed.hour < end,
            )
        )
        for nid, hour, kw in found.all():
            out[nid][hour] = kw
    return out


@dataclass(frozen=True)
class CurvePlan:
    """One neighbourhood's day: its hours, need and delta, and each partner's targets."""

    area: GridArea
    day: date
    hours: list[datetime]
    need: list[float]
    prices: list[float]
    targets: Mapping[str, list[Target]]  # tenant → targets, sorted
    # tenant → enrolled, eligible locations with meter points (for a limit the forecast raises)
    sites: Mapping[str, list[tuple[str, list[str]]]] = field(default_factory=dict)
    limit_hours: list[datetime] = field(default_factory=list)  # shifting is not enough

    @property
    def need_hours(self) -> int:
        return sum(1 for p in self.prices if p != 0)

    def delta(self):
        return price_curves.curve(
            self.area.price_area,
            zip(self.hours, self.prices, strict=True),
            currency=self.area.currency,
        )


def plan(
    rows: Sequence[Neighbourhood],
    placement: Placement,
    day: date,
    forecaster: NeedForecaster,
    imported: Mapping[str, Mapping[datetime, float]],
) -> list[CurvePlan]:
    """The plan of each neighbourhood (in id order), with or without a need."""
    plans = []
    for row in sorted(rows, key=lambda r: r.id):
        area = grid_area(row, placement.locations.get(row.id, 0), placement.resources.get(row.id))
        hours = local_day_hours(day, day_zone(row))
        need = combined_need(forecaster, area, hours, imported.get(row.id, {}))
        prices = price_curves.need_prices(need, area.capacity_kw, area.currency)
        targets = {
            tenant: sorted(set(found))
            for tenant, found in sorted(placement.targets.get(row.id, {}).items())
        }
        sites = {
            tenant: sorted((loc, ms) for loc, ms in found if ms)
            for tenant, found in sorted(placement.sites.get(row.id, {}).items())
        }
        limit = lpc_hours(area, hours, need)
        plans.append(CurvePlan(area, day, hours, need, prices, targets, sites, limit))
    return plans
