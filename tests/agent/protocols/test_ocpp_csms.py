"""The CSMS against simulated charging stations, over real WebSockets on loopback: boot and
transactions, schedules as TxProfiles the vehicle follows, caps as station maximum profiles,
reconnects and reboots healed, credentials refused at the handshake, refusals reported, 1.6
stations, release, long schedules window by window, security profile 2 (TLS)."""

from __future__ import annotations

import asyncio
import base64
from datetime import UTC, datetime, timedelta

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from flexhub.agent.optimize.devices import EV, Horizon
from flexhub.agent.protocols.ocpp import (
    OCPP16,
    Csms,
    Outcome,
    ProfileRejected,
    Purpose,
    StationConfig,
)
from flexhub.sim.clock import SimClock
from flexhub.sim.ocpp_station import SimEvse, SimStation
from support.tls import self_signed

PASSWORD = "a-station-password-16+"


def ev(clock: SimClock, hours: float = 8, soc: float = 10.0, capacity: float = 80.0) -> EV:
    now = clock.now()
    return EV(
        capacity_kwh=capacity,
        max_charge_kw=11.0,
        plug_in=now,
        departure=now + timedelta(hours=hours),
        energy_needed_kwh=40,
        soc_kwh=soc,
    )


def next_step(
    clock: SimClock, step: timedelta, lead: timedelta = timedelta(minutes=10)
) -> datetime:
    """The first whole ``step`` at least ``lead`` from now (sim time)."""
    t = clock.now() + lead
    epoch = datetime(2000, 1, 1, tzinfo=UTC)
    return epoch + -(-(t - epoch) // step) * step


@pytest.fixture
def clock(request) -> SimClock:
    return SimClock(speed=getattr(request, "param", 900))


@pytest.fixture
async def csms(clock):
    server = Csms(
        credentials={f"CP{i}": PASSWORD for i in range(1, 4)},
        clock=clock,
        refresh_interval=0.2,
        reconnect_grace=0.05,
    )
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def stations(csms, clock):
    started: list[SimStation] = []

    async def make(station_id: str = "CP1", evses=1, **kwargs) -> SimStation:
        kwargs.setdefault("clock", clock)
        station = SimStation(
            station_id, csms.url, kwargs.pop("password", PASSWORD), evses, **kwargs
        )
        started.append(await station.start())
        return station

    yield make
    for station in started:
        await station.stop()


async def plugged(csms: Csms, station: SimStation, clock: SimClock, evse_id: int = 1, **kw):
    station.plug(evse_id, ev(clock, **kw))
    await csms.wait_for(lambda: csms.evse_state(station.station_id, evse_id).transaction_id)
    await eventually(lambda: station.evses[evse_id].authorized)
    return csms.evse_state(station.station_id, evse_id)


async def eventually(condition, timeout: float = 10.0):
    """Poll ``condition()`` until it is true (for what the station side knows)."""
    async with asyncio.timeout(timeout):
        while not (value := condition()):
            await asyncio.sleep(0.02)
        return value


def assert_follows(evse: SimEvse, horizon: Horizon, power_kw, tolerance: float = 0.02) -> None:
    for k, kw in enumerate(power_kw):
        got = evse.energy_kwh(horizon.time(k), horizon.time(k + 1))
        want = kw * horizon.dt
        assert got == pytest.approx(want, abs=tolerance * max(want, 1.0)), (k, got, want)


async def test_station_boots_and_starts_a_transaction(csms, stations, clock):
    station = await stations("CP1", vendor="Acme", model="AC-22")
    await station.wait_online()
    info = await csms.wait_for(lambda: csms.station("CP1").booted_at and csms.station("CP1"))
    assert (info.connected, info.vendor, info.model, info.protocol) == (
        True,
        "Acme",
        "AC-22",
        "ocpp2.0.1",
    )
    state = await csms.wait_for(
        lambda: csms.evse_state("CP1", 1).status and csms.evse_state("CP1", 1)
    )
    assert (state.status, state.plugged, state.transaction_id) == ("Available", False, None)

    state = await plugged(csms, station, clock)
    assert state.plugged and state.status == "Occupied"
    assert state.transaction_id == station.evses[1].transaction_id
    assert state.available
    charging = await csms.wait_for(
        lambda: (s := csms.evse_state("CP1", 1)).charging_state == "Charging" and s
    )
    assert charging.transaction_id == state.transaction_id


@pytest.mark.parametrize("clock", [3600], indirect=True)
async def test_a_schedule_becomes_the_txprofile_the_vehicle_follows(csms, stations, clock):
    station = await stations("CP1", meter_interval_s=60)
    state = await plugged(csms, station, clock)
    horizon = Horizon(next_step(clock, timedelta(hours=1)), 3, dt=1.0)
    power = [3.0, 7.5, 0.0]

    result = await csms.apply_schedule("CP1", 1, horizon, power)

    assert (result.outcome, result.purpose) == (Outcome.ACCEPTED, Purpose.TX)
    profile = station.book.taken[-1]
    assert (profile.purpose, profile.transaction_id, profile.unit) == (
        "TxProfile",
        state.transaction_id,
        "W",
    )
    assert profile.limits == [3000.0, 7500.0, 0.0]
    assert profile.offsets == [0, 3600, 7200] and profile.duration == 3 * 3600
    assert csms.evse_state("CP1", 1).last_result == result

    await clock.sleep_until(horizon.end + timedelta(minutes=2))
    evse = station.evses[1]
    assert_follows(evse, horizon, power)
    hourly = csms.energy_by_hour("CP1", 1, horizon.start, horizon.end)
    assert list(hourly) == horizon.times()
    for k, (hour, kwh) in enumerate(hourly.items()):
        assert kwh == pytest.approx(evse.energy_kwh(hour, hour + timedelta(hours=1)), abs=1e-3)
        assert kwh == pytest.approx(power[k], abs=0.02 * max(power[k], 1.0))
    assert evse.charging_state == "Charging"  # after the horizon: no limit from flexhub


async def test_a_schedule_before_the_vehicle_comes_is_a_default_then_a_txprofile(
    csms, stations, clock
):
    station = await stations("CP1")
    await station.wait_online()
    horizon = Horizon(next_step(clock, timedelta(minutes=15)), 4, dt=0.25)
    result = await csms.apply_schedule("CP1", 1, horizon, [2.0, 2.0, 4.0, 4.0])
    assert (result.outcome, result.purpose) == (Outcome.ACCEPTED, Purpose.TX_DEFAULT)

    state = await plugged(csms, station, clock)
    tx = await eventually(
        lambda: [
            p
            for p in station.book.taken
            if p.purpose == "TxProfile" and p.transaction_id == state.transaction_id
        ]
    )
    assert tx[-1].limits == [2000.0, 4000.0]
    await clock.sleep_until(horizon.end + timedelta(minutes=1))
    assert_follows(station.evses[1], horizon, [2.0, 2.0, 4.0, 4.0])


async def test_the_next_vehicle_is_held_to_the_schedule_too(csms, stations, clock):
    station = await stations("CP1")
    first_tx = (await plugged(csms, station, clock)).transaction_id
    horizon = Horizon(next_step(clock, timedelta(minutes=15)), 4, dt=0.25)
    first = station.evses[1].vehicle.device
    station.evses[1].vehicle.device = EV(  # leaves during the second step
        first.capacity_kwh,
        first.max_charge_kw,
        first.plug_in,
        horizon.time(1) + timedelta(minutes=5),
        first.energy_needed_kwh,
        first.soc_kwh,
    )
    station.plug(
        1,
        EV(
            60,
            11,
            plug_in=horizon.time(1) + timedelta(minutes=10),  # under the default
            departure=horizon.end + timedelta(hours=2),
            energy_needed_kwh=30,
            soc_kwh=5,
        ),
    )
    power = [3.0, 3.0, 5.0, 5.0]
    assert (await csms.apply_schedule("CP1", 1, horizon, power)).purpose is Purpose.TX

    await clock.sleep_until(horizon.end + timedelta(minutes=1))
    purposes = [(p.purpose, p.transaction_id) for p in station.book.taken]
    assert purposes[-3][0] == "TxProfile" and purposes[-3][1] == first_tx
    assert purposes[-2] == ("TxDefaultProfile", None)  # sent when the first one left
    assert purposes[-1][0] == "TxProfile" and purposes[-1][1] not in (None, first_tx)
    assert_follows(station.evses[1], Horizon(horizon.time(2), 2, 0.25), power[2:])


async def test_a_cap_is_a_station_maximum_the_station_stays_under(csms, stations, clock):
    station = await stations("CP2", evses=2)
    await plugged(csms, station, clock, 1)
    await plugged(csms, station, clock, 2)
    start = next_step(clock, timedelta(minutes=15))
    end = start + timedelta(minutes=30)

    result = await csms.cap("CP2", 8.0, start, end)

    assert (result.outcome, result.purpose, result.evse_id) == (
        Outcome.ACCEPTED,
        Purpose.STATION_MAX,
        0,
    )
    profile = station.book.taken[-1]
    assert (profile.purpose, profile.evse_id, profile.limits) == (
        "ChargingStationMaxProfile",
        0,
        [8000.0],
    )
    assert csms.station("CP2").cap_result == result
    await clock.sleep_until(end + timedelta(minutes=5))
    draw: dict[datetime, float] = {}
    for evse in station.evses.values():
        for t, kw in evse.history:
            draw[t] = draw.get(t, 0.0) + kw
    during = [kw for t, kw in draw.items() if start <= t < end]
    before = [kw for t, kw in draw.items() if start - timedelta(minutes=1) <= t < start]
    after = [kw for t, kw in draw.items() if end <= t < end + timedelta(minutes=5)]
    assert during and max(during) <= 8.0 + 1e-9
    assert min(during) == pytest.approx(8.0)
    assert min(before) == pytest.approx(22.0) and min(after) == pytest.approx(22.0)
    assert sum(csms.energy_by_hour("CP2").values()) == pytest.approx(
        sum(e.register_wh for e in station.evses.values()) / 1000, abs=0.5
    )


async def test_a_schedule_changed_while_the_station_is_offline_reaches_it_on_reconnect(
    csms, stations, clock
):
    station = await stations("CP1")
    await plugged(csms, station, clock)
    horizon = Horizon(next_step(clock, timedelta(minutes=15)), 4, dt=0.25)
    first = [6.0, 6.0, 6.0, 6.0]
    assert (await csms.apply_schedule("CP1", 1, horizon, first)).ok
    await clock.sleep_until(horizon.time(0) + timedelta(minutes=1))

    station.reconnect_delay = 0.4  # wall seconds: 6 sim minutes offline
    station.drop()
    await csms.wait_for(lambda: not csms.station("CP1").connected)
    second = [6.0, 1.0, 9.0, 2.0]
    queued = await csms.apply_schedule("CP1", 1, horizon, second)
    assert queued.outcome is Outcome.QUEUED
    assert csms.evse_state("CP1", 1).available is False

    await csms.wait_for(lambda: csms.station("CP1").connected, timeout=15)
    resent = await csms.wait_for(
        lambda: (r := csms.evse_state("CP1", 1).last_result).outcome is Outcome.ACCEPTED and r
    )
    assert resent.purpose is Purpose.TX
    assert station.book.taken[-1].limits[-3:] == [1000.0, 9000.0, 2000.0]
    await clock.sleep_until(horizon.end + timedelta(minutes=1))
    evse = station.evses[1]
    assert_follows(evse, Horizon(horizon.time(1), 3, 0.25), second[1:])
    assert station.connections == 2 and station.boots == 1  # reconnected, not rebooted


async def test_a_reboot_in_the_middle_of_a_profile_is_healed(csms, stations, clock):
    station = await stations("CP1")
    first_tx = (await plugged(csms, station, clock)).transaction_id
    horizon = Horizon(next_step(clock, timedelta(minutes=15)), 4, dt=0.25)
    power = [4.0, 4.0, 4.0, 4.0]
    assert (await csms.apply_schedule("CP1", 1, horizon, power)).ok
    await clock.sleep_until(horizon.time(1))

    station.reboot()  # profiles gone; the vehicle stays plugged and starts a new transaction

    new = await csms.wait_for(
        lambda: (s := csms.evse_state("CP1", 1)).transaction_id not in (None, first_tx) and s,
        timeout=15,
    )
    await eventually(
        lambda: any(p.transaction_id == new.transaction_id for p in station.book.taken)
    )
    await clock.sleep_until(horizon.end + timedelta(minutes=1))
    assert station.boots == 2
    assert_follows(station.evses[1], Horizon(horizon.time(2), 2, 0.25), power[2:])


async def test_unknown_stations_and_wrong_passwords_are_refused_at_the_handshake(csms, stations):
    def basic(user: str, password: str) -> dict[str, str]:
        return {
            "Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        }

    for path, headers in [
        ("/CP1", basic("CP1", "wrong")),
        ("/CP1", {}),
        ("/CP9", basic("CP9", PASSWORD)),
        ("/CP1", basic("CP2", PASSWORD)),  # another station's id as username
        ("/CP1", {"Authorization": "Basic !!!"}),
    ]:
        with pytest.raises(InvalidStatus) as refused:
            await connect(csms.url + path, subprotocols=["ocpp2.0.1"], additional_headers=headers)
        assert refused.value.response.status_code == 401
        assert "Basic" in refused.value.response.headers["WWW-Authenticate"]

    async with connect(
        csms.url + "/CP1", subprotocols=["ocpp2.0.1"], additional_headers=basic("CP1", PASSWORD)
    ) as ws:
        assert ws.subprotocol == "ocpp2.0.1"
    with pytest.raises(InvalidStatus) as refused:  # no common subprotocol
        await connect(
            csms.url + "/CP1", subprotocols=["ocpp1.5"], additional_headers=basic("CP1", PASSWORD)
        )
    assert refused.value.response.status_code == 400

    station = await stations("CP2", password="not-the-password")
    await eventually(lambda: isinstance(station.last_error, InvalidStatus))
    assert station.last_error.response.status_code == 401
    assert not station.online.is_set() and not csms.station("CP2").connected


async def test_a_refused_profile_is_reported_not_lost(csms, stations, clock):
    station = await stations("CP3", rate_units=("A",))  # takes currents only
    await plugged(csms, station, clock)
    refusals = []
    csms.listeners.add(lambda e: refusals.append(e) if isinstance(e, ProfileRejected) else None)
    horizon = Horizon(next_step(clock, timedelta(minutes=15)), 2, dt=0.25)

    result = await csms.apply_schedule("CP3", 1, horizon, [6.9, 0.0])

    assert (result.outcome, result.purpose) == (Outcome.REJECTED, Purpose.TX)
    assert result.reason == "UnsupportedRateUnit"
    assert [e.result for e in refusals] == [result]
    assert csms.evse_state("CP3", 1).last_result == result
    assert station.rejected and not station.book.profiles

    csms.add_station("CP3", StationConfig(PASSWORD, rate_unit="A", phases=3))
    result = await csms.apply_schedule("CP3", 1, horizon, [6.9, 0.0])
    assert result.ok
    profile = station.book.taken[-1]
    assert profile.unit == "A" and profile.limits == [10.0, 0.0]  # 6.9 kW at 3 x 230 V
    await clock.sleep_until(horizon.end + timedelta(minutes=1))
    assert_follows(station.evses[1], horizon, [6.9, 0.0])


async def test_an_ocpp16_station(csms, stations, clock):
    station = await stations("CP1", evses=2, protocol=OCPP16)
    state = await plugged(csms, station, clock)
    assert csms.station("CP1").protocol == "ocpp1.6"
    assert state.transaction_id == station.evses[1].transaction_id
    horizon = Horizon(next_step(clock, timedelta(minutes=15)), 2, dt=0.25)
    assert (await csms.apply_schedule("CP1", 1, horizon, [5.0, 2.0])).ok
    profile = station.book.taken[-1]
    assert (profile.purpose, profile.transaction_id, profile.limits) == (
        "TxProfile",
        state.transaction_id,
        [5000.0, 2000.0],
    )
    cap = await csms.cap("CP1", 9.0, horizon.start, horizon.end)
    assert cap.ok and station.book.taken[-1].purpose == "ChargingStationMaxProfile"
    await clock.sleep_until(horizon.end + timedelta(minutes=1))
    assert_follows(station.evses[1], horizon, [5.0, 2.0])
    assert csms.evse_state("CP1", 1).imported_kwh > 1.7
    assert csms.evse_state("CP1", 1).soc_percent is not None


async def test_release_takes_flexhubs_limits_off_even_from_an_offline_station(
    csms, stations, clock
):
    station = await stations("CP1")
    await plugged(csms, station, clock)
    assert (await csms.set_power("CP1", 1, 2.0)).ok
    assert (await csms.cap("CP1", 5.0, clock.now(), clock.now() + timedelta(hours=2))).ok
    await eventually(lambda: station.evses[1].power_kw == pytest.approx(2.0))

    released = await csms.release("CP1", 1)
    assert released.ok and released.cleared
    assert [p.purpose for p in station.book.profiles.values()] == ["ChargingStationMaxProfile"]
    await eventually(lambda: station.evses[1].power_kw == pytest.approx(5.0))

    station.reconnect_delay = 0.5
    station.drop()
    await csms.wait_for(lambda: not csms.station("CP1").connected)
    assert (await csms.release_cap("CP1")).outcome is Outcome.QUEUED
    await eventually(lambda: not station.book.profiles, timeout=15)
    await eventually(lambda: station.evses[1].power_kw == pytest.approx(11.0))


async def test_a_long_schedule_goes_window_by_window(csms, stations, clock):
    csms.add_station("CP1", StationConfig(PASSWORD, max_periods=2))
    station = await stations("CP1", max_periods=2)
    await plugged(csms, station, clock)
    horizon = Horizon(next_step(clock, timedelta(minutes=15)), 4, dt=0.25)
    power = [1.0, 3.0, 5.0, 7.0]
    assert (await csms.apply_schedule("CP1", 1, horizon, power)).ok
    assert station.book.taken[-1].limits == [1000.0, 3000.0]
    await clock.sleep_until(horizon.end + timedelta(minutes=1))
    windows = [p.limits for p in station.book.taken if p.purpose == "TxProfile"]
    assert len(windows) >= 2 and windows[-1][-1] == 7000.0
    assert all(len(w) <= 2 for w in windows)
    assert_follows(station.evses[1], horizon, power)


async def test_security_profile_2_basic_auth_over_tls(tmp_path, clock):
    tls = self_signed(tmp_path)
    server_ctx, client_ctx = tls.server, tls.client
    async with Csms("localhost", 0, {"CP1": PASSWORD}, ssl=server_ctx, clock=clock) as csms:
        assert csms.url.startswith("wss://localhost:")
        async with SimStation("CP1", csms.url, PASSWORD, clock=clock, ssl=client_ctx) as station:
            await station.wait_online()
            info = await csms.wait_for(
                lambda: csms.station("CP1").booted_at and csms.station("CP1")
            )
            assert info.connected
        with pytest.raises(InvalidStatus):  # the password still counts over TLS
            await connect(csms.url + "/CP1", subprotocols=["ocpp2.0.1"], ssl=client_ctx)
