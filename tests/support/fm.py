"""Helpers for the Flex Market tests: a system operator, a provider, a competition whose one
service window is open around the clock (starting 6 hours before now, so that every instruction
from now-6h to now+17h lies inside one window happening), and an obligation awarded under it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from support.platform import Partner

DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS = DAYS[:5]


def z(value: datetime) -> str:
    """ISO-8601 UTC with Z, whole seconds."""
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def now() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    return now().date()


def competition_body(**overrides: Any) -> dict[str, Any]:
    hour = (now() - timedelta(hours=6)).hour
    body: dict[str, Any] = {
        "ref": f"comp-{uuid.uuid4().hex[:8]}",
        "name": "Test competition",
        "need_direction": "deficit",
        "power_type": "active",
        "currency": "GBP",
        "area": {"type": "Polygon", "coordinates": [[[0, 51], [1, 51], [1, 52], [0, 51]]]},
        "bidding_open": z(now() - timedelta(days=10)),
        "bidding_close": z(now() - timedelta(days=5)),
        "service_periods": [
            {
                "name": "All year",
                "start": str(today() - timedelta(days=30)),
                "end": str(today() + timedelta(days=60)),
                "service_windows": [
                    {
                        "name": "Around the clock",
                        "start_time": f"{hour:02d}:00:00",
                        "end_time": f"{hour:02d}:00:00",
                        "service_days": DAYS,
                        "bank_holidays": "included",
                    }
                ],
            }
        ],
    }
    body.update(overrides)
    return body


def obligation_body(
    comp: dict[str, Any], provider_id: str, assets: list[str], /, **overrides: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "competition_id": comp["id"],
        "provider": provider_id,
        "bid_id": f"bid-{uuid.uuid4().hex[:8]}",
        "service_window_id": comp["service_periods"][0]["service_windows"][0]["id"],
        "start": str(today() - timedelta(days=2)),
        "end": str(today() + timedelta(days=30)),
        "capacity": "2.000",
        "need_direction": comp["need_direction"],
        "max_runtime": "04:00:00",
        "rates": [
            {"type": "availability", "value": "12.50"},
            {"type": "utilisation", "value": "300.00"},
        ],
        "assets": {"flex": assets, "planned": []},
    }
    body.update(overrides)
    return body


def asset_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "ref": f"asset-{uuid.uuid4().hex[:8]}",
        "name": "Battery one",
        "status": "operational",
        "asset_category": "storage",
        "asset_type": "battery",
        "voltage_level": "11.00",
        "country_code": "GB",
        "postcode": "SW1A 1AA",
        "active_export_capacity": "2.500",
        "response_time": "00:05:00",
    }
    body.update(overrides)
    return body


async def ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text)
    return response.json()


@dataclass
class Market:
    so: Partner
    fsp: Partner
    competition: dict[str, Any]
    obligation: dict[str, Any]
    asset: dict[str, Any]

    async def dispatch(self, **overrides: Any) -> httpx.Response:
        """POST /so/v1/dispatches/ for 1 MW from now+1h for an hour, unless overridden."""
        return await self.so.client.post("/so/v1/dispatches/", json=self.dispatch_body(**overrides))

    def dispatch_body(self, **overrides: Any) -> dict[str, Any]:
        start = now().replace(microsecond=0) + timedelta(hours=1)
        body = {
            "so_reference": f"so-{uuid.uuid4().hex[:10]}",
            "obligation_id": self.obligation["id"],
            "start": z(start),
            "end": z(start + timedelta(hours=1)),
            "capacity": "1.000",
            "need_direction": self.obligation["need_direction"],
            "instruction_type": "dispatch",
        }
        body.update(overrides)
        return body


async def market(make_partner, *, competition: dict[str, Any] | None = None, **ob: Any) -> Market:
    """An SO and a provider (clients rooted at the server root), one asset of the provider, a
    competition of the SO and an obligation awarding the asset to the provider."""
    so = await make_partner(role="system_operator", api="")
    fsp = await make_partner(role="provider", api="")
    asset = await ok(await fsp.client.post("/assets/v1/", json=asset_body()), 201)
    comp_body = competition if competition is not None else competition_body()
    comp = await ok(await so.client.post("/so/v1/competitions/", json=comp_body), 201)
    body = obligation_body(comp, fsp.id, [asset["id"]], **ob)
    obligation = await ok(await so.client.post("/so/v1/obligations/", json=body), 201)
    return Market(so, fsp, comp, obligation, asset)


# A summer a few years ahead (so that it is always in the future), and days in it.
YEAR = date.today().year + 4
MON = next(date(YEAR, 7, d) for d in range(1, 8) if date(YEAR, 7, d).weekday() == 0)
TUE, WED, FRI, SAT = (MON + timedelta(days=n) for n in (1, 2, 4, 5))
BANK_HOLIDAY = max(date(YEAR, 8, d) for d in range(25, 32) if date(YEAR, 8, d).weekday() == 0)
SEPTEMBER_MON = next(date(YEAR, 9, d) for d in range(1, 8) if date(YEAR, 9, d).weekday() == 0)
SUMMER = (f"{YEAR}-06-01", f"{YEAR}-09-01")


def london_competition() -> dict[str, Any]:
    """Summer of YEAR, 16:00-19:00 Europe/London (BST) on weekdays, the last Monday of August
    an excluded bank holiday."""
    return competition_body(
        timezone="Europe/London",
        bank_holiday_dates=[str(BANK_HOLIDAY)],
        service_periods=[
            {
                "name": "Summer",
                "start": SUMMER[0],
                "end": SUMMER[1],
                "service_windows": [
                    {
                        "name": "Evening peak",
                        "start_time": "16:00:00",
                        "end_time": "19:00:00",
                        "service_days": WEEKDAYS,
                        "bank_holidays": "excluded",
                    }
                ],
            }
        ],
    )


async def london_market(make_partner) -> Market:
    """An obligation for 1.5 MW, at most 2 hours at a time, under :func:`london_competition`."""
    return await market(
        make_partner,
        competition=london_competition(),
        start=SUMMER[0],
        end=SUMMER[1],
        capacity="1.500",
        max_runtime="02:00:00",
    )
