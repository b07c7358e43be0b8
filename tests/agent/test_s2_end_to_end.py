"""An S2 device behind the agent, end to end: the platform's sandbox sends a price curve for a
household's hot water tank; the agent (its S2 driver the CEM a simulated S2 resource manager
connects to over a real WebSocket) schedules the tank through the optimizer, the driver turns
the schedule into FRBC instructions the tank follows, and the tank's own measurements become
the ``EnergyUsage`` report the platform accepts: hour by hour, the kWh the device drew."""

from __future__ import annotations

from datetime import timedelta

import pytest

from flexhub.agent.optimize.devices import WaterHeater
from flexhub.clock import ScaledClock
from flexhub.sim.s2_resource import SimResource
from support.agent import agent_config, eventually, next_hour, platform_reports, sent, start_agent
from support.ec_simulation import household, simulate
from support.fm import z

pytestmark = pytest.mark.asyncio(loop_scope="session")
SPEED = 1000.0  # an hour in 3.6 s
TOKEN = "an-s2-resource-token"
TANK = {"volume_l": 200, "heater_kw": 3.0, "t_min": 50, "t_max": 75, "temperature": 55.0}


async def test_an_s2_tank_follows_its_schedule_and_its_measurements_are_the_report(
    platform, ec, test_db, tmp_path, agent_db
):
    h = await household(ec, vehicle=False)
    assets = [
        {
            "asset_id": "tank",
            "driver": "s2",
            "kind": "water_heater",
            "max_import_kw": 3.0,
            "location_id": h["location"],
            "meter_point_id": h["meters"][0],
            "resource_id": h["tank"],
            "device": dict(TANK),
            "options": {"resource": "tank-rm", "token": TOKEN},
        }
    ]
    config = agent_config(
        platform,
        ec,
        tmp_path / "a",
        database_url=agent_db,
        assets=assets,
        flex_market=False,
        policy="optimizer",
    )
    config.drivers["s2"] = {"host": "127.0.0.1", "port": 0}
    clock = ScaledClock(SPEED)
    agent, _ = await start_agent(config, clock=clock)
    s2 = agent.fleet.drivers["s2"]
    tank = await SimResource("tank-rm", s2.url, TOKEN, WaterHeater(**TANK), clock=clock).start()
    try:
        await eventually(lambda: _available(s2, "tank"))
        first = next_hour() + timedelta(hours=1)
        body = {
            "targets": [{"resourceId": h["tank"], "locationId": h["location"]}],
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
        (row,) = await eventually(lambda: sent(agent, "EnergyUsage:"), timeout=90)
        assert row["event_id"] == event["id"] and row["failed"] is None
        assert tank.statuses and "REJECTED" not in tank.statuses.values()  # instructions taken

        (stored,) = await platform_reports(test_db, event["id"])
        (payload,) = stored.payloads
        assert payload["resourceId"] == h["tank"] and payload["payloadType"] == "EnergyUsage"
        hours = [first, first + timedelta(hours=1)]
        assert [pt["timestamp"] for pt in payload["points"]] == [t.isoformat() for t in hours]
        reported = [pt["kiloWattHours"] for pt in payload["points"]]
        drawn = [tank.energy_kwh(t, t + timedelta(hours=1)) for t in hours]
        assert reported == pytest.approx(drawn, abs=0.05)  # the device's own energy
        # inside its band it may wait: it heats in the cheap (negative) hour, not the dear one
        assert reported[1] > reported[0] and reported[1] > 0.5
    finally:
        await tank.stop()
        await agent.stop()


async def _available(driver, asset_id: str):
    return (await driver.availability(asset_id)).available
