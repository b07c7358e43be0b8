"""The provider registers its homes on the Energy Coordination API (users, locations with their
meter points and coordinates, location-bound resources and vehicles, enrollment) and its
aggregated home batteries as Flex Market assets, all through :mod:`flexhub.clients`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from decimal import Decimal
from typing import Any

from flexhub.clients import CoordinationClient, FlexMarketProviderClient
from flexhub.demo.homes import Area, Fleet

BATCH = 500
IN_FLIGHT = 8


async def _bounded(calls: Iterable[Callable[[], Awaitable[Any]]], tick: Callable[[], None]) -> None:
    gate = asyncio.Semaphore(IN_FLIGHT)

    async def one(call: Callable[[], Awaitable[Any]]) -> None:
        async with gate:
            await call()
        tick()

    await asyncio.gather(*(one(c) for c in calls))


async def register_homes(
    ec: CoordinationClient, fleet: Fleet, tick: Callable[[], None] = lambda: None
) -> int:
    """Every home as the provider's user; returns how many API calls it took."""
    homes = list(fleet.homes)
    calls = 0
    for i in range(0, len(homes), BATCH):
        await ec.create_users([h.user_id for h in homes[i : i + BATCH]])
        calls += 1
    for i in range(0, len(homes), BATCH):
        await ec.create_locations(
            [
                {
                    "userId": h.user_id,
                    "locationId": h.location_id,
                    "locationType": "Residential",
                    "coordinates": {"latitude": h.latitude, "longitude": h.longitude},
                    "meterPointIds": [h.meter_point_id],
                }
                for h in homes[i : i + BATCH]
            ]
        )
        calls += 1
    jobs: list[Callable[[], Awaitable[Any]]] = []
    for home in homes:
        for asset in home.assets:
            if asset.resource_type is None:
                continue
            if asset.vehicle:
                jobs.append(lambda h=home, a=asset: ec.create_vehicle(h.user_id, a.asset_id))
            else:
                jobs.append(
                    lambda h=home, a=asset: ec.create_location_resource(
                        h.user_id, h.location_id, a.asset_id, a.resource_type, h.meter_point_id
                    )
                )
        jobs.append(lambda h=home: ec.create_enrollment(h.user_id))
    await _bounded(jobs, tick)
    return calls + len(jobs)


def battery_mw(fleet: Fleet, area: Area) -> Decimal:
    kw = sum(a.max_export_kw for _, a in fleet.batteries(area.id))
    return Decimal(kw / 1000).quantize(Decimal("0.001"))


async def register_flex_assets(fm: FlexMarketProviderClient, fleet: Fleet) -> dict[str, str]:
    """One Flex Market asset per neighbourhood: its homes' batteries, aggregated. Returns
    neighbourhood id -> Flex Market asset id (neighbourhoods without batteries get none)."""
    out = {}
    for area in fleet.areas:
        mw = battery_mw(fleet, area)
        if mw <= 0:
            continue
        asset = await fm.create_asset(
            {
                "ref": f"batteries-{area.id}",
                "name": f"Home batteries, {area.name}",
                "status": "operational",
                "asset_category": "storage",
                "asset_type": "battery",
                "voltage_level": "0.40",
                "country_code": "NO",
                "latitude": f"{area.lat + area.size / 2:.6f}",
                "longitude": f"{area.lon + area.size / 2:.6f}",
                "active_export_capacity": str(mw),
                "response_time": "00:01:00",
            }
        )
        out[area.id] = asset.id
    return out
