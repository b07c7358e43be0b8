"""The CEM against simulated S2 resource managers, over real WebSockets on loopback: handshake
and description, FRBC batteries and tanks following schedules with measurements adding up to
the hourly energy, PEBC envelopes for caps, refusals reported, tokens checked at the
handshake, schedules re-sent after a reconnect, release hands the resource back."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from flexhub.agent.optimize.devices import EV, HomeBattery, Horizon, WaterHeater
from flexhub.agent.protocols.hourly import HourlyEnergy
from flexhub.agent.protocols.s2 import (
    FRBC,
    NO_SELECTION,
    PEBC,
    Cem,
    InstructionRejected,
    Outcome,
    ResourceConfig,
)
from flexhub.sim.clock import SimClock
from flexhub.sim.s2_resource import SimResource

TOKEN = "an-s2-resource-token"


def next_step(
    clock: SimClock, step: timedelta, lead: timedelta = timedelta(minutes=10)
) -> datetime:
    t = clock.now() + lead
    epoch = datetime(2000, 1, 1, tzinfo=UTC)
    return epoch + -(-(t - epoch) // step) * step


async def eventually(condition, timeout: float = 10.0):
    async with asyncio.timeout(timeout):
        while not (value := condition()):
            await asyncio.sleep(0.02)
        return value


def battery() -> HomeBattery:
    return HomeBattery(capacity_kwh=10, max_charge_kw=5, max_discharge_kw=5, soc_kwh=5)


@pytest.fixture
def clock(request) -> SimClock:
    return SimClock(speed=getattr(request, "param", 900))


@pytest.fixture
async def cem(clock):
    server = Cem(
        tokens={
            "bat-1": TOKEN,
            "tank-1": TOKEN,
            "ev-1": ResourceConfig(TOKEN, prefer=(PEBC, FRBC)),
        },
        clock=clock,
    )
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def resources(cem, clock):
    started: list[SimResource] = []

    async def make(resource_id: str, device, **kwargs) -> SimResource:
        kwargs.setdefault("clock", clock)
        rm = SimResource(resource_id, cem.url, kwargs.pop("token", TOKEN), device, **kwargs)
        started.append(await rm.start())
        return rm

    yield make
    for rm in started:
        await rm.stop()


def assert_follows(rm: SimResource, horizon: Horizon, power_kw, tolerance=0.02) -> None:
    for k, kw in enumerate(power_kw):
        got = rm.energy_kwh(horizon.time(k), horizon.time(k + 1))
        want = kw * horizon.dt
        assert got == pytest.approx(want, abs=tolerance * max(abs(want), 1.0)), (k, got, want)


async def test_a_resource_handshakes_and_is_left_alone_until_asked(cem, resources):
    rm = await resources("bat-1", battery(), name="garage battery")
    info = await cem.wait_for(lambda: (i := cem.resource("bat-1")).control_type and i)
    assert info.connected and info.available and not info.ready  # nothing asked yet
    assert info.control_type == NO_SELECTION
    assert (info.rm_resource_id, info.name) == (str(rm.rm_id), "garage battery")
    assert info.control_types == (FRBC,)
    assert info.roles == (("ENERGY_STORAGE", "ELECTRICITY"),)
    measured = await cem.wait_for(lambda: cem.resource("bat-1").measured_at)
    assert measured is not None and cem.resource("bat-1").power_kw == 0.0
    assert rm.control is None


@pytest.mark.parametrize("clock", [3600], indirect=True)
async def test_an_frbc_battery_follows_its_schedule_and_its_measurements_add_up(
    cem, resources, clock
):
    rm = await resources("bat-1", battery())
    await cem.wait_for(lambda: cem.resource("bat-1").control_type)
    horizon = Horizon(next_step(clock, timedelta(hours=1)), 4, dt=0.5)
    power = [2.0, -3.0, 0.0, 4.0]

    result = await cem.apply_schedule("bat-1", horizon, power)

    assert (result.outcome, result.control_type, result.instructions) == (Outcome.ACCEPTED, FRBC, 4)
    info = cem.resource("bat-1")
    assert info.ready and info.fill_level_label == "kWh" and info.fill_level_range == (0, 10)
    await clock.sleep_until(horizon.end + timedelta(minutes=5))
    assert_follows(rm, horizon, power)

    # what the resource measured, held until the next measurement, is what the CEM reports
    replay = HourlyEnergy()
    for t, kw in rm.measured:
        replay.power(t, kw)
    hourly = cem.energy_by_hour("bat-1", horizon.start, horizon.end)
    assert list(hourly) == [horizon.start, horizon.start + timedelta(hours=1)]
    for hour, kwh in hourly.items():
        assert kwh == pytest.approx(replay.by_hour()[hour], abs=1e-9)
        assert kwh == pytest.approx(rm.energy_kwh(hour, hour + timedelta(hours=1)), abs=1e-6)
    assert hourly[horizon.start] == pytest.approx(1.0 - 1.5, abs=0.03)
    assert hourly[horizon.start + timedelta(hours=1)] == pytest.approx(0 + 2.0, abs=0.03)
    assert cem.resource("bat-1").fill_level == pytest.approx(rm.fill_level, abs=0.2)

    # over: handed back to its own control (a battery idles); the last instruction revoked
    await cem.wait_for(lambda: cem.resource("bat-1").control_type == NO_SELECTION)
    await eventually(lambda: rm.history[-1][1] == 0.0)
    assert sorted(rm.statuses.values()) == ["REVOKED"] + ["SUCCEEDED"] * 3, rm.statuses


async def test_an_frbc_tank_heats_as_scheduled(cem, resources, clock):
    tank = WaterHeater(volume_l=200, heater_kw=3, t_min=45, t_max=75, temperature=50)
    rm = await resources("tank-1", tank)
    await cem.wait_for(lambda: cem.resource("tank-1").control_type)
    horizon = Horizon(next_step(clock, timedelta(minutes=15)), 3, dt=0.25)
    power = [3.0, 1.5, 0.0]
    assert (await cem.apply_schedule("tank-1", horizon, power)).ok
    await clock.sleep_until(horizon.end + timedelta(minutes=1))
    assert_follows(rm, horizon, power)
    info = cem.resource("tank-1")
    assert info.fill_level_label == "°C" and info.fill_level > 50


async def test_a_cap_on_an_ev_is_a_power_envelope(cem, resources, clock):
    now = clock.now()
    ev = EV(
        capacity_kwh=80,
        max_charge_kw=11,
        plug_in=now,
        departure=now + timedelta(hours=8),
        energy_needed_kwh=40,
        soc_kwh=10,
    )
    rm = await resources("ev-1", ev)
    await cem.wait_for(lambda: cem.resource("ev-1").control_type)
    start = next_step(clock, timedelta(minutes=15))
    end = start + timedelta(minutes=30)

    result = await cem.cap("ev-1", 3.7, start, end)

    assert (result.outcome, result.control_type) == (Outcome.ACCEPTED, PEBC)
    assert cem.resource("ev-1").control_types == (FRBC, PEBC)
    await clock.sleep_until(end + timedelta(minutes=5))
    during = [kw for t, kw in rm.history if start <= t < end]
    after = [kw for t, kw in rm.history if end + timedelta(minutes=1) <= t]
    assert during and max(during) == pytest.approx(3.7) and min(during) == pytest.approx(3.7)
    assert after and min(after) == pytest.approx(11.0)


async def test_an_frbc_schedule_is_capped(cem, resources, clock):
    rm = await resources("bat-1", battery())
    await cem.wait_for(lambda: cem.resource("bat-1").control_type)
    horizon = Horizon(next_step(clock, timedelta(minutes=15)), 2, dt=0.25)
    assert (await cem.apply_schedule("bat-1", horizon, [4.0, 4.0])).ok
    assert (await cem.cap("bat-1", 1.5, horizon.time(1), horizon.end)).ok
    await clock.sleep_until(horizon.end + timedelta(minutes=1))
    assert_follows(rm, horizon, [4.0, 1.5])


async def test_a_refused_instruction_is_reported(cem, resources, clock):
    await resources("bat-1", battery(), refuse_modes={"discharge"})
    await cem.wait_for(lambda: cem.resource("bat-1").control_type)
    refusals = []
    cem.listeners.add(lambda e: refusals.append(e) if isinstance(e, InstructionRejected) else 0)
    horizon = Horizon(next_step(clock, timedelta(minutes=15)), 2, dt=0.25)

    result = await cem.apply_schedule("bat-1", horizon, [1.0, -2.0])

    assert result.outcome is Outcome.REJECTED
    assert result.reason == "1 instruction(s) refused"
    assert [e.status for e in refusals] == ["REJECTED"]
    assert cem.resource("bat-1").last_result == result


async def test_unknown_resources_and_wrong_tokens_are_refused_at_the_handshake(cem, resources):
    for path, headers in [
        ("/bat-1", {"Authorization": "Bearer wrong"}),
        ("/bat-1", {}),
        ("/bat-1", {"Authorization": f"Basic {TOKEN}"}),
        ("/nobody", {"Authorization": f"Bearer {TOKEN}"}),
    ]:
        with pytest.raises(InvalidStatus) as refused:
            await connect(cem.url + path, additional_headers=headers)
        assert refused.value.response.status_code == 401
    rm = await resources("bat-1", battery(), token="not-it")
    await eventually(lambda: isinstance(rm.last_error, InvalidStatus))
    assert not cem.resource("bat-1").connected


async def test_a_schedule_is_sent_again_after_a_reconnect(cem, resources, clock):
    rm = await resources("bat-1", battery())
    await cem.wait_for(lambda: cem.resource("bat-1").control_type)
    horizon = Horizon(next_step(clock, timedelta(minutes=15)), 4, dt=0.25)
    power = [1.0, 2.0, -2.0, 3.0]
    assert (await cem.apply_schedule("bat-1", horizon, power)).ok
    await clock.sleep_until(horizon.time(1) + timedelta(minutes=2))

    rm.drop()
    await cem.wait_for(lambda: not cem.resource("bat-1").connected)
    await cem.wait_for(lambda: cem.resource("bat-1").ready, timeout=15)
    assert rm.connections == 2
    await clock.sleep_until(horizon.end + timedelta(minutes=1))
    assert_follows(rm, Horizon(horizon.time(2), 2, 0.25), power[2:])


async def test_release_hands_the_resource_back(cem, resources, clock):
    rm = await resources("bat-1", battery())
    await cem.wait_for(lambda: cem.resource("bat-1").control_type)
    held = await cem.set_power("bat-1", 2.5)
    assert held.ok and held.instructions == 1
    await eventually(lambda: rm.history and rm.history[-1][1] == pytest.approx(2.5))

    released = await cem.release("bat-1")

    assert released.ok and released.control_type == NO_SELECTION
    assert cem.resource("bat-1").schedule == ()
    await eventually(lambda: rm.control is None and rm.history[-1][1] == 0.0)
    assert any(status == "REVOKED" for status in rm.statuses.values())
