"""The grid side of the day, over HTTP through :class:`flexhub.clients.CoordinationOperatorClient`
(the operator endpoints, as the admin): the neighbourhoods loaded from GeoJSON, tomorrow's
day-ahead price curves run, and a location power limit (LPC) on one home for the evening peak,
whose acknowledgement state the operator reads back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flexhub.clients import CoordinationOperatorClient
from flexhub.demo.day import Day
from flexhub.demo.homes import Fleet, Home

LPC_HOURS = (16, 21)  # local, end exclusive
LPC_ROOM_KW = 2.0  # what the limit leaves the home's devices above its base load


@dataclass(frozen=True)
class PowerLimit:
    request_id: str
    event_id: str
    location_id: str
    meter_point_id: str
    points: tuple[tuple[datetime, float], ...]  # (UTC hour start, kW)


def lpc_home(fleet: Fleet) -> Home:
    """The home with the most controllable power in the first neighbourhood."""

    def controllable(home: Home) -> float:
        return sum(a.max_import_kw for a in home.assets if a.kind not in ("load", "solar"))

    homes = fleet.homes_in(fleet.areas[0].id) or list(fleet.homes)
    return max(homes, key=lambda h: (controllable(h), h.location_id))


def lpc_limit_kw(home: Home) -> float:
    """The home's highest base load in the limit's hours, plus ``LPC_ROOM_KW``."""
    base = next(a for a in home.assets if a.kind == "load").device["power_kw"]
    return round(max(base[h] for h in range(*LPC_HOURS)) + LPC_ROOM_KW, 1)


async def load_neighbourhoods(operator: CoordinationOperatorClient, fleet: Fleet):
    return await operator.put_neighbourhoods(fleet.feature_collection())


async def run_price_curves(operator: CoordinationOperatorClient, day: Day) -> dict:
    return await operator.run_price_curves(day.date)


async def send_lpc(
    operator: CoordinationOperatorClient, provider_id: str, fleet: Fleet, day: Day
) -> PowerLimit:
    home = lpc_home(fleet)
    kw = lpc_limit_kw(home)
    hours = [day.local(h) for h in range(*LPC_HOURS)]
    answer = await operator.request_lpc(
        {
            "payloadType": "LocationLPC",
            "points": [{"timestamp": h.isoformat(), "maxPowerInKiloWatts": kw} for h in hours],
            "targets": [
                {
                    "partnerId": provider_id,
                    "locationId": home.location_id,
                    "meterPointId": home.meter_point_id,
                }
            ],
        }
    )
    return PowerLimit(
        answer["id"],
        answer["eventIds"][0],
        home.location_id,
        home.meter_point_id,
        tuple((h, kw) for h in hours),
    )
