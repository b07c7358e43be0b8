"""Helpers for the grid engine tests: neighbourhoods written to the database (a small square
at a random spot, so that tests sharing a platform do not see each other's), and users with
locations and resources set up through the real API."""

from __future__ import annotations

import random
import uuid
from datetime import date

from sqlalchemy import select

from flexhub.clock import utcnow
from flexhub.platform.engines.neighbourhoods import square
from flexhub.store.coordination import EcEvent, Neighbourhood
from flexhub.timeseries import PRICE_AREA_CURRENCIES, PRICE_AREA_ZONES, local_day_hours
from support.ec_assets import new_location, new_user, uid

HALF = 0.004


def random_spot() -> tuple[float, float]:
    """A point far from the sandbox areas and from other tests' squares (in Fennoscandia)."""
    return random.uniform(58.0, 69.0), random.uniform(6.0, 29.0)


async def add_neighbourhood(test_db, price_area: str = "NO1", **fields) -> dict:
    """A neighbourhood around a random spot; returns its id, centre and price area."""
    latitude, longitude = random_spot()
    ring = square(latitude, longitude, HALF)
    row = Neighbourhood(
        id=fields.pop("id", uid("nh")),
        name=fields.pop("name", "test neighbourhood"),
        price_area=price_area,
        currency=PRICE_AREA_CURRENCIES[price_area],
        polygon=ring,
        geometry={"type": "Polygon", "coordinates": [ring]},
        meter_point_ids=fields.pop("meter_point_ids", []),
        time_zone=PRICE_AREA_ZONES[price_area],
        capacity_kw=fields.pop("capacity_kw", None),
        params=fields.pop("params", {}),
        created_at=utcnow(),
    )
    async with test_db.session() as s:
        s.add(row)
        await s.commit()
    return {"id": row.id, "latitude": latitude, "longitude": longitude, "price_area": price_area}


def inside(nh: dict) -> dict:
    """Coordinates inside the neighbourhood."""
    return {
        "latitude": nh["latitude"] + random.uniform(-HALF, HALF) / 2,
        "longitude": nh["longitude"] + random.uniform(-HALF, HALF) / 2,
    }


def outside(nh: dict) -> dict:
    return {"latitude": nh["latitude"] + 0.05, "longitude": nh["longitude"] + 0.05}


async def add_resource(ec, user_id: str, location_id: str, kind: str = "HotWaterTank") -> str:
    rid = uid("r")
    r = await ec.client.post(
        f"/users/{user_id}/locations/{location_id}/resources",
        json={"resourceId": rid, "resourceType": kind},
    )
    assert r.status_code == 201, r.text
    return rid


async def add_vehicle(ec, user_id: str) -> str:
    rid = uid("v")
    r = await ec.client.post(
        f"/users/{user_id}/vehicles", json={"resourceId": rid, "resourceType": "Vehicle"}
    )
    assert r.status_code == 201, r.text
    return rid


async def enroll(ec, user_id: str) -> None:
    r = await ec.client.post(f"/users/{user_id}/enrollment")
    assert r.status_code == 200, r.text
    assert r.json()["isEnrolled"] is True


async def household(ec, coordinates: dict, *, enrolled: bool = True, **location) -> dict:
    """A user with a location at ``coordinates`` and a hot water tank there."""
    user_id = await new_user(ec)
    loc = await new_location(ec, user_id, coordinates=coordinates, **location)
    rid = await add_resource(ec, user_id, loc["locationId"])
    if enrolled:
        await enroll(ec, user_id)
    return {"user": user_id, "location": loc["locationId"], "resource": rid}


async def import_needs(so, nh_id: str, day: date, zone: str, need: dict[int, float]) -> None:
    """Import a need for some local hours (by index into the day) of ``day``."""
    hours = local_day_hours(day, zone)
    body = [
        {"neighbourhoodId": nh_id, "timestamp": hours[i].isoformat(), "needKw": kw}
        for i, kw in need.items()
    ]
    r = await so.client.post("/operator/forecast/needs", json=body)
    assert r.status_code == 200, r.text


async def run_curves(so, day: date, *nh_ids: str) -> dict:
    body = {"date": day.isoformat(), "neighbourhoodIds": list(nh_ids)}
    r = await so.client.post("/operator/price-curve-runs", json=body)
    assert r.status_code == 200, r.text
    return r.json()


async def price_curve_events(test_db, tenant_id: str) -> list[EcEvent]:
    async with test_db.session() as s:
        rows = await s.scalars(
            select(EcEvent)
            .where(EcEvent.tenant_id == tenant_id, EcEvent.payload_type == "PriceCurve")
            .order_by(EcEvent.created_at, EcEvent.id)
        )
        return list(rows.all())


def new_id() -> str:
    return str(uuid.uuid4())
