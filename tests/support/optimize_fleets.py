"""Seeded random fleets for the optimizer's tests: every device type, homes with one to three
devices behind their meter, a base load everywhere and solar on some roofs, a location limit
on about half of the homes (on some steps only; a fifth of them below the base load at times,
so that some cannot be kept), and prices that go negative."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from flexhub.agent.optimize.devices import (
    EV,
    FixedLoad,
    HeatPump,
    HomeBattery,
    Horizon,
    WaterHeater,
)
from flexhub.agent.policy import Resource, ScheduleRequest

OSLO = "Europe/Oslo"


def local_day(day: date, zone: str = OSLO, dt: float = 1.0) -> Horizon:
    z = ZoneInfo(zone)
    start = datetime.combine(day, time(0), z)
    end = datetime.combine(day + timedelta(days=1), time(0), z)
    return Horizon.between(start, end, dt, zone)


def device(rng: np.random.Generator, h: Horizon, kind: int):
    hours = h.steps * h.dt
    if kind == 0 or kind == 4:  # EV (kind 4: with V2G)
        arrive = h.start + timedelta(hours=float(rng.uniform(-3, hours - 2)))
        stay = timedelta(hours=float(rng.uniform(1, 14)))
        return EV(
            capacity_kwh=float(rng.choice([40, 60, 80])),
            max_charge_kw=float(rng.choice([3.7, 7.4, 11])),
            plug_in=arrive,
            departure=arrive + stay,
            energy_needed_kwh=float(rng.uniform(5, 50)),
            soc_kwh=float(rng.uniform(0, 30)),
            efficiency=float(rng.uniform(0.85, 0.95)),
            max_discharge_kw=float(rng.choice([5, 7.4])) if kind == 4 else 0.0,
            penalty=float(rng.uniform(0.1, 1.5)),
        )
    if kind == 1:
        draws = np.zeros(24)
        draws[[6, 7, 8, 19, 20, 21]] = rng.uniform(10, 60, 6)
        return WaterHeater(
            volume_l=float(rng.choice([120, 200, 300])),
            heater_kw=float(rng.choice([1.0, 2.0, 3.0])),
            t_min=float(rng.uniform(45, 55)),
            t_max=float(rng.uniform(70, 85)),
            temperature=float(rng.uniform(40, 70)),
            draw_l=tuple(draws),
            penalty=float(rng.uniform(0.02, 1.0)),
        )
    if kind == 2:
        t_min = float(rng.uniform(19, 21))
        return HeatPump(
            capacity_kwh_per_k=float(rng.uniform(5, 15)),
            ua_kw_per_k=float(rng.uniform(0.1, 0.3)),
            max_kw=float(rng.uniform(1, 4)),
            t_min=t_min,
            t_max=t_min + float(rng.uniform(1, 3)),
            temperature=float(rng.uniform(18, 23)),
            cop=float(rng.uniform(2.5, 4)),
            penalty=float(rng.uniform(0.05, 1.0)),
        )
    capacity = float(rng.choice([5, 10, 13.5]))
    return HomeBattery(
        capacity_kwh=capacity,
        max_charge_kw=float(rng.choice([2.5, 5])),
        max_discharge_kw=float(rng.choice([2.5, 5])),
        soc_kwh=float(rng.uniform(0.1, 0.9)) * capacity,
        round_trip_efficiency=float(rng.uniform(0.8, 0.95)),
    )


def fleet(
    seed: int, homes: int = 30, day: date = date(2026, 6, 10), dt: float = 1.0
) -> ScheduleRequest:
    rng = np.random.default_rng(seed)
    h = local_day(day, dt=dt)
    resources: list[Resource] = []
    limits: dict[str, np.ndarray] = {}
    for i in range(homes):
        loc = f"home-{i}"
        count = int(rng.integers(1, 4))
        for j in range(count):
            kind = int(rng.integers(0, 5))
            resources.append(Resource(f"{loc}/dev-{j}", loc, device(rng, h, kind)))
        base = rng.uniform(0.2, 1.5) + 0.8 * np.exp(-(((np.arange(24) - 19) / 2.5) ** 2))
        resources.append(Resource(f"{loc}/base", loc, FixedLoad(tuple(base))))
        if rng.random() < 0.4:
            sun = np.clip(np.sin((np.arange(24) - 6) / 12 * np.pi), 0, None)
            resources.append(Resource(f"{loc}/solar", loc, FixedLoad(tuple(-5 * sun))))
        if rng.random() < 0.5:
            tight = rng.random() < 0.2  # below the base load at times: cannot all be kept
            limit = np.full(h.steps, float(rng.uniform(0.3, 1.5) if tight else rng.uniform(2, 9)))
            limit[rng.random(h.steps) < 0.3] = np.nan
            limits[loc] = limit
    hours = np.arange(h.steps) * h.dt
    spot = 0.12 + 0.08 * np.sin((hours - 12) / 24 * 2 * np.pi)
    delta = rng.normal(0.0, 0.12, h.steps)
    prices = spot + delta if rng.random() < 0.7 else delta
    outdoor = 4 + 6 * np.sin((hours - 9) / 24 * 2 * np.pi)
    return ScheduleRequest(h, prices, resources, limits, outdoor_temperature=outdoor)
