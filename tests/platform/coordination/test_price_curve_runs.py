"""Day-ahead price curves through the operator endpoints, on both databases: the points cover
exactly the next local day (23 and 25 hours on DST days), each partner's event targets exactly
its enrolled, eligible users' resources in the needy neighbourhood, a second run sends nothing,
and two runs at once (two engines, as two processes) send once."""

from __future__ import annotations

import asyncio
import json
import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from flexhub.platform.coordination.services.price_curve_runs import run_day
from flexhub.platform.engines.load_model import BuiltinForecaster
from flexhub.store.database import Database
from flexhub.store.delivery import OutboxRow
from flexhub.store.grid import ForecastNeed, PriceCurveRun
from flexhub.timeseries import PRICE_AREA_ZONES, local_day_window
from support.ec_assets import error_string, new_location, new_user
from support.ec_schemas import check
from support.grid import (
    add_neighbourhood,
    add_resource,
    add_vehicle,
    enroll,
    household,
    import_needs,
    inside,
    outside,
    price_curve_events,
    run_curves,
)


@pytest.fixture
async def so(make_partner):
    return await make_partner(role="system_operator")


@pytest.mark.parametrize(
    ("area", "day", "hours"),
    [
        ("NO1", date(2027, 3, 28), 23),
        ("NO1", date(2027, 10, 31), 25),
        ("FI", date(2027, 3, 28), 23),
        ("FI", date(2027, 10, 31), 25),
        ("NO3", date(2027, 6, 15), 24),
    ],
)
async def test_points_cover_exactly_the_local_day(test_db, ec, so, area, day, hours):
    nh = await add_neighbourhood(test_db, area)
    home = await household(ec, inside(nh))
    await import_needs(so, nh["id"], day, PRICE_AREA_ZONES[area], {2: 40.0, 10: -20.0})
    result = await run_curves(so, day, nh["id"])
    assert result["events"] == 1 and result["targets"] == 1

    r = await ec.client.get("/events")
    assert r.status_code == 200
    events = [e for e in r.json()["events"] if e["payload"]["payloadType"] == "PriceCurve"]
    assert len(events) == 1
    event = check("GetEventResponse", events[0])
    payload = event["payload"]
    assert payload["priceArea"] == area
    assert payload["targets"] == [{"resourceId": home["resource"], "locationId": home["location"]}]
    delta = payload["priceCurveDelta"]
    assert delta["resolution"] == "01:00:00" and delta["energyUnit"] == "kWh"
    assert delta["currency"] == ("EUR" if area == "FI" else "NOK")
    points = delta["points"]
    assert len(points) == hours
    start, end = local_day_window(day, PRICE_AREA_ZONES[area])
    stamps = [p["timestamp"] for p in points]
    from datetime import datetime

    parsed = [datetime.fromisoformat(s) for s in stamps]
    assert parsed[0] == start
    assert parsed[-1] + timedelta(hours=1) == end
    assert all(b - a == timedelta(hours=1) for a, b in zip(parsed, parsed[1:], strict=False))
    prices = [p["price"] for p in points]
    # the need's sign and size: +40 kW is the day's largest need (no capacity: full scale)
    full = 0.1 if area == "FI" else 1.0
    assert prices[2] == pytest.approx(full)
    assert prices[10] == pytest.approx(-full / 2)
    assert all(p == 0 for i, p in enumerate(prices) if i not in (2, 10))


async def test_targets_are_exactly_the_partners_enrolled_eligible_resources(
    test_db, make_partner, so
):
    day = date(2027, 5, 4)
    needy = await add_neighbourhood(test_db, "NO2")
    quiet = await add_neighbourhood(test_db, "NO2")  # no need: no event
    await import_needs(so, needy["id"], day, "Europe/Oslo", {18: 30.0})
    p1, p2, p3 = await make_partner(), await make_partner(), await make_partner()

    # p1: an enrolled user at home in the needy area, with a vehicle and a cabin outside it
    u1 = await household(p1, inside(needy))
    vehicle = await add_vehicle(p1, u1["user"])
    cabin = await new_location(p1, u1["user"], coordinates=outside(needy))
    await add_resource(p1, u1["user"], cabin["locationId"], "HVAC")
    # a second home of the same user in the needy area: the vehicle is there too
    second = await new_location(p1, u1["user"], coordinates=inside(needy))
    tank2 = await add_resource(p1, u1["user"], second["locationId"])
    # eligible but not enrolled; enrolled but in the quiet area
    await household(p1, inside(needy), enrolled=False)
    await household(p1, inside(quiet))
    # p2: one enrolled household in the needy area
    u2 = await household(p2, inside(needy))
    # p3: an enrolled user with a location in the needy area but a vehicle only
    u3 = await new_user(p3)
    await new_location(p3, u3, coordinates=outside(needy))
    await new_location(p3, u3, coordinates=inside(needy))
    await enroll(p3, u3)
    # p3's second user: eligible elsewhere, not in the needy area
    await household(p3, inside(quiet))

    result = await run_curves(so, day, needy["id"], quiet["id"])
    runs = {r["neighbourhoodId"]: r for r in result["runs"]}
    assert runs[quiet["id"]]["events"] == 0 and runs[quiet["id"]]["needHours"] == 0
    assert runs[needy["id"]]["events"] == 2  # p1 and p2; p3 has no resource there

    (e1,) = await price_curve_events(test_db, p1.id)
    targets = {(t["resourceId"], t["locationId"]) for t in e1.payload["targets"]}
    assert targets == {
        (u1["resource"], u1["location"]),
        (vehicle, u1["location"]),
        (vehicle, second["locationId"]),
        (tank2, second["locationId"]),
    }
    assert len(e1.payload["targets"]) == 4
    (e2,) = await price_curve_events(test_db, p2.id)
    assert e2.payload["targets"] == [{"resourceId": u2["resource"], "locationId": u2["location"]}]
    assert await price_curve_events(test_db, p3.id) == []
    assert runs[needy["id"]]["targets"] == 5


