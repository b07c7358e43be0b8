"""Power limits through the operator endpoints, on both databases: LocationLPC, ResourceLPC and
LPCReservation events as the document shapes them, acknowledgement reports updating each
target's state, targets past the deadline marked Unacknowledged, the forecast raising a limit
when shifting is not enough, and bad requests refused whole."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from flexhub.clock import utcnow
from flexhub.platform.coordination.services.lpc import mark_overdue
from flexhub.store.coordination import EcEvent
from flexhub.store.grid import LpcRequest
from flexhub.timeseries import floor_hour
from support.ec_assets import error_string, new_location, new_user, uid
from support.ec_schemas import check
from support.grid import (
    add_neighbourhood,
    add_resource,
    enroll,
    import_needs,
    inside,
    run_curves,
)


@pytest.fixture
async def so(make_partner):
    return await make_partner(role="system_operator")


def hours_ahead(n: int) -> list[str]:
    start = floor_hour(utcnow()) + timedelta(hours=1)
    return [(start + timedelta(hours=k)).isoformat() for k in range(n)]


async def site(ec, nh, *, enrolled: bool = True, kinds=("HotWaterTank",)) -> dict:
    user = await new_user(ec)
    meter = uid("mp")
    loc = await new_location(ec, user, coordinates=inside(nh), meterPointIds=[meter])
    resources = [await add_resource(ec, user, loc["locationId"], k) for k in kinds]
    if enrolled:
        await enroll(ec, user)
    return {"user": user, "location": loc["locationId"], "meter": meter, "resources": resources}


async def events_of(ec, payload_type: str) -> list[dict]:
    r = await ec.client.get("/events")
    assert r.status_code == 200
    found = [e for e in r.json()["events"] if e["payload"]["payloadType"] == payload_type]
    return [check("GetEventResponse", e) for e in found]


async def report(ec, event_id: str, payload: dict) -> None:
    r = await ec.client.post("/reports", json={"eventId": event_id, "payloads": [payload]})
    assert r.status_code == 200, r.text


async def test_location_lpc_acknowledged_and_unanswered_targets(test_db, ec, so):
    nh = await add_neighbourhood(test_db, "NO1")
    a, b = await site(ec, nh), await site(ec, nh)
    stamps = hours_ahead(2)
    body = {
        "payloadType": "LocationLPC",
        "points": [{"maxPowerInKiloWatts": 0, "timestamp": t} for t in stamps],
        "targets": [
            {"partnerId": ec.id, "locationId": a["location"]},
            {"partnerId": ec.id, "locationId": b["location"], "meterPointId": b["meter"]},
        ],
    }
    r = await so.client.post("/operator/lpc-requests", json=body)
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["source"] == "operator" and created["counts"]["Pending"] == 2
    (event,) = await events_of(ec, "LocationLPC")
    assert created["eventIds"] == [event["id"]]
    assert {(t["locationId"], t["meterPointId"]) for t in event["payload"]["targets"]} == {
        (a["location"], a["meter"]),
        (b["location"], b["meter"]),
    }
    for target in event["payload"]["targets"]:
        assert set(target) == {"locationId", "meterPointId", "resolution", "points"}
        assert target["resolution"] == "01:00:00"
        assert [datetime.fromisoformat(p["timestamp"]) for p in target["points"]] == [
            datetime.fromisoformat(t) for t in stamps
        ]
        assert [p["maxPowerInKiloWatts"] for p in target["points"]] == [0.0, 0.0]

    await report(
        ec,
        event["id"],
        {
            "payloadType": "LocationLPCAcknowledgement",
            "acknowledgedTargets": [{"locationId": a["location"], "meterPointId": a["meter"]}],
            "declinedTargets": [],
        },
    )
    r = await so.client.get(f"/operator/lpc-requests/{created['id']}")
    assert r.status_code == 200
    states = {t["locationId"]: t for t in r.json()["targets"]}
    assert states[a["location"]]["state"] == "Acknowledged"
    assert states[a["location"]]["reportId"]
    assert states[b["location"]]["state"] == "Pending"

    # the deadline passes: the unanswered target is marked, the answered one keeps its answer
    async with test_db.session() as s:
        await mark_overdue(s, utcnow() + timedelta(hours=1))
    r = await so.client.get("/operator/lpc-requests")
    mine = next(x for x in r.json()["requests"] if x["id"] == created["id"])
    assert mine["counts"] == {"Pending": 0, "Acknowledged": 1, "Declined": 0, "Unacknowledged": 1}
    # an answer after that changes nothing
    await report(
        ec,
        event["id"],
        {
            "payloadType": "LocationLPCAcknowledged",
            "acknowledgedTargets": [{"locationId": b["location"], "meterPointId": b["meter"]}],
        },
    )
    r = await so.client.get(f"/operator/lpc-requests/{created['id']}")
    states = {t["locationId"]: t["state"] for t in r.json()["targets"]}
    assert states == {a["location"]: "Acknowledged", b["location"]: "Unacknowledged"}


async def test_resource_lpc_for_a_neighbourhood_one_event_per_resource(test_db, make_partner, so):
    nh = await add_neighbourhood(test_db, "FI")
    p1, p2 = await make_partner(), await make_partner()
    one = await site(p1, nh, kinds=("HotWaterTank", "HVAC"))
    await site(p1, nh, enrolled=False)  # not enrolled: not limited
    two = await site(p2, nh, kinds=("Charger",))
    body = {
        "payloadType": "ResourceLPC",
        "neighbourhoodId": nh["id"],
        "points": [{"maxPowerInKiloWatts": 1.5, "timestamp": hours_ahead(1)[0]}],
        "acknowledgeWithinMinutes": 10,
    }
    r = await so.client.post("/operator/lpc-requests", json=body)
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["neighbourhoodId"] == nh["id"] and len(created["eventIds"]) == 3
    deadline = datetime.fromisoformat(created["deadline"])
    assert deadline - datetime.fromisoformat(created["createdAt"]) == timedelta(minutes=10)
    e1 = await events_of(p1, "ResourceLPC")
    assert len(e1) == 2 and all(len(e["payload"]["targets"]) == 1 for e in e1)
    assert {e["payload"]["targets"][0]["resourceId"] for e in e1} == set(one["resources"])
    (e2,) = await events_of(p2, "ResourceLPC")
    assert e2["payload"]["targets"] == [
        {
            "meterPointId": two["meter"],
            "locationId": two["location"],
            "resourceId": two["resources"][0],
            "resolution": "01:00:00",
            "points": e2["payload"]["targets"][0]["points"],
        }
    ]
    assert e2["payload"]["targets"][0]["points"][0]["maxPowerInKiloWatts"] == 1.5

    target = e2["payload"]["targets"][0]
    await report(
        p2,
        e2["id"],
        {
            "payloadType": "ResourceLPCAcknowledgement",
            "acknowledgedTargets": [],
            "declinedTargets": [
                {k: target[k] for k in ("meterPointId", "locationId", "resourceId")}
            ],
        },
    )
    r = await so.client.get(f"/operator/lpc-requests/{created['id']}")
    states = {t["resourceId"]: t["state"] for t in r.json()["targets"]}
    assert states == {**dict.fromkeys(one["resources"], "Pending"), two["resources"][0]: "Declined"}


async def test_lpc_reservation_has_the_location_shape(test_db, ec, so):
    nh = await add_neighbourhood(test_db, "SE2")
    a = await site(ec, nh)
    body = {
        "payloadType": "LPCReservation",
        "points": [{"maxPowerInKiloWatts": 3, "timestamp": hours_ahead(1)[0]}],
        "targets": [{"partnerId": ec.id, "locationId": a["location"]}],
    }
    r = await so.client.post("/operator/lpc-requests", json=body)
    assert r.status_code == 201, r.text
    (event,) = await events_of(ec, "LPCReservation")
    (target,) = event["payload"]["targets"]
    assert set(target) == {"locationId", "meterPointId", "resolution", "points"}
    assert target["meterPointId"] == a["meter"]


async def test_the_forecast_raises_a_limit_when_shifting_is_not_enough(test_db, ec, so):
    day = date(2027, 11, 23)
    nh = await add_neighbourhood(test_db, "NO4", capacity_kw=100.0)
    a, b = await site(ec, nh), await site(ec, nh)
    # 20 kW over: shifting; 40 kW over (more than a quarter of 100 kW): a limit as well
    await import_needs(so, nh["id"], day, "Europe/Oslo", {17: 20.0, 18: 40.0})
    result = await run_curves(so, day, nh["id"])
    assert result["events"] == 1
    (event,) = await events_of(ec, "LocationLPC")
    assert {t["locationId"] for t in event["payload"]["targets"]} == {a["location"], b["location"]}
    for target in event["payload"]["targets"]:
        (point,) = target["points"]
        assert point["maxPowerInKiloWatts"] == 50.0  # 100 kW shared by two locations
    r = await so.client.get("/operator/lpc-requests")
    (mine,) = [x for x in r.json()["requests"] if x["neighbourhoodId"] == nh["id"]]
    assert mine["source"] == "forecast" and mine["counts"]["Pending"] == 2
    assert datetime.fromisoformat(mine["deadline"]) == datetime.fromisoformat(point["timestamp"])


async def test_bad_requests_are_refused_whole(test_db, ec, make_partner, so):
    nh = await add_neighbourhood(test_db, "NO2")
    a = await site(ec, nh)
    lazy = await site(ec, nh, enrolled=False)
    other = await make_partner()
    stranger = await site(other, nh)
    empty = await add_neighbourhood(test_db, "NO2")
    point = {"maxPowerInKiloWatts": 0, "timestamp": hours_ahead(1)[0]}
    good = {"partnerId": ec.id, "locationId": a["location"]}

    def body(*targets, **extra):
        return {"payloadType": "LocationLPC", "points": [point], "targets": list(targets), **extra}

    cases = [
        (body(good, {"partnerId": "nobody", "locationId": "x"}), "targets[1].partnerId"),
        (
            body(good, {"partnerId": ec.id, "locationId": stranger["location"]}),
            "targets[1].locationId",
        ),
        (body(good, {**good, "meterPointId": "not-mine"}), "targets[1].meterPointId"),
        (body(good, {"partnerId": ec.id, "locationId": lazy["location"]}), "not enrolled"),
        (body(good, good), "more than once"),
        (body(good, {**good, "resourceId": a["resources"][0]}), "targets[1].resourceId"),
        ({**body(good), "payloadType": "ResourceLPC"}, "targets[0].resourceId"),
        (body(good, points=[{**point, "timestamp": "2027-01-01T10:30:00+00:00"}]), "timestamp"),
        (body(), "targets"),
        ({**body(), "neighbourhoodId": empty["id"]}, "neighbourhoodId"),
        ({**body(), "neighbourhoodId": "no-such"}, "neighbourhoodId"),
        ({**body(good), "payloadType": "PriceCurve"}, "payloadType"),
        (body(good, points=[]), "points"),
        (body(good, points=[{**point, "maxPowerInKiloWatts": -1}]), "maxPowerInKiloWatts"),
    ]
    async with test_db.session() as s:
        before = await s.scalar(select(func.count()).select_from(LpcRequest))
    for request, expected in cases:
        r = await so.client.post("/operator/lpc-requests", json=request)
        assert expected in error_string(r, 400), request
    async with test_db.session() as s:
        assert await s.scalar(select(func.count()).select_from(LpcRequest)) == before
        for tenant in (ec.id, other.id):
            events = await s.scalar(
                select(func.count())
                .select_from(EcEvent)
                .where(EcEvent.tenant_id == tenant, EcEvent.payload_type == "LocationLPC")
            )
            assert events == 0
    error_string(await so.client.get("/operator/lpc-requests/no-such-request"), 404)
    error_string(await ec.client.post("/operator/lpc-requests", json=body(good)), 403)
    error_string(await ec.client.get("/operator/lpc-requests"), 403)
