"""Compensation against a baseline, on both databases: hand-computed cases with the engine at
a given month (events and reports stored directly; the reports endpoint is tested on its own),
and ``GET /users/{userId}/compensation`` for the current month as the document shapes it.

The rule: ``max(0, (baseline - usage) × price)`` per reported hour priced by the event; the
baseline is the mean usage at the same local hour on the previous 7 days of the resource's
reports, else the typical usage of its type (``load_model``: a vehicle 3.0 kWh at 18:00 and
0.05 kWh at 12:00 local, a generic resource 0.3 kWh every hour)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from flexhub.platform.engines.compensation import month_bounds, user_compensation
from flexhub.store.coordination import EcEvent, EcReport
from support.ec_assets import new_location, new_user, uid
from support.ec_schemas import check
from support.grid import add_neighbourhood, add_resource, add_vehicle, enroll, inside

JAN = datetime(2027, 1, 31, 12, tzinfo=UTC)  # "now" for the January statement


def at(day: int, hour: int, month: int = 1) -> datetime:
    return datetime(2027, month, day, hour, tzinfo=UTC)


async def add_event(test_db, tenant_id: str, prices: dict[datetime, float], **curve) -> str:
    event_id = str(uuid.uuid4())
    payload = {
        "payloadType": "PriceCurve",
        "priceArea": "NO1",
        "targets": [],
        "priceCurveDelta": {
            "points": [{"price": p, "timestamp": t.isoformat()} for t, p in prices.items()],
            "energyUnit": "kWh",
            "currency": "NOK",
            "resolution": "01:00:00",
            **curve,
        },
    }
    async with test_db.session() as s:
        s.add(
            EcEvent(
                id=event_id,
                tenant_id=tenant_id,
                payload_type="PriceCurve",
                payload=payload,
                created_at=min(prices) - timedelta(hours=12),
            )
        )
        await s.commit()
    return event_id


async def add_report(test_db, tenant_id: str, event_id: str, payloads: list, received: datetime):
    async with test_db.session() as s:
        s.add(
            EcReport(
                id=str(uuid.uuid4()),
                tenant_id=tenant_id,
                event_id=event_id,
                payloads=payloads,
                created_at=received,
            )
        )
        await s.commit()


def usage(resource_id: str, kwh: dict[datetime, float], key: str = "points", **extra) -> dict:
    return {
        "payloadType": "EnergyUsage",
        "resourceId": resource_id,
        "resolution": "01:00:00",
        key: [{"timestamp": t.isoformat(), "kiloWattHours": v} for t, v in kwh.items()],
        **extra,
    }


async def statement(test_db, tenant_id: str, user_id: str, now: datetime = JAN) -> dict:
    async with test_db.session() as s:
        result = await user_compensation(s, tenant_id, user_id, now)
    return {
        item.location_id: (round(item.active, 6), round(item.blocked, 6), sorted(item.problems))
        for item in result.locations
    }


@pytest.fixture
async def area(test_db):
    return await add_neighbourhood(test_db, "NO1")


async def test_hand_computed_baselines_late_reports_and_missing_meters(test_db, ec, area):
    user = await new_user(ec)
    meter = uid("mp")
    home = (await new_location(ec, user, coordinates=inside(area), meterPointIds=[meter]))[
        "locationId"
    ]
    cabin = (await new_location(ec, user, coordinates=inside(area)))["locationId"]
    car = await add_vehicle(ec, user)
    heater = await add_resource(ec, user, cabin, "Generic")
    await enroll(ec, user)

    # history: the car used 5 and 3 kWh at 18:00 Oslo time (17:00 UTC) on the two days before
    history = await add_event(test_db, ec.id, {at(18, 17): 0.0, at(19, 17): 0.0})
    await add_report(
        test_db,
        ec.id,
        history,
        [usage(car, {at(18, 17): 5, at(19, 17): 3}, locationId=home)],
        at(19, 20),
    )
    event = await add_event(test_db, ec.id, {at(20, 17): 0.5, at(20, 11): -0.4, at(20, 19): 1.0})
    await add_report(
        test_db,
        ec.id,
        event,
        [
            # 18:00: baseline (5 + 3) / 2 = 4, used 1: (4 - 1) × 0.5 = 1.5
            # 12:00: no history, a vehicle's typical 0.05, used 2.05: (0.05 - 2.05) × -0.4 = 0.8
            usage(car, {at(20, 17): 1, at(20, 11): 2.05}, locationId=home, meterPointId=meter),
            # at a location without meter point: typical 0.3, used 0: 0.3 × 0.5 = 0.15, blocked
            usage(heater, {at(20, 17): 0}, key="curvePoints"),
        ],
        at(21, 8),
    )
    # received after the month's end: 20:00 would earn (3 × ... ) but does not count
    await add_report(
        test_db, ec.id, event, [usage(car, {at(20, 19): 0}, locationId=home)], at(1, 0, month=2)
    )
    assert await statement(test_db, ec.id, user) == {
        home: (2.3, 0.0, []),
        cabin: (0.0, 0.15, ["MissingMpidOnLocation"]),
    }

    # a later report for the same (event, resource, hour) replaces the earlier one:
    # used 2 against 4: (4 - 2) × 0.5 = 1.0; and a meter point the home does not have blocks
    await add_report(
        test_db,
        ec.id,
        event,
        [usage(car, {at(20, 17): 2}, locationId=home, meterPointId="not-the-home-meter")],
        at(22, 8),
    )
    assert await statement(test_db, ec.id, user) == {
        home: (0.8, 1.0, ["CompensationMpidDoesNotMatchLocation"]),
        cabin: (0.0, 0.15, ["MissingMpidOnLocation"]),
    }
    # February's statement holds none of January's hours
    assert await statement(test_db, ec.id, user, at(10, 12, month=2)) == {
        home: (0.0, 0.0, []),
        cabin: (0.0, 0.0, ["MissingMpidOnLocation"]),
    }


async def test_unenrolled_users_earn_nothing(test_db, ec, area):
    meter = uid("mp")
    never = await new_user(ec)
    home = (await new_location(ec, never, coordinates=inside(area), meterPointIds=[meter]))[
        "locationId"
    ]
    car = await add_vehicle(ec, never)
    left = await new_user(ec)
    other_home = (await new_location(ec, left, coordinates=inside(area), meterPointIds=[uid("m")]))[
        "locationId"
    ]
    other_car = await add_vehicle(ec, left)
    await enroll(ec, left)
    event = await add_event(test_db, ec.id, {at(20, 17): 0.5})
    await add_report(
        test_db,
        ec.id,
        event,
        [
            usage(car, {at(20, 17): 0}, locationId=home),
            usage(other_car, {at(20, 17): 0}, locationId=other_home),
        ],
        at(21, 8),
    )
    # enrolled: the typical 3.0 at 18:00, used 0: 1.5
    assert await statement(test_db, ec.id, left) == {other_home: (1.5, 0.0, [])}
    assert await statement(test_db, ec.id, never) == {home: (0.0, 0.0, [])}
    r = await ec.client.delete(f"/users/{left}/enrollment")
    assert r.status_code == 204
    assert await statement(test_db, ec.id, left) == {other_home: (0.0, 0.0, [])}


async def test_units_currency_direction_and_other_partners(test_db, ec, make_partner, area):
    user = await new_user(ec)
    home = (await new_location(ec, user, coordinates=inside(area), meterPointIds=[uid("mp")]))[
        "locationId"
    ]
    thing = await add_resource(ec, user, home, "Generic")
    await enroll(ec, user)
    per_mwh = await add_event(
        test_db,
        ec.id,
        {at(5, 2): -200.0, at(5, 3): -200.0, at(5, 4): 300.0},
        energyUnit="MWh",
        currency="EUR",
    )
    # typical 0.3: 3 kWh at -0.2/kWh earns (0.3 - 3) × -0.2 = 0.54; using less than the
    # baseline when more is wanted earns nothing; using more when less is wanted neither
    await add_report(
        test_db,
        ec.id,
        per_mwh,
        [usage(thing, {at(5, 2): 3, at(5, 3): 0.1, at(5, 4): 1})],
        at(6, 0),
    )
    async with test_db.session() as s:
        result = await user_compensation(s, ec.id, user, JAN)
    (item,) = result.locations
    assert item.active == pytest.approx(0.54) and item.currency == "EUR"

    other = await make_partner()
    await new_user(other, user)
    await new_location(other, user, locationId=home, coordinates=inside(area))
    assert await statement(test_db, other.id, user) == {home: (0.0, 0.0, ["MissingMpidOnLocation"])}


async def test_get_compensation_returns_the_current_month(test_db, ec, area):
    user = await new_user(ec)
    meter = uid("mp")
    home = (await new_location(ec, user, coordinates=inside(area), meterPointIds=[meter]))[
        "locationId"
    ]
    cabin = (await new_location(ec, user, coordinates=inside(area)))["locationId"]
    thing = await add_resource(ec, user, home, "Generic")
    await enroll(ec, user)
    start, end = month_bounds(datetime.now(UTC))
    event = await add_event(test_db, ec.id, {start + timedelta(hours=3): 1.0})
    # typical 0.3, used 0.1: 0.2 × 1.0
    await add_report(
        test_db,
        ec.id,
        event,
        [usage(thing, {start + timedelta(hours=3): 0.1})],
        datetime.now(UTC),  # received after the enrollment
    )
    r = await ec.client.get(f"/users/{user}/compensation")
    assert r.status_code == 200, r.text
    body = check("GetUserCompensationForCurrentMonthResponse", r.json())
    assert body["userId"] == user
    assert body["period"] == {
        "from": start.date().isoformat(),
        "to": (end - timedelta(days=1)).date().isoformat(),
    }
    first, second = body["locationCompensations"]
    assert first == {
        "locationId": home,
        "meterPointIds": [meter],
        "activeAmount": pytest.approx(0.2),
        "blockedAmount": 0.0,
        "currency": "NOK",
        "problems": [],
    }
    assert second["locationId"] == cabin and second["activeAmount"] == 0
    assert [p["problemType"] for p in second["problems"]] == ["MissingMpidOnLocation"]
    assert (await ec.client.get(f"/users/{await new_user(ec)}/compensation")).json()[
        "locationCompensations"
    ] == []
    r = await ec.client.get("/users/nobody-here/compensation")
    assert r.status_code == 404