async def outbox_rows(test_db, tenant_id: str) -> int:
    async with test_db.session() as s:
        return await s.scalar(
            select(func.count()).select_from(OutboxRow).where(OutboxRow.tenant_id == tenant_id)
        )


async def test_a_second_run_for_the_same_date_sends_nothing(test_db, ec, so, receiver):
    day = date(2027, 8, 9)
    r = await ec.client.post(
        "/webhooks",
        json={
            "webhookUrl": receiver.url,
            "name": "curves",
            "notificationTypes": ["PriceCurveCreated"],
        },
    )
    assert r.status_code in (200, 201), r.text
    nh = await add_neighbourhood(test_db, "SE3")
    await household(ec, inside(nh))
    await import_needs(so, nh["id"], day, "Europe/Stockholm", {12: -15.0})
    first = await run_curves(so, day, nh["id"])
    assert first["events"] == 1 and first["skippedNeighbourhoodIds"] == []
    assert len(await price_curve_events(test_db, ec.id)) == 1
    assert await outbox_rows(test_db, ec.id) == 1  # the event's notification, same transaction
    (delivered,) = await receiver.wait_for(1)
    body = json.loads(delivered.body)
    assert body["notificationType"] == "PriceCurveCreated"
    (event,) = await price_curve_events(test_db, ec.id)
    assert body["eventId"] == event.id and body["payload"] == event.payload

    second = await run_curves(so, day, nh["id"])
    assert second["events"] == 0 and second["runs"] == []
    assert second["skippedNeighbourhoodIds"] == [nh["id"]]
    assert len(await price_curve_events(test_db, ec.id)) == 1
    assert await outbox_rows(test_db, ec.id) == 1

    r = await so.client.get("/operator/price-curve-runs", params={"date": day.isoformat()})
    assert r.status_code == 200
    (run,) = [x for x in r.json()["runs"] if x["neighbourhoodId"] == nh["id"]]
    assert run == {
        **run,
        "date": day.isoformat(),
        "priceArea": "SE3",
        "trigger": "operator",
        "needHours": 1,
        "events": 1,
        "targets": 1,
    }


async def test_two_runs_at_once_send_once(platform, test_db, ec, so):
    day = date(2027, 9, 14)
    nh = await add_neighbourhood(test_db, "NO5")
    await household(ec, inside(nh))
    await import_needs(so, nh["id"], day, "Europe/Oslo", {19: 25.0})
    engines = [Database(platform.settings.database_url) for _ in range(2)]
    try:
        outcomes = await asyncio.gather(
            *(
                run_day(db, BuiltinForecaster(), day, trigger="schedule", only=[nh["id"]])
                for db in engines
            )
        )
    finally:
        for db in engines:
            await db.dispose()
    assert sorted(o.events for o in outcomes) == [0, 1]
    assert sorted(len(o.runs) for o in outcomes) == [0, 1]
    assert len(await price_curve_events(test_db, ec.id)) == 1
    async with test_db.session() as s:
        count = await s.scalar(
            select(func.count())
            .select_from(PriceCurveRun)
            .where(PriceCurveRun.neighbourhood_id == nh["id"])
        )
    assert count == 1


