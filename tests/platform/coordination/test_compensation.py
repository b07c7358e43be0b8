"""GET /users/{userId}/compensation from PriceCurve events and EnergyUsage reports stored
directly in the database (the reports endpoint is tested on its own)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from flexhub.platform.engines.compensation import month_bounds
from flexhub.store.coordination import EcEvent, EcReport
from support.ec_assets import new_location, new_user, uid
from support.ec_schemas import check


def hour(n: int) -> datetime:
    start, _ = month_bounds(datetime.now(UTC))
    return start + timedelta(hours=n)


def ts(when: datetime) -> str:
    return when.isoformat()


async def add_event(test_db, tenant_id: str, prices: dict[int, float], **curve) -> str:
    event_id = str(uuid.uuid4())
    payload = {
        "payloadType": "PriceCurve",
        "priceArea": "NO1",
        "targets": [],
        "priceCurveDelta": {
            "points": [{"price": p, "timestamp": ts(hour(h))} for h, p in prices.items()],
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
                payload_type=payload.get("payloadType"),
                payload=payload,
                created_at=hour(0),
            )
        )
        await s.commit()
    return event_id


async def add_report(test_db, tenant_id: str, event_id: str, payloads: list, at: datetime):
    async with test_db.session() as s:
        s.add(
            EcReport(
                id=str(uuid.uuid4()),
                tenant_id=tenant_id,
                event_id=event_id,
                payloads=payloads,
                created_at=at,
            )
        )
        await s.commit()


def usage(resource_id: str, kwh: dict[int, float], key: str = "points", **extra) -> dict:
    return {
        "payloadType": "EnergyUsage",
        "resourceId": resource_id,
        "resolution": "01:00:00",
        key: [{"timestamp": ts(hour(h)), "kiloWattHours": v} for h, v in kwh.items()],
        **extra,
    }


async def add_resource(ec, user_id: str, location_id: str) -> str:
    rid = uid("r")
    r = await ec.client.post(
        f"/users/{user_id}/locations/{location_id}/resources",
        json={"resourceId": rid, "resourceType": "HotWaterTank"},
    )
    assert r.status_code == 201
    return rid


async def compensation(ec, user_id: str) -> dict:
    r = await ec.client.get(f"/users/{user_id}/compensation")
    assert r.status_code == 200, r.text
    return check("GetUserCompensationForCurrentMonthResponse", r.json())


async def test_no_reports_means_zero_and_the_month_as_period(ec):
    user_id = await new_user(ec)
    meter = uid("mp")
    with_meter = await new_location(ec, user_id, meterPointIds=[meter])
    without = await new_location(ec, user_id)
    body = await compensation(ec, user_id)
    start, end = month_bounds(datetime.now(UTC))
    assert body["userId"] == user_id
    assert body["period"] == {
        "from": start.date().isoformat(),
        "to": (end - timedelta(days=1)).date().isoformat(),
    }
    first, second = body["locationCompensations"]
    assert first == {
        "locationId": with_meter["locationId"],
        "meterPointIds": [meter],
        "activeAmount": 0.0,
        "blockedAmount": 0.0,
        "currency": "NOK",
        "problems": [],
    }
    assert second["locationId"] == without["locationId"] and second["activeAmount"] == 0
    assert [p["problemType"] for p in second["problems"]] == ["MissingMpidOnLocation"]
    assert (await compensation(ec, await new_user(ec)))["locationCompensations"] == []


async def test_amounts_active_blocked_and_replaced(ec, make_partner, test_db):
    user_id = await new_user(ec)
    meter = uid("mp")
    home = (await new_location(ec, user_id, meterPointIds=[meter]))["locationId"]
    cabin = (await new_location(ec, user_id))["locationId"]
    tank = await add_resource(ec, user_id, home)
    heater = await add_resource(ec, user_id, cabin)
    car = uid("v")
    await ec.client.post(
        f"/users/{user_id}/vehicles", json={"resourceId": car, "resourceType": "Vehicle"}
    )
    event = await add_event(test_db, ec.id, {0: -0.5, 1: -1.0, 2: 0.7})
    await add_report(
        test_db,
        ec.id,
        event,
        [
            # 2 × 0.5 + 3 × 1.0; hour 2 is positive, hour 3 has no delta
            usage(tank, {0: 2, 1: 3, 2: 5, 3: 4}),
            # the car charged at home on a meter the home does not have: blocked 1 × 0.5
            usage(car, {0: 1}, locationId=home, meterPointId="not-a-meter-of-home"),
            # deprecated curvePoints at a location without meter: blocked 2 × 1.0
            usage(heater, {1: 2}, key="curvePoints"),
            # other payload types and unknown resources are ignored
            {
                "payloadType": "LocationEnergyUsage",
                "locationId": home,
                "meterPointId": meter,
                "resolution": "01:00:00",
                "points": [{"timestamp": ts(hour(0)), "kiloWattHours": 99}],
            },
            usage(uid("ghost"), {0: 50}),
        ],
        at=hour(1),
    )
    # a later report for the same (event, resource, hour) replaces the earlier value
    await add_report(test_db, ec.id, event, [usage(tank, {1: 1})], at=hour(2))
    # the car at home on the home's own meter counts as active
    await add_report(
        test_db,
        ec.id,
        event,
        [usage(car, {1: 0.5}, locationId=home, meterPointId=meter)],
        at=hour(2),
    )
    body = await compensation(ec, user_id)
    by_location = {c["locationId"]: c for c in body["locationCompensations"]}
    assert by_location[home]["activeAmount"] == 2.5  # 2 × 0.5 + 1 × 1.0 + 0.5 × 1.0
    assert by_location[home]["blockedAmount"] == 0.5
    assert [p["problemType"] for p in by_location[home]["problems"]] == [
        "CompensationMpidDoesNotMatchLocation"
    ]
    assert by_location[cabin]["activeAmount"] == 0.0
    assert by_location[cabin]["blockedAmount"] == 2.0
    assert [p["problemType"] for p in by_location[cabin]["problems"]] == ["MissingMpidOnLocation"]

    # another partner's identical ids and reports do not count for this one
    other = await make_partner()
    await new_user(other, user_id)
    await new_location(other, user_id, locationId=home, meterPointIds=[meter])
    await add_resource(other, user_id, home)
    assert (await compensation(other, user_id))["locationCompensations"][0]["activeAmount"] == 0


async def test_units_currency_and_what_is_out_of_scope(ec, test_db):
    user_id = await new_user(ec)
    home = (await new_location(ec, user_id, meterPointIds=[uid("mp")]))["locationId"]
    tank = await add_resource(ec, user_id, home)
    per_mwh = await add_event(test_db, ec.id, {0: -200.0}, energyUnit="MWh", currency="EUR")
    await add_report(test_db, ec.id, per_mwh, [usage(tank, {0: 3})], at=hour(1))
    body = await compensation(ec, user_id)
    item = body["locationCompensations"][0]
    assert item["activeAmount"] == 0.6 and item["currency"] == "EUR"

    # a two-hour resolution covers the hour after the point as well
    wide = await add_event(test_db, ec.id, {4: -1.0}, resolution="02:00:00")
    await add_report(test_db, ec.id, wide, [usage(tank, {4: 1, 5: 1, 6: 1})], at=hour(7))
    assert (await compensation(ec, user_id))["locationCompensations"][0]["activeAmount"] == 2.6

    # reports made last month, and reports on events that are not price curves, do not count
    late = await add_event(test_db, ec.id, {8: -5.0})
    await add_report(test_db, ec.id, late, [usage(tank, {8: 1})], at=hour(0) - timedelta(days=2))
    async with test_db.session() as s:
        lpc = EcEvent(
            id=str(uuid.uuid4()),
            tenant_id=ec.id,
            payload_type="LocationLPC",
            payload={"payloadType": "LocationLPC"},
            created_at=hour(0),
        )
        s.add(lpc)
        await s.commit()
    await add_report(test_db, ec.id, lpc.id, [usage(tank, {9: 10})], at=hour(9))
    assert (await compensation(ec, user_id))["locationCompensations"][0]["activeAmount"] == 2.6
