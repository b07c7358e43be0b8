"""The OCPP driver, loaded through the registry, against simulated charging stations over real
WebSockets on loopback: an optimizer's schedule becomes the TxProfile the vehicle follows and
the energy the driver reports is the station's; limits are station maximum profiles the draw
stays under; a setpoint holds over the schedule; a disconnect in the middle of a profile is
healed; refusals come back as rejected; bad configuration is refused at start."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from flexhub.agent.drivers import AssetSpec, DriverError, PowerSchedule
from flexhub.agent.optimize import Optimizer
from flexhub.agent.optimize.devices import EV, Horizon
from flexhub.agent.policy import Resource, ScheduleRequest
from flexhub.agent.protocols.ocpp import OCPP16
from flexhub.sim.clock import SimClock
from flexhub.sim.ocpp_station import SimStation
from support.drivers import assert_follows, eventually, next_step, planned, started
from support.tls import self_signed

PASSWORD = "a-station-password-16+"
OPTIONS = {"host": "127.0.0.1", "port": 0, "refresh_interval": 0.2, "reconnect_grace": 0.05}


def charger(asset_id: str, station: str, evse: int = 1, **options) -> AssetSpec:
    return AssetSpec(
        asset_id,
        "ocpp",
        "charger",
        max_import_kw=11.0,
        options={"station": station, "evse": evse, "password": PASSWORD, **options},
    )


def ev(clock: SimClock, hours: float = 8, soc: float = 10.0) -> EV:
    now = clock.now()
    return EV(
        capacity_kwh=80,
        max_charge_kw=11.0,
        plug_in=now,
        departure=now + timedelta(hours=hours),
        energy_needed_kwh=15,
        soc_kwh=soc,
    )


@pytest.fixture
def clock(request) -> SimClock:
    return SimClock(speed=getattr(request, "param", 900))


@pytest.fixture
async def driver(clock):
    assets = [
        charger("ev-1", "CP1"),
        charger("ev-a", "CP2", 1),
        charger("ev-b", "CP2", 2),
        charger("ev-3", "CP3"),
    ]
    running = await started("ocpp", OPTIONS, clock, assets)
    yield running
    await running.close()


@pytest.fixture
async def stations(driver, clock):
    made: list[SimStation] = []

    async def make(station_id: str = "CP1", evses: int = 1, **kwargs) -> SimStation:
        station = SimStation(station_id, driver.url, PASSWORD, evses, clock=clock, **kwargs)
        made.append(await station.start())
        return station

    yield make
    for station in made:
        await station.stop()


async def charging(driver, asset_id: str):
    return await eventually(
        lambda: _state_is(driver, asset_id, "charging"),
    )


async def _metered_since(driver, asset_id: str, when) -> bool:
    return (await driver.read_meter(asset_id)).at >= when


async def _state_is(driver, asset_id: str, word: str):
    state = await driver.read_state(asset_id)
    return state if state.state == word else None


@pytest.mark.parametrize("clock", [3600], indirect=True)
async def test_an_optimized_schedule_is_the_txprofile_the_vehicle_follows(driver, stations, clock):
    station = await stations("CP1", meter_interval_s=60)
    unplugged = await eventually(lambda: _state_is(driver, "ev-1", "unplugged"))
    assert unplugged.online and unplugged.power_kw == 0.0
    waiting = await driver.availability("ev-1")
    assert (waiting.available, waiting.reason) == (False, "no vehicle plugged in")

    vehicle = ev(clock)
    station.plug(1, vehicle)
    await charging(driver, "ev-1")
    horizon = Horizon(next_step(clock, timedelta(hours=1)), 4, dt=1.0)
    request = ScheduleRequest(
        horizon,
        prices=np.array([0.30, 0.05, 0.20, 0.10]),
        resources=[Resource("ev-1", "home-1", vehicle)],
    )
    schedule = planned(Optimizer(workers=1), request, "ev-1")
    assert schedule.kw[0] == pytest.approx(0) and schedule.kw[1] == pytest.approx(11)
    before = await driver.read_meter("ev-1")

    result = await driver.set_schedule("ev-1", schedule)

    assert result.ok, result
    profile = station.book.taken[-1]
    tx = station.evses[1].transaction_id
    assert (profile.purpose, profile.transaction_id) == ("TxProfile", tx)
    assert profile.limits == pytest.approx([kw * 1000 for kw in schedule.kw], abs=0.1)
    assert profile.offsets == [0, 3600, 7200, 10800]
    available = await driver.availability("ev-1")
    assert (available.available, available.max_import_kw) == (True, 11.0)

    await clock.sleep_until(horizon.end + timedelta(minutes=2))
    evse = station.evses[1]
    assert_follows(evse.energy_kwh, schedule)
    await eventually(  # the meter value that closes the last hour has arrived
        lambda: _metered_since(driver, "ev-1", horizon.end + timedelta(minutes=1))
    )
    hourly = driver.energy_by_hour("ev-1", horizon.start, horizon.end)
    assert list(hourly) == horizon.times()
    for hour, kwh in hourly.items():
        assert kwh == pytest.approx(evse.energy_kwh(hour, hour + timedelta(hours=1)), abs=1e-3)
    after = await driver.read_meter("ev-1")
    assert after.import_kwh > before.import_kwh
    everything = driver.energy_by_hour("ev-1")  # the hours before and after the horizon too
    assert after.import_kwh == pytest.approx(sum(everything.values()), abs=1e-6)
    # what the station drew until that reading, less what it drew before its first meter
    # value (a minute at most, at 11 kW at most)
    register = evse.energy_kwh(clock.origin - timedelta(days=1), after.at)
    assert register - 11 / 60 - 0.01 <= after.import_kwh <= register + 1e-6
    state = await driver.read_state("ev-1")
    assert 10 / 80 < state.soc <= evse.soc_percent / 100  # as last metered; it charges on


async def test_a_limit_is_a_station_maximum_the_draw_stays_under(driver, stations, clock):
    station = await stations("CP2", evses=2)
    station.plug(1, ev(clock))
    station.plug(2, ev(clock))
    await charging(driver, "ev-a")
    await charging(driver, "ev-b")

    first = await driver.set_limit("ev-a", 3.0)  # ev-b counts its maximum: 3 + 11
    assert first.ok
    assert station.book.taken[-1].limits == [14000.0]
    second = await driver.set_limit("ev-b", 5.0)

    assert second.ok
    profile = station.book.taken[-1]
    assert (profile.purpose, profile.evse_id, profile.limits) == (
        "ChargingStationMaxProfile",
        0,
        [8000.0],
    )
    capped = await driver.availability("ev-b")
    assert (capped.available, capped.max_import_kw, capped.reason) == (
        True,
        5.0,
        "capped at 5 kW",
    )
    since = clock.now() + timedelta(minutes=1)
    await clock.sleep_until(since + timedelta(minutes=20))
    total: dict = {}
    for evse in station.evses.values():
        for t, kw in evse.history:
            if t >= since:
                total[t] = total.get(t, 0.0) + kw
    assert total and max(total.values()) <= 8.0 + 1e-9
    assert min(total.values()) == pytest.approx(8.0)

    assert (await driver.set_limit("ev-a", None)).ok  # ev-b's 5 + ev-a's 11
    assert station.book.taken[-1].limits == [16000.0]
    assert (await driver.set_limit("ev-b", None)).ok
    assert not station.book.profiles
    await eventually(lambda: all(e.power_kw == pytest.approx(11) for e in station.evses.values()))


async def test_a_setpoint_holds_over_the_schedule_until_released(driver, stations, clock):
    station = await stations("CP1")
    station.plug(1, ev(clock))
    await charging(driver, "ev-1")
    evse = station.evses[1]
    start = clock.now() - timedelta(minutes=1)
    assert (await driver.set_schedule("ev-1", PowerSchedule(start, timedelta(hours=2), [3]))).ok
    await eventually(lambda: evse.power_kw == pytest.approx(3.0))

    assert (await driver.set_power("ev-1", 6.0)).ok
    await eventually(lambda: evse.power_kw == pytest.approx(6.0))
    kept = await driver.set_schedule("ev-1", PowerSchedule(start, timedelta(hours=2), [5]))
    assert kept.ok and "setpoint" in kept.reason
    assert station.book.taken[-1].limits == [6000.0]

    assert (await driver.set_power("ev-1", None)).ok
    assert station.book.taken[-1].limits == [5000.0]
    await eventually(lambda: evse.power_kw == pytest.approx(5.0))
    assert (await driver.set_schedule("ev-1", None)).ok
    assert not station.book.profiles
    await eventually(lambda: evse.power_kw == pytest.approx(11.0))


async def test_a_disconnect_in_the_middle_of_a_profile_is_healed(driver, stations, clock):
    station = await stations("CP1")
    station.plug(1, ev(clock))
    await charging(driver, "ev-1")
    start = next_step(clock, timedelta(minutes=15))
    first = PowerSchedule(start, timedelta(minutes=15), [6.0, 6.0, 6.0, 6.0])
    assert (await driver.set_schedule("ev-1", first)).ok
    await clock.sleep_until(start + timedelta(minutes=1))

    station.reconnect_delay = 0.4  # wall seconds: 6 minutes of the clock offline
    station.drop()
    offline = await eventually(lambda: _state_is(driver, "ev-1", "offline"))
    assert not offline.online
    second = PowerSchedule(start, timedelta(minutes=15), [6.0, 1.0, 9.0, 2.0])
    queued = await driver.set_schedule("ev-1", second)
    assert queued.outcome == "pending" and "reconnects" in queued.reason
    assert driver.last_result("ev-1").outcome == "pending"
    gone = await driver.availability("ev-1")
    assert (gone.available, gone.reason) == (False, "station offline")

    await eventually(lambda: driver.last_result("ev-1").ok, timeout=15)
    assert station.book.taken[-1].limits[-3:] == [1000.0, 9000.0, 2000.0]
    assert (await driver.availability("ev-1")).available
    await clock.sleep_until(second.end + timedelta(minutes=1))
    rest = PowerSchedule(start + second.step, second.step, second.kw[1:])
    assert_follows(station.evses[1].energy_kwh, rest)
    assert station.connections == 2 and station.boots == 1


async def test_a_refused_profile_comes_back_rejected(driver, stations, clock):
    station = await stations("CP3", rate_units=("A",))  # takes currents only
    station.plug(1, ev(clock))
    await charging(driver, "ev-3")

    result = await driver.set_power("ev-3", 4.0)

    assert (result.outcome, result.reason) == ("rejected", "UnsupportedRateUnit")
    assert driver.last_result("ev-3") == result
    assert station.rejected and not station.book.profiles
    over = PowerSchedule(clock.now() - timedelta(hours=2), timedelta(hours=1), [1.0])
    assert (await driver.set_schedule("ev-3", over)).ok  # over: nothing to send
    bad = await driver.set_schedule("ev-3", PowerSchedule(clock.now(), timedelta(0), [1.0]))
    assert (bad.outcome, bad.reason) == ("rejected", "a schedule's step must be positive")


async def test_configuration_is_checked_at_start(clock):
    async def refused(assets, options=OPTIONS) -> str:
        with pytest.raises(ValueError) as error:
            await started("ocpp", options, clock, assets)
        return str(error.value)

    no_password = AssetSpec("x", "ocpp", "charger", options={"station": "CP9"})
    assert "password (or password_env) is required" in await refused([no_password])
    assert "security profile 2" in await refused([charger("x", "CP9", security_profile=2)])
    assert "profile 3" in await refused([charger("x", "CP9", security_profile=3)])
    assert "is taken" in await refused([charger("x", "CP9"), charger("y", "CP9")])
    assert "numbered from 1" in await refused([charger("x", "CP9", 0)])
    unsized = AssetSpec("y", "ocpp", "charger", options={"station": "CP9", "evse": 2})
    assert "each needs max_kw" in await refused([charger("x", "CP9"), unsized])
    other = charger("y", "CP9", 2, password="another-password-16+")
    assert "disagree on password" in await refused([charger("x", "CP9"), other])
    env = AssetSpec("x", "ocpp", "charger", options={"password_env": "FLEXHUB_NO_SUCH_VAR"})
    assert "FLEXHUB_NO_SUCH_VAR" in await refused([env])
    assert "go together" in await refused([charger("x", "CP9")], {**OPTIONS, "tls_cert": "c"})

    driver = await started(
        "ocpp",
        {**OPTIONS, "stations": {"CP9": {"password": PASSWORD, "rate_unit": "A"}}},
        clock,
        [AssetSpec("x", "ocpp", "charger", options={"station": "CP9"})],
    )
    try:
        assert driver.csms.station("CP9").station_id == "CP9"
        with pytest.raises(DriverError, match="no asset 'nobody'"):
            await driver.set_power("nobody", 1.0)
        with pytest.raises(DriverError):
            await driver.read_meter("nobody")
    finally:
        await driver.close()


# 60x, not the default 900x: at 900x the vehicle had its 15 kWh within about 5 s of real time,
# and a slow TLS start left it full (drawing nothing) before the 4.2 kW setpoint was checked
@pytest.mark.parametrize("clock", [60], indirect=True)
async def test_an_ocpp16_station_over_tls_with_security_profile_2(tmp_path, clock):
    tls = self_signed(tmp_path)
    options = {**OPTIONS, "host": "localhost", "tls_cert": str(tls.cert_file)}
    options["tls_key"] = str(tls.key_file)
    asset = charger("ev-16", "CP16", security_profile=2)
    assert "security profile 1" in str(
        await _refused(options, charger("x", "CP16", security_profile=1), clock)
    )
    driver = await started("ocpp", options, clock, [asset])
    try:
        assert driver.url.startswith("wss://localhost:")
        station = SimStation(
            "CP16", driver.url, PASSWORD, 1, clock=clock, protocol=OCPP16, ssl=tls.client
        )
        async with station:
            station.plug(1, ev(clock))
            await charging(driver, "ev-16")
            evse = station.evses[1]  # 1.6: the station learns its transaction id from the CSMS
            await eventually(lambda: evse.authorized and evse.transaction_id)
            answer = await driver.set_power("ev-16", 4.2)
            # (once seen refused on a slow, busy host: the station's reasons say why)
            assert answer.ok, (answer, evse.transaction_id, station.rejected)
            profile = station.book.taken[-1]
            assert (profile.purpose, profile.limits) == ("TxProfile", [4200.0])
            assert profile.transaction_id == station.evses[1].transaction_id
            await eventually(lambda: station.evses[1].power_kw == pytest.approx(4.2))
            assert driver.csms.station("CP16").protocol == OCPP16
    finally:
        await driver.close()


async def _refused(options, asset, clock) -> ValueError:
    with pytest.raises(ValueError) as error:
        await started("ocpp", options, clock, [asset])
    return error.value
