"""Targets that cannot be met come back as a schedule plus a named unmet target, its shortfall
(checked against numbers worked out by hand) and the reason."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from flexhub.agent.optimize import Optimizer
from flexhub.agent.optimize.devices import EV, FixedLoad, HeatPump, HomeBattery, WaterHeater
from flexhub.agent.policy import Resource, ScheduleRequest, location_load
from support.optimize_fleets import local_day

H = local_day(date(2026, 6, 10))  # 24 hourly steps from local midnight


def _request(resources, limits=None, prices=0.1, outdoor=None) -> ScheduleRequest:
    return ScheduleRequest(
        H,
        np.full(H.steps, prices, dtype=float),
        resources,
        limits or {},
        outdoor_temperature=outdoor,
    )


def _only(result, rid):
    found = [u for u in result.unmet if u.resource_id == rid]
    assert len(found) == 1, result.unmet
    return found[0]


def test_an_ev_plugged_in_too_late():
    ev = EV(
        capacity_kwh=60,
        max_charge_kw=8,
        plug_in=H.start + timedelta(hours=20),
        departure=H.start + timedelta(hours=22),
        energy_needed_kwh=30,
        soc_kwh=10,
        efficiency=0.9,
    )
    result = Optimizer(workers=1).schedule(_request([Resource("ev", "home", ev)]))
    p = result.power_kw["ev"]
    assert list(p[20:22]) == [8, 8] and p.sum() == 16  # everything it can, nothing else
    unmet = _only(result, "ev")
    assert (unmet.target, unmet.unit) == ("energy by departure", "kWh")
    assert unmet.shortfall == pytest.approx(30 - 2 * 8 * 0.9)  # 15.6 kWh
    assert "plugged in 2 h before departure: at most 14.4 kWh can be added" in unmet.reason


def test_a_location_limit_too_tight_for_an_ev():
    ev = EV(60, 11, H.start + timedelta(hours=18), H.start + timedelta(hours=22), 20, 5, 0.9)
    resources = [Resource("ev", "home", ev), Resource("base", "home", FixedLoad((1.8,) * 24))]
    request = _request(resources, {"home": np.full(H.steps, 3.0)})
    result = Optimizer(workers=1).schedule(request)
    np.testing.assert_allclose(result.power_kw["ev"][18:22], 1.2)  # 3 kW less 1.8 kW
    assert np.all(location_load(request, result.power_kw)["home"] <= 3 + 1e-9)
    unmet = _only(result, "ev")
    assert unmet.shortfall == pytest.approx(20 - 4 * 1.2 * 0.9)  # 15.68 kWh
    assert "the location limit of 3 kW leaves 1.2 kW for charging in its plugged hours" in (
        unmet.reason
    )
    assert "at most 4.3 kWh can be added" in unmet.reason
    assert not [u for u in result.unmet if u.target == "location limit"]


def test_a_heat_pump_too_small_for_the_cold():
    hp = HeatPump(
        capacity_kwh_per_k=10,
        ua_kw_per_k=0.3,
        max_kw=1,
        t_min=20,
        t_max=22,
        temperature=20,
        cop=3,
        penalty=5,
    )
    request = _request([Resource("hp", "home", hp)], outdoor=np.full(H.steps, -10.0))
    result = Optimizer(workers=1).schedule(request)
    np.testing.assert_allclose(result.power_kw["hp"], 1.0)  # flat out all day
    # T[k+1] = 0.97 T[k] + 0.03 * -10 + 3 * 1 / 10: the fixed point is 0 °C, so T[k] = 20 * 0.97^k
    unmet = _only(result, "hp")
    assert (unmet.target, unmet.unit) == ("comfort band", "°C")
    assert unmet.shortfall == pytest.approx(20 - 20 * 0.97**24, abs=1e-6)  # 10.40 °C
    assert "the 1 kW heat pump cannot keep the home at 20 °C" in unmet.reason
    assert f"{20 * 0.97**24:.1f} °C" in unmet.reason


def test_a_water_heater_too_small_for_the_draws():
    draws = np.zeros(24)
    draws[7] = 100  # half the tank at 07:00
    tank = WaterHeater(200, 0.5, 50, 75, 55, draw_l=tuple(draws), loss_w_per_k=0.0, penalty=5)
    result = Optimizer(workers=1).schedule(_request([Resource("tank", "home", tank)]))
    # at full power until 07:00 it reaches min(75, 55 + 7 * 0.5 / c), then mixes half with 10 °C
    c = 200 * 4.186 / 3600
    t7 = min(75.0, 55 + 7 * 0.5 / c)
    after = 0.5 * t7 + 0.5 * 10 + 0.5 / c
    unmet = _only(result, "tank")
    assert unmet.shortfall == pytest.approx(50 - after, abs=1e-6)
    assert "the 0.5 kW heater cannot keep the tank at 50 °C through the draws" in unmet.reason


def test_fixed_load_alone_over_the_limit():
    limit = np.full(H.steps, np.nan)
    limit[18] = 3.0
    tank = WaterHeater(200, 3, 50, 75, 50, penalty=1)
    resources = [Resource("tank", "home", tank), Resource("base", "home", FixedLoad((5.0,) * 24))]
    result = Optimizer(workers=1).schedule(_request(resources, {"home": limit}))
    assert result.power_kw["tank"][18] == 0  # at its minimum there
    unmet = _only(result, "home")
    assert (unmet.target, unmet.shortfall, unmet.unit) == ("location limit", 2.0, "kW")
    assert "the uncontrolled load alone is 5.00 kW at 18:00 against the limit of 3 kW" in (
        unmet.reason
    )


def test_a_battery_discharges_to_keep_the_limit_the_fixed_load_breaks():
    limit = np.full(H.steps, np.nan)
    limit[18] = 3.0
    battery = HomeBattery(10, 5, 5, 5)
    resources = [Resource("bat", "home", battery), Resource("base", "home", FixedLoad((5.0,) * 24))]
    result = Optimizer(workers=1).schedule(_request(resources, {"home": limit}))
    assert result.power_kw["bat"][18] == pytest.approx(-2.0)
    assert not result.unmet


def test_a_target_dearer_than_its_penalty():
    ev = EV(60, 11, H.start, H.start + timedelta(hours=8), 10, 0, 0.9, penalty=0.05)
    result = Optimizer(workers=1).schedule(_request([Resource("ev", "home", ev)], prices=0.2))
    assert not result.power_kw["ev"].any()  # a kWh saves 0.045 in penalty and costs 0.2
    unmet = _only(result, "ev")
    assert unmet.shortfall == pytest.approx(10)
    assert "costs more than its penalty" in unmet.reason
