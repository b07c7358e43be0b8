"""The simulators' own parts: the fast clock, devices stepped by the optimizer's physics, and
the simulated charging station's profile rules."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest

from flexhub.agent.optimize.devices import EV, HomeBattery, Horizon, WaterHeater
from flexhub.sim.clock import SimClock
from flexhub.sim.ocpp_profiles import Profile, ProfileBook, share
from flexhub.sim.physics import DeviceRun

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


async def test_the_clock_runs_fast_from_its_origin():
    clock = SimClock(speed=3600, origin=T0)
    assert clock.now() - T0 < timedelta(minutes=1)
    started = time.monotonic()
    await clock.sleep_until(T0 + timedelta(hours=0.2))
    assert clock.now() >= T0 + timedelta(hours=0.2)
    assert time.monotonic() - started == pytest.approx(0.2, abs=0.15)
    assert clock.to_wall(timedelta(hours=1)) == 1.0
    with pytest.raises(ValueError):
        SimClock(speed=0)
    await asyncio.sleep(0)


def test_a_device_run_is_the_linear_store_step_by_step():
    battery = HomeBattery(capacity_kwh=10, max_charge_kw=5, max_discharge_kw=5, soc_kwh=5)
    run = DeviceRun(battery, T0, tick_s=900, window_ticks=3)
    store = battery.store(Horizon(T0, 9, dt=0.25))
    x = 5.0
    for k, want in enumerate([4, 9, -3, -5, 0, 5, 5]):  # across window rebuilds
        p = run.step(want)
        assert p == pytest.approx(store.feasible_power(k, x, want, 0.25))
        x = store.next_state(k, x, p, 0.25)
        assert run.x == pytest.approx(x)
    assert run.t == T0 + 7 * timedelta(minutes=15)
    full = DeviceRun(HomeBattery(10, 5, 5, soc_kwh=9.4), T0, 900)
    assert full.step(5) == pytest.approx((9.5 - 9.4) / (0.9**0.5 * 0.25))  # soc_max 95 %


def test_an_ev_draws_only_while_plugged_and_a_tank_cools():
    ev = EV(
        80,
        11,
        plug_in=T0 + timedelta(minutes=30),
        departure=T0 + timedelta(hours=1),
        energy_needed_kwh=10,
    )
    run = DeviceRun(ev, T0, tick_s=600)
    drawn = [run.step(11) for _ in range(8)]
    assert drawn == [0, 0, 0, 11, 11, 11, 0, 0]
    assert run.x == pytest.approx(3 * 11 * 0.9 / 6)
    tank = DeviceRun(WaterHeater(200, 3, 45, 75, temperature=60, loss_w_per_k=50), T0, 3600)
    tank.step(0)
    assert tank.x < 60


def _profile(
    pid, purpose, evse, limits, start=T0, offsets=None, level=1, tx=None, unit="W", duration=None
):
    return Profile(
        pid, evse, purpose, level, "Absolute", unit, offsets or [0], limits, start, duration, tx
    )


def test_the_station_applies_tx_then_default_profiles_and_shares_its_maximum():
    book = ProfileBook({1, 2})
    running = {1: "tx1", 2: None}
    assert book.install(_profile(1, "TxDefaultProfile", 0, [6000]), running) == (True, "")
    assert book.install(
        _profile(
            2, "TxProfile", 1, [2000, 4000], offsets=[0, 600], tx="tx1", level=2, duration=1200
        ),
        running,
    )[0]
    assert book.install(_profile(3, "TxProfile", 2, [1000], tx="old"), running) == (
        False,
        "TxNotFound",
    )
    assert book.install(_profile(4, "ChargePointMaxProfile", 1, [1000]), running)[1].startswith(
        "InvalidProfile"
    )
    assert book.install(_profile(5, "TxDefaultProfile", 0, [1000]), running)[1].startswith(
        "DuplicateProfile"
    )
    assert book.install(_profile(6, "TxDefaultProfile", 1, [16], unit="A"), {}) == (True, "")
    at = T0 + timedelta(minutes=11)
    assert book.evse_limit_kw(1, at, "tx1", T0) == 4.0
    assert book.evse_limit_kw(1, T0 + timedelta(minutes=30), "tx1", T0) == pytest.approx(11.04)
    assert book.evse_limit_kw(2, at, None, None) == 6.0
    assert book.station_limit_kw(at) is None
    book.install(_profile(7, "ChargingStationMaxProfile", 0, [9000]), running)
    assert share({1: 6.0, 2: 6.0}, book.station_limit_kw(at)) == {1: 4.5, 2: 4.5}
    assert book.clear(profile_id=7) and not book.clear(profile_id=7)
    book.transaction_ended("tx1")
    assert 2 not in book.profiles
