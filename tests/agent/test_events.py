"""Energy Coordination events end to end: the platform's sandbox creates a price curve or a
power limit for the partner's household, delivers it as an HMAC-signed webhook to the agent on
loopback; the agent schedules, limits and reports, and the platform accepts its reports. The
agent and its simulated devices run on a scaled clock, so the event's hours pass in seconds."""

from __future__ import annotations

from datetime import timedelta

import pytest

from flexhub.clock import ScaledClock
from support.agent import agent_config, eventually, next_hour, platform_reports, sent, start_agent
from support.ec_simulation import household, simulate
from support.fm import z

pytestmark = pytest.mark.asyncio(loop_scope="session")
SPEED = 1000.0  # an hour in 3.6 s


def inventory(h: dict, *, tank_temperature: float = 45.0) -> list[dict]:
    return [
        {
            "asset_id": "tank",
            "kind": "water_heater",
            "max_import_kw": 3.0,
            "location_id": h["location"],
            "meter_point_id": h["meters"][0],
            "resource_id": h["tank"],
            "device": {"volume_l": 200, "t_min": 50, "t_max": 75, "temperature": tank_temperature},
        },
        {
            "asset_id": "car",
            "kind": "ev",
            "max_import_kw": 7.0,
            "location_id": h["location"],
            "resource_id": h["car"],
            "device": {
                "plug_in_hour": 0,
                "departure_hour": 0,
                "capacity_kwh": 60,
                "soc_kwh": 10,
                "energy_needed_kwh": 5,
            },
        },
        {
            "asset_id": "base",
            "kind": "load",
            "max_import_kw": 0.5,
            "location_id": h["location"],
        },
    ]


async def test_price_curve_yields_an_energy_usage_report(platform, ec, test_db, tmp_path, agent_db):
    h = await household(ec)
    config = agent_config(
        platform,
        ec,
        tmp_path / "a",
        database_url=agent_db,
        assets=inventory(h),
        flex_market=False,
        policy="optimizer",
    )
    agent, driver = await start_agent(config, clock=ScaledClock(SPEED))
    try:
        first = next_hour() + timedelta(hours=1)  # 1-2 hours ahead: the schedule is in before
        body = {
            "targets": [
                {"resourceId": h["tank"], "locationId": h["location"]},
                {"resourceId": h["car"], "locationId": h["location"]},
            ],
            "priceCurveDelta": {
                "points": [
                    {"price": 0.5, "timestamp": z(first)},
                    {"price": -1.0, "timestamp": z(first + timedelta(hours=1))},
                ],
                "resolution": "01:00:00",
            },
            "priceArea": "NO1",
        }
        event = await simulate(ec, "pricecurve", body)
        (row,) = await eventually(lambda: sent(agent, "EnergyUsage:"), timeout=60)
        assert row["event_id"] == event["id"] and row["failed"] is None
        # each targeted resource got its schedule once
        schedules = [c.asset_id for c in driver.commands if c.kind == "schedule"]
        assert sorted(schedules) == ["car", "tank"]

        (stored,) = await platform_reports(test_db, event["id"])
        assert stored.id == row["platform_id"]
        by_resource = {p["resourceId"]: p for p in stored.payloads}
        assert set(by_resource) == {h["tank"], h["car"]}
        hours = [first.isoformat(), (first + timedelta(hours=1)).isoformat()]
        for p in by_resource.values():
            assert p["payloadType"] == "EnergyUsage" and p["resolution"] == "01:00:00"
            assert p["locationId"] == h["location"]
            assert [pt["timestamp"] for pt in p["points"]] == hours
        tank = [pt["kiloWattHours"] for pt in by_resource[h["tank"]]["points"]]
        car = [pt["kiloWattHours"] for pt in by_resource[h["car"]]["points"]]
        assert sum(tank) > 0  # the tank starts below its band and must heat
        assert car[1] > car[0]  # the car charges in the cheap (negative) hour
    finally:
        await agent.stop()


async def test_lpc_acknowledged_and_respected(platform, ec, test_db, tmp_path, agent_db):
    h = await household(ec)
    config = agent_config(
        platform, ec, tmp_path / "a", database_url=agent_db, assets=inventory(h), flex_market=False
    )
    clock = ScaledClock(SPEED / 2)
    agent, driver = await start_agent(config, clock=clock)
    try:
        first = next_hour() + timedelta(hours=1)  # 1-2 hours ahead: 7-14 s
        body = {
            "locations": [
                {
                    "location": {"locationId": h["location"], "meterPointId": h["meters"][0]},
                    "points": [{"maxPowerInKiloWatts": 4.0, "timestamp": z(first)}],
                }
            ]
        }
        event = await simulate(ec, "lpc/locations", body)
        # acknowledged at once
        (ack,) = await eventually(lambda: sent(agent, "LocationLPCAcknowledgement:"))
        (stored,) = [
            r for r in await platform_reports(test_db, event["id"]) if r.id == ack["platform_id"]
        ]
        assert stored.payloads == [
            {
                "payloadType": "LocationLPCAcknowledgement",
                "acknowledgedTargets": [
                    {"locationId": h["location"], "meterPointId": h["meters"][0]}
                ],
                "declinedTargets": [],
            }
        ]
        # before the window the household draws what it likes: more than the limit
        devices = driver.devices
        await clock.sleep_until(first - timedelta(minutes=10))
        for a in devices:
            driver.device(a)  # run each up to now
        assert sum(devices[a].power_kw for a in ("tank", "car", "base")) > 4.0
        # within it, never more than the limit (sampled every few minutes of its hour)
        await clock.sleep_until(first + timedelta(minutes=2))
        while clock.now() < first + timedelta(minutes=55):
            for a in devices:
                driver.device(a)  # run each up to now
            assert sum(devices[a].power_kw for a in ("tank", "car", "base")) <= 4.0 + 1e-6
            await clock.sleep(300)
        limits = {c.asset_id: c.value for c in driver.commands if c.kind == "limit" and c.value}
        assert limits == pytest.approx({"tank": 3.5 * 3 / 10, "car": 3.5 * 7 / 10})
        # and after it a location energy usage report, accepted
        (row,) = await eventually(lambda: sent(agent, "LocationEnergyUsage:"), timeout=60)
        usage = [
            r for r in await platform_reports(test_db, event["id"]) if r.id == row["platform_id"]
        ]
        (payload,) = usage[0].payloads
        assert payload["payloadType"] == "LocationEnergyUsage"
        assert payload["locationId"] == h["location"] and payload["meterPointId"] == h["meters"][0]
        assert [p["timestamp"] for p in payload["points"]] == [first.isoformat()]
        assert 0 < payload["points"][0]["kiloWattHours"] <= 4.0 * 1.05
        lifted = [c.asset_id for c in driver.commands if c.kind == "limit" and c.value is None]
        assert {"car", "tank"} <= set(lifted)
    finally:
        await agent.stop()
