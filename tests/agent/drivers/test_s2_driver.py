"""The S2 driver, loaded through the registry, against simulated S2 resource managers over real
WebSockets on loopback: an FRBC battery follows the instructions a schedule becomes, and the
energy its measurements integrate to (read_meter, energy_by_hour) is the device's own, hour by
hour, down to an EnergyUsage report; limits are PEBC envelopes (or a capped FRBC schedule);
offline resources get what is pending when they are back."""

from __future__ import annotations

from datetime import timedelta

import pytest

from flexhub.agent.drivers import AssetSpec, DriverError, PowerSchedule
from flexhub.agent.optimize.devices import EV, HomeBattery, WaterHeater
from flexhub.sim.clock import SimClock
from flexhub.sim.s2_resource import SimResource
from flexhub.wire.coordination.reports import EnergyUsageReportPayload
from support.drivers import assert_follows, eventually, next_step, started

TOKEN = "an-s2-resource-token"
OPTIONS = {"host": "127.0.0.1", "port": 0}


def battery() -> HomeBattery:
    return HomeBattery(capacity_kwh=10, max_charge_kw=5, max_discharge_kw=5, soc_kwh=5)


def ev(clock: SimClock) -> EV:
    now = clock.now()
    return EV(
        capacity_kwh=80,
        max_charge_kw=11,
        plug_in=now,
        departure=now + timedelta(hours=8),
        energy_needed_kwh=40,
        soc_kwh=10,
    )


@pytest.fixture
def clock(request) -> SimClock:
    return SimClock(speed=getattr(request, "param", 900))


@pytest.fixture
async def driver(clock):
    assets = [
        AssetSpec(
            "bat-1",
            "s2",
            "battery",
            max_import_kw=5,
            max_export_kw=5,
            options={"resource": "garage-battery", "token": TOKEN},
        ),
        AssetSpec(
            "ev-1", "s2", "ev", max_import_kw=11, options={"token": TOKEN, "prefer": ["PEBC"]}
        ),
    ]
    running = await started("s2", OPTIONS, clock, assets)
    yield running
    await running.close()


@pytest.fixture
async def resources(driver, clock):
    made: list[SimResource] = []

    async def make(resource_id: str, device, **kwargs) -> SimResource:
        rm = SimResource(resource_id, driver.url, TOKEN, device, clock=clock, **kwargs)
        made.append(await rm.start())
        return rm

    yield make
    for rm in made:
        await rm.stop()


async def _available(driver, asset_id: str):
    return (a := await driver.availability(asset_id)).available and a


@pytest.mark.parametrize("clock", [3600], indirect=True)
async def test_an_frbc_battery_follows_and_its_measurements_make_the_energy_report(
    driver, resources, clock
):
    rm = await resources("garage-battery", battery())
    ready = await eventually(lambda: _available(driver, "bat-1"))
    assert (ready.max_import_kw, ready.max_export_kw, ready.reason) == (5, 5, "S2 FRBC")
    start = next_step(clock, timedelta(hours=1))
    schedule = PowerSchedule(start, timedelta(minutes=30), [2.0, -3.0, 4.0, 1.0])
    await eventually(lambda: _state_is(driver, "bat-1", "idle"))  # on its own: idle
    before = await driver.read_meter("bat-1")

    result = await driver.set_schedule("bat-1", schedule)

    assert result.ok, result
    await clock.sleep_until(schedule.end + timedelta(minutes=5))
    assert_follows(rm.energy_kwh, schedule)
    assert len(rm.statuses) == 4 and "REJECTED" not in rm.statuses.values()

    hours = [start, start + timedelta(hours=1)]
    hourly = driver.energy_by_hour("bat-1", start, schedule.end)
    assert list(hourly) == hours
    for hour, kwh in hourly.items():
        assert kwh == pytest.approx(rm.energy_kwh(hour, hour + timedelta(hours=1)), abs=1e-6)
    assert hourly[hours[0]] == pytest.approx(1.0 - 1.5, abs=0.03)
    assert hourly[hours[1]] == pytest.approx(2.0 + 0.5, abs=0.03)
    after = await driver.read_meter("bat-1")
    assert after.import_kwh - before.import_kwh == pytest.approx(1.0 + 2.5, abs=0.03)
    assert after.export_kwh - before.export_kwh == pytest.approx(1.5, abs=0.03)
    state = await driver.read_state("bat-1")
    assert state.soc == pytest.approx(rm.fill_level / 10, abs=0.02)

    charged = {h: kwh for h, kwh in hourly.items() if kwh > 0}
    report = EnergyUsageReportPayload(
        payloadType="EnergyUsage",
        resourceId="bat-1",
        resolution="01:00:00",
        points=[{"timestamp": h, "kiloWattHours": kwh} for h, kwh in charged.items()],
    )
    assert [p.kiloWattHours for p in report.points] == pytest.approx(
        [rm.energy_kwh(h, h + timedelta(hours=1)) for h in charged], abs=1e-6
    )


async def _state_is(driver, asset_id: str, word: str):
    state = await driver.read_state(asset_id)
    return state if state.state == word else None


