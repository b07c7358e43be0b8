"""An independent formulation of the optimizer's problem, for the tests: one LP for the whole
request with ``scipy.optimize.linprog``, built from the devices' parameters (the physics written
out again from ``devices.py``'s docstring, not taken from ``LinearStore`` or the optimizer).

The problem: minimise the energy cost at the request's prices plus the penalties of missed soft
limits, subject to every hard limit and to every location's limit, which may only be broken
where nothing else is possible (overload at ``BIG`` per kWh). A two-way device (battery, V2G)
may feed back only at a price >= 0 (at a negative price, charging and discharging at once would
burn energy for money, which no device can do; with this rule the LP is exact).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import coo_matrix, vstack

from flexhub.agent.optimize.devices import EV, FixedLoad, HeatPump, HomeBattery, WaterHeater
from flexhub.agent.policy import ScheduleRequest

BIG = 1e4


@dataclass
class Model:
    """One device: x[k+1] = a[k] x[k] + gi dt pin[k] - go dt pout[k] + d[k]."""

    x0: float
    a: np.ndarray
    d: np.ndarray
    gi: float
    go: float
    pin_max: np.ndarray
    pout_max: np.ndarray
    x_lo: np.ndarray  # per state after step k (k = 1..N)
    x_hi: np.ndarray
    low: np.ndarray  # soft, -inf = none
    high: np.ndarray
    penalty: float


def model(device, request: ScheduleRequest) -> Model:
    h = request.horizon
    n, dt = h.steps, h.dt
    inf = np.full(n, np.inf)
    if isinstance(device, EV):
        starts = [h.start.timestamp() + k * dt * 3600 for k in range(n)]
        plugged = np.array(
            [
                device.plug_in.timestamp() <= t + 1e-6
                and t + dt * 3600 <= device.departure.timestamp() + 1e-6
                for t in starts
            ]
        )
        low = np.full(n, -np.inf)
        if plugged.any():
            last = min(math.floor((device.departure.timestamp() - starts[0]) / 3600 / dt + 1e-9), n)
            low[last - 1] = min(device.capacity_kwh, device.soc_kwh + device.energy_needed_kwh)
        return Model(
            x0=device.soc_kwh,
            a=np.ones(n),
            d=np.zeros(n),
            gi=device.efficiency,
            go=1 / device.efficiency,
            pin_max=np.where(plugged, device.max_charge_kw, 0.0),
            pout_max=np.where(plugged, device.max_discharge_kw, 0.0),
            x_lo=np.zeros(n),
            x_hi=np.full(n, device.capacity_kwh),
            low=low,
            high=inf,
            penalty=device.penalty,
        )
    if isinstance(device, WaterHeater):
        c = device.volume_l * 4.186 / 3600
        hours = [h.time(k).astimezone(_zone(h)).hour for k in range(n)]
        drawn = np.array([device.draw_l[hr % len(device.draw_l)] * dt for hr in hours])
        keep = 1 - np.minimum(drawn / device.volume_l, 1)
        lam = device.loss_w_per_k / 1000 * dt / c
        return Model(
            x0=device.temperature,
            a=keep * (1 - lam),
            d=keep * lam * device.t_room + (1 - keep) * device.t_cold,
            gi=device.efficiency / c,
            go=0.0,
            pin_max=np.full(n, device.heater_kw),
            pout_max=np.zeros(n),
            x_lo=np.full(n, -np.inf),
            x_hi=np.full(n, max(device.t_max, device.temperature)),
            low=np.full(n, device.t_min),
            high=inf,
            penalty=device.penalty,
        )
    if isinstance(device, HeatPump):
        out = (
            np.full(n, 5.0)
            if request.outdoor_temperature is None
            else np.asarray(request.outdoor_temperature, dtype=float)
        )
        lam = device.ua_kw_per_k * dt / device.capacity_kwh_per_k
        return Model(
            x0=device.temperature,
            a=np.full(n, 1 - lam),
            d=lam * out,
            gi=device.cop / device.capacity_kwh_per_k,
            go=0.0,
            pin_max=np.full(n, device.max_kw),
            pout_max=np.zeros(n),
            x_lo=np.full(n, -np.inf),
            x_hi=inf,
            low=np.full(n, device.t_min),
            high=np.full(n, device.t_max),
            penalty=device.penalty,
        )
    if isinstance(device, HomeBattery):
        eta = math.sqrt(device.round_trip_efficiency)
        lo = min(device.capacity_kwh * device.soc_min, device.soc_kwh)
        x_lo = np.full(n, lo)
        x_lo[-1] = device.soc_kwh
        return Model(
            x0=device.soc_kwh,
            a=np.ones(n),
            d=np.zeros(n),
            gi=eta,
            go=1 / eta,
            pin_max=np.full(n, device.max_charge_kw),
            pout_max=np.full(n, device.max_discharge_kw),
            x_lo=x_lo,
            x_hi=np.full(n, max(device.capacity_kwh * device.soc_max, device.soc_kwh)),
            low=np.full(n, -np.inf),
            high=inf,
            penalty=0.0,
        )
    raise TypeError(device)


def _zone(h):
    from zoneinfo import ZoneInfo

    return ZoneInfo(h.zone)


@dataclass
class Answer:
    objective: float  # energy cost + soft penalties
    overload_kwh: float  # sum over locations and steps of kW over the limit times dt
    power: dict[str, np.ndarray]


def solve(request: ScheduleRequest) -> Answer:
    h = request.horizon
    n, dt = h.steps, h.dt
    prices = np.asarray(request.prices, dtype=float)
    fixed: dict[str, np.ndarray] = {}
    devices = []
    for r in request.resources:
        if isinstance(r.device, FixedLoad):
            fixed[r.location_id] = fixed.get(r.location_id, 0) + r.device.profile(h)
        else:
            devices.append(r)
    cost, lower, upper, rows, cols, vals, r_lo, r_hi = [], [], [], [], [], [], [], []
    offsets = {}

    def var(c, lo, hi):
        cost.extend(c)
        lower.extend(lo)
        upper.extend(hi)
        return len(cost) - len(c)

    def row(entries, lo, hi):
        i = len(r_lo)
        for col, val in entries:
            rows.append(i)
            cols.append(col)
            vals.append(val)
        r_lo.append(lo)
        r_hi.append(hi)

    models = {}
    for r in devices:
        m = models[r.resource_id] = model(r.device, request)
        feed = np.where(prices >= 0, m.pout_max, 0.0)
        pin = var(prices * dt, np.zeros(n), m.pin_max)
        pout = var(-prices * dt, np.zeros(n), feed)
        x = var(np.zeros(n), m.x_lo, m.x_hi)
        s = var(np.full(n, m.penalty), np.zeros(n), np.where(np.isfinite(m.low), np.inf, 0))
        e = var(np.full(n, m.penalty), np.zeros(n), np.where(np.isfinite(m.high), np.inf, 0))
        offsets[r.resource_id] = pin, pout
        for k in range(n):
            entries = [(x + k, 1.0), (pin + k, -m.gi * dt), (pout + k, m.go * dt)]
            rhs = m.d[k]
            if k == 0:
                rhs += m.a[0] * m.x0
            else:
                entries.append((x + k - 1, -m.a[k]))
            row(entries, rhs, rhs)
            if np.isfinite(m.low[k]):
                row([(x + k, 1.0), (s + k, 1.0)], m.low[k], np.inf)
            if np.isfinite(m.high[k]):
                row([(x + k, 1.0), (e + k, -1.0)], -np.inf, m.high[k])
    overload = []
    for loc in {r.location_id for r in request.resources}:
        limit = request.limit(loc)
        if not np.isfinite(limit).any():
            continue
        o = var(np.full(n, BIG * dt), np.zeros(n), np.full(n, np.inf))
        overload.append(o)
        base = fixed.get(loc, np.zeros(n))
        for k in range(n):
            if not np.isfinite(limit[k]):
                continue
            entries = [(o + k, -1.0)]
            for r in devices:
                if r.location_id == loc:
                    pin, pout = offsets[r.resource_id]
                    entries += [(pin + k, 1.0), (pout + k, -1.0)]
            row(entries, -np.inf, limit[k] - base[k])
    a = coo_matrix((vals, (rows, cols)), shape=(len(r_lo), len(cost))).tocsr()
    r_lo, r_hi = np.array(r_lo), np.array(r_hi)
    eq = r_lo == r_hi
    ub_rows = ~eq
    lo_part = ub_rows & np.isfinite(r_lo)
    hi_part = ub_rows & np.isfinite(r_hi)
    res = linprog(
        np.array(cost),
        A_ub=vstack([a[hi_part], -a[lo_part]]),
        b_ub=np.concatenate([r_hi[hi_part], -r_lo[lo_part]]),
        A_eq=a[eq],
        b_eq=r_lo[eq],
        bounds=list(zip(lower, upper, strict=True)),
        method="highs",
    )
    assert res.status == 0, res.message
    z = res.x
    over_total = sum(float(z[o : o + n].sum()) * dt for o in overload)
    objective = float(res.fun) - BIG * over_total
    power = {rid: z[pin : pin + n] - z[pout : pout + n] for rid, (pin, pout) in offsets.items()}
    return Answer(objective, over_total, power)


def evaluate(request: ScheduleRequest, power: dict[str, np.ndarray]) -> tuple[float, float]:
    """The objective (energy cost + soft penalties) and the overload (kWh) of a schedule,
    with the physics of this module; also checks every hard limit."""
    h = request.horizon
    n, dt = h.steps, h.dt
    prices = np.asarray(request.prices, dtype=float)
    total = 0.0
    load: dict[str, np.ndarray] = {}
    for r in request.resources:
        if isinstance(r.device, FixedLoad):
            p = r.device.profile(h)
        else:
            p = np.asarray(power[r.resource_id], dtype=float)
            m = model(r.device, request)
            assert len(p) == n
            assert np.all(p <= m.pin_max + 1e-6) and np.all(-p <= m.pout_max + 1e-6), r
            x, xs = m.x0, []
            for k in range(n):
                pin, pout = max(p[k], 0.0), max(-p[k], 0.0)
                x = m.a[k] * x + m.gi * dt * pin - m.go * dt * pout + m.d[k]
                xs.append(x)
            xs = np.array(xs)
            tol = 1e-5 * (1 + np.abs(xs))
            assert np.all(xs >= m.x_lo - tol) and np.all(xs <= m.x_hi + tol), r.resource_id
            with np.errstate(invalid="ignore"):
                miss = np.nan_to_num(np.maximum(m.low - xs, 0), nan=0.0) + np.nan_to_num(
                    np.maximum(xs - m.high, 0), nan=0.0
                )
            total += float(np.dot(prices, p)) * dt + m.penalty * float(miss.sum())
        load[r.location_id] = load.get(r.location_id, 0) + p
    over = sum(float(np.maximum(v - request.limit(loc), 0).sum()) * dt for loc, v in load.items())
    return total, over