async def test_bad_input_is_a_clear_400_and_writes_nothing(test_db, ec, so):
    nh = await add_neighbourhood(test_db, "NO1")
    good = {"neighbourhoodId": nh["id"], "timestamp": "2027-02-01T10:00:00+00:00", "needKw": 5}
    cases = [
        ([good, {**good, "neighbourhoodId": "no-such-area"}], "needs[1].neighbourhoodId"),
        ([good, {**good, "timestamp": "2027-02-01T10:30:00+00:00"}], "needs[1].timestamp"),
        ([good, {**good, "timestamp": "2027-02-01T10:00:00"}], "needs[1].timestamp"),
        ([good, {**good, "needKw": "lots"}], "needs[1].needKw"),
        ([good, good], "more than once"),
        ([good, {**good, "timestamp": "0001-01-01T00:00:00+01:00"}], "needs[1].timestamp"),
        ([good, {**good, "timestamp": "9999-12-31T23:00:00+00:00"}], "needs[1].timestamp"),
        ({"rows": []}, "needs"),
    ]
    for body, expected in cases:
        r = await so.client.post("/operator/forecast/needs", json=body)
        assert expected in error_string(r, 400)
    r = await so.client.post(
        "/operator/forecast/needs",
        content=b"area,when,kw\nx,2027-02-01T10:00:00+00:00,1\n",
        headers={"content-type": "text/csv"},
    )
    assert "header" in error_string(r, 400)
    r = await so.client.post(
        "/operator/forecast/needs",
        content=b"{not json",
        headers={"content-type": "application/json"},
    )
    assert "JSON" in error_string(r, 400)
    async with test_db.session() as s:
        stored = await s.scalar(
            select(func.count())
            .select_from(ForecastNeed)
            .where(ForecastNeed.neighbourhood_id == nh["id"])
        )
    assert stored == 0

    r = await so.client.post(
        "/operator/forecast/needs",
        content=f"neighbourhoodId,timestamp,needKw\n{nh['id']},2027-02-01T10:00:00Z,5\n".encode(),
        headers={"content-type": "text/csv"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["rows"] == 1 and r.json()["neighbourhoodIds"] == [nh["id"]]

    for body in (
        {"date": "2027-13-01"},
        {"date": "soon"},
        {},
        {"date": "2027-01-01", "x": 1},
        {"date": "9999-12-31"},
        {"date": "0001-01-01"},
        {"date": "2027-01-01", "priceArea": "XX"},
    ):
        r = await so.client.post("/operator/price-curve-runs", json=body)
        error_string(r, 400)
    r = await so.client.get("/operator/price-curve-runs", params={"date": "yesterday"})
    error_string(r, 400)
    # partners are not operators
    for method, path in (
        ("GET", "/operator/price-curve-runs"),
        ("POST", "/operator/price-curve-runs"),
        ("POST", "/operator/forecast/needs"),
    ):
        r = await ec.client.request(method, path, json={"date": "2027-01-01"})
        error_string(r, 403)


async def test_the_daily_run_sends_the_next_local_day_once_past_the_configured_time(
    platform, test_db, ec, so
):
    from dataclasses import replace
    from datetime import UTC, datetime

    from flexhub.platform.coordination.services.price_curve_schedule import run_due

    settings = replace(platform.settings, price_curve_schedule="13:00")
    ctx = replace(platform.ctx, settings=settings, db=Database(settings.database_url))
    day = date(2027, 7, 2)
    nh = await add_neighbourhood(test_db, "DK1")
    await household(ec, inside(nh))
    await import_needs(so, nh["id"], day, "Europe/Copenhagen", {20: 10.0})
    before = datetime(2027, 7, 1, 10, 59, tzinfo=UTC)  # 12:59 in Copenhagen (summer time)
    assert await run_due(ctx, before) == 0
    assert await price_curve_events(test_db, ec.id) == []
    after = datetime(2027, 7, 1, 11, 0, tzinfo=UTC)  # 13:00
    assert await run_due(ctx, after) == 1
    assert await run_due(ctx, after + timedelta(minutes=1)) == 0
    (event,) = await price_curve_events(test_db, ec.id)
    assert len(event.payload["priceCurveDelta"]["points"]) == 24
    r = await so.client.get("/operator/price-curve-runs", params={"date": day.isoformat()})
    (run,) = [x for x in r.json()["runs"] if x["neighbourhoodId"] == nh["id"]]
    assert run["trigger"] == "schedule" and run["events"] == 1
    await ctx.db.dispose()


async def test_the_forecast_runs_while_the_event_loop_keeps_answering(test_db, ec, so):
    """The run's forecast (and its placement of every location) is CPU work of seconds at
    100,000 resources: it runs off the event loop, so that the serving process keeps answering.
    The forecaster here waits until a request has been answered during its own call, which
    could never happen if it held the loop."""
    day = date(2027, 9, 21)
    nh = await add_neighbourhood(test_db, "NO1")
    await household(ec, inside(nh))
    await import_needs(so, nh["id"], day, "Europe/Oslo", {19: 25.0})
    answered = threading.Event()
    seen: dict[str, object] = {}

    class Waiting(BuiltinForecaster):
        def need(self, area, hours):
            seen["thread"] = threading.current_thread()
            seen["answered"] = answered.wait(timeout=30)
            return super().need(area, hours)

    async def ask_while_running() -> None:
        while "thread" not in seen:
            await asyncio.sleep(0.01)
        r = await ec.client.get("/users")
        seen["status"] = r.status_code
        answered.set()

    asker = asyncio.create_task(ask_while_running())
    outcome = await run_day(test_db, Waiting(), day, trigger="cli", only=[nh["id"]])
    await asker
    assert seen["thread"] is not threading.main_thread()
    assert seen["answered"] is True and seen["status"] == 200
    assert outcome.events == 1