async def test_a_limit_on_an_ev_is_a_power_envelope(driver, resources, clock):
    rm = await resources("ev-1", ev(clock))
    await eventually(lambda: _state_is(driver, "ev-1", "charging"))

    result = await driver.set_limit("ev-1", 3.7)

    assert result.ok, result
    capped = await driver.availability("ev-1")
    assert (capped.max_import_kw, capped.reason) == (3.7, "S2 FRBC/PEBC, capped at 3.7 kW")
    await eventually(lambda: rm.history[-1][1] == pytest.approx(3.7))
    since = clock.now()
    await clock.sleep_until(since + timedelta(minutes=20))
    during = [kw for t, kw in rm.history if t >= since]
    assert during and max(during) == pytest.approx(3.7)

    assert (await driver.set_limit("ev-1", None)).ok
    await eventually(lambda: rm.history[-1][1] == pytest.approx(11.0))


async def test_a_limit_on_an_frbc_battery_caps_its_setpoint(driver, resources, clock):
    rm = await resources("garage-battery", battery())
    await eventually(lambda: _available(driver, "bat-1"))
    refused = await driver.set_limit("bat-1", 1.5)  # on its own control: nothing to cap
    assert refused.outcome == "rejected" and "schedule" in refused.reason

    assert (await driver.set_power("bat-1", 4.0)).ok
    await eventually(lambda: rm.history[-1][1] == pytest.approx(1.5))
    alone = await driver.set_power("bat-1", None)  # the cap stays, with nothing to cap
    assert alone.outcome == "rejected" and "own control" in alone.reason
    await eventually(lambda: rm.control is None and rm.history[-1][1] == 0.0)
    assert "REVOKED" in rm.statuses.values()

    assert (await driver.set_power("bat-1", 4.0)).ok
    await eventually(lambda: rm.history[-1][1] == pytest.approx(1.5))
    assert (await driver.set_limit("bat-1", None)).ok
    await eventually(lambda: rm.history[-1][1] == pytest.approx(4.0))
    assert (await driver.set_power("bat-1", None)).ok
    await eventually(lambda: rm.control is None and rm.history[-1][1] == 0.0)


async def test_an_offline_resource_gets_what_is_pending_when_it_is_back(driver, resources, clock):
    rm = await resources("garage-battery", battery())
    await eventually(lambda: _available(driver, "bat-1"))
    await eventually(lambda: driver.cem.resource("garage-battery").control_type)  # settled
    rm.reconnect_delay = 2.0  # wall seconds
    rm.drop()
    gone = await eventually(lambda: _state_is(driver, "bat-1", "offline"))
    assert not gone.online
    assert (await driver.availability("bat-1")).reason == "resource offline"

    queued = await driver.set_power("bat-1", -2.0)

    assert queued.outcome == "pending"
    assert driver.last_result("bat-1").outcome == "pending"
    await eventually(lambda: driver.last_result("bat-1").ok, timeout=15)
    await eventually(lambda: rm.history[-1][1] == pytest.approx(-2.0))
    assert (await eventually(lambda: _state_is(driver, "bat-1", "discharging"))).online
    assert rm.connections == 2


async def test_a_tank_held_at_a_power_is_heating(clock):
    tank = AssetSpec("tank-1", "s2", "water_heater", max_import_kw=3, options={"token": TOKEN})
    driver = await started("s2", OPTIONS, clock, [tank])
    heater = WaterHeater(volume_l=200, heater_kw=3, t_min=45, t_max=75, temperature=50)
    try:
        async with SimResource("tank-1", driver.url, TOKEN, heater, clock=clock) as rm:
            await eventually(lambda: _available(driver, "tank-1"))
            assert (await driver.set_power("tank-1", 3.0)).ok
            state = await eventually(lambda: _state_is(driver, "tank-1", "heating"))
            assert state.power_kw == pytest.approx(3.0)
            assert 0 < state.soc < 1  # the temperature within the tank's range
            assert rm.history[-1][1] == pytest.approx(3.0)
    finally:
        await driver.close()


async def test_configuration_is_checked_at_start(clock):
    async def refused(assets) -> str:
        with pytest.raises(ValueError) as error:
            await started("s2", OPTIONS, clock, assets)
        return str(error.value)

    assert "token (or token_env) is required" in await refused([AssetSpec("x", "s2", "battery")])
    wrong = AssetSpec("x", "s2", "battery", options={"token": TOKEN, "prefer": ["OMBC"]})
    assert "prefer" in await refused([wrong])
    twice = [
        AssetSpec("x", "s2", "battery", options={"token": TOKEN, "resource": "r"}),
        AssetSpec("y", "s2", "battery", options={"token": TOKEN, "resource": "r"}),
    ]
    assert "another asset's" in await refused(twice)

    driver = await started("s2", OPTIONS, clock, twice[:1])
    try:
        for command in (driver.read_state, driver.availability, driver.read_meter):
            with pytest.raises(DriverError, match="no asset 'nobody'"):
                await command("nobody")
        with pytest.raises(DriverError):
            await driver.set_schedule("nobody", None)
        assert not (await driver.availability("x")).available  # not connected yet
    finally:
        await driver.close()
