"""Why a target is unmet: the shortfall of each resource's worst missed soft limit and of each
location's limit, with a reason found by testing the causes in turn:

1. the device itself: even at full power from now (within its hard limits) it misses the
   target ("plugged in 2 h before departure: at most 14.4 kWh can be added");
2. the location's limit: at full power within what the limit leaves it (the limit, less the
   fixed load and the other devices' schedules) it misses ("the location limit of 3 kW leaves
   1.2 kW for charging in its plugged hours");
3. otherwise the price: meeting the target would cost more than its penalty.

For a soft upper limit (a home too warm) the device test is the schedule with no power at all.
A location over its limit is reported with its fixed load and the least its devices can draw.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np

from flexhub.agent.optimize.chain import allowed_feedback
from flexhub.agent.optimize.devices import EV, HeatPump, Horizon, WaterHeater
from flexhub.agent.optimize.schedule import UnmetTarget
from flexhub.agent.optimize.stack import StoreArrays

TOL = 1e-6


def unmet(
    horizon: Horizon,
    prices: np.ndarray,
    ids: list[str],
    devices: list,
    targets: list[tuple[str, str]],
    a: StoreArrays,
    power: np.ndarray,
    site: np.ndarray,
    site_ids: list[str],
    fixed: np.ndarray,
    limit: np.ndarray,
) -> list[UnmetTarget]:
    """``targets[i]``: (what the soft limits are, unit) of device ``i``."""
    dt = horizon.dt
    states = a.trajectory(power, dt)
    miss = a.misses(states)
    out: list[UnmetTarget] = []
    drawn = np.zeros_like(fixed)
    np.add.at(drawn, site, power)
    room = limit - fixed - drawn  # kW a location's limit leaves beyond today's schedule
    for i in np.nonzero(miss.max(axis=1) > TOL)[0]:
        k = int(np.argmax(miss[i]))
        target, unit = targets[i]
        high = states[i, k] > a.high[i, k]
        reason = _reason(
            horizon,
            prices,
            devices[i],
            a.take(np.array([i])),
            power[i],
            k,
            high,
            room[site[i]] + power[i],
            limit[site[i]],
        )
        out.append(UnmetTarget(ids[i], target, round(float(miss[i, k]), 6), unit, reason))
    load = fixed + drawn
    for s in np.nonzero((load - limit).max(axis=1, initial=0.0) > TOL)[0]:
        k = int(np.argmax(load[s] - limit[s]))
        lowest = _lowest_draw(a, site == s, k, prices)
        when = _clock(horizon, k)
        if fixed[s, k] > limit[s, k] + TOL:
            why = (
                f"the uncontrolled load alone is {fixed[s, k]:.2f} kW at {when} against the "
                f"limit of {limit[s, k]:g} kW; the controllable devices draw their least there"
            )
        else:
            why = (
                f"at {when} the uncontrolled load of {fixed[s, k]:.2f} kW and the least the "
                f"devices can draw ({lowest:.2f} kW within their hard limits) exceed the limit "
                f"of {limit[s, k]:g} kW"
            )
        over = float(load[s, k] - limit[s, k])
        out.append(UnmetTarget(site_ids[s], "location limit", round(over, 6), "kW", why))
    return out


def _lowest_draw(a: StoreArrays, rows: np.ndarray, k: int, prices: np.ndarray) -> float:
    feed = allowed_feedback(prices)[k]
    return float(np.where(feed, a.p_min[rows, k], np.maximum(a.p_min[rows, k], 0.0)).sum())


def _clock(h: Horizon, k: int) -> str:
    return _local(h, h.time(k)).strftime("%H:%M")


def _local(h: Horizon, t: datetime) -> datetime:
    return t.astimezone(ZoneInfo(h.zone))


def _full(one: StoreArrays, dt: float, cap: np.ndarray | None = None) -> np.ndarray:
    """States at the most power the hard limits (and ``cap``) allow, from now on."""
    n = one.steps
    x = np.empty(n + 1)
    x[0] = one.x0[0]
    gi = one.gain_in[0] * dt
    for k in range(n):
        free = one.decay[0, k] * x[k] + one.drift[0, k]
        p = one.p_max[0, k] if cap is None else min(one.p_max[0, k], max(cap[k], 0.0))
        if gi > 0:
            p = min(p, max((one.x_max[0, k + 1] - free) / gi, 0.0))
        x[k + 1] = free + gi * max(p, 0.0)
    return x


def _reason(h, prices, device, one, power, k, high, room, limit) -> str:
    dt = h.dt
    when = _clock(h, k - 1 if k > 0 else 0)
    if high:
        off = one.trajectory(np.zeros((1, one.steps)), dt)[0]
        if off[k] > one.high[0, k] + TOL:
            return (
                f"even with no power the {_name(device)} is at {off[k]:.1f} {_unit(device)} "
                f"after {when}, above {one.high[0, k]:g}"
            )
        return "keeping inside the band costs more than its penalty at these prices"
    alone = _full(one, dt)
    if alone[k] < one.low[0, k] - TOL:
        return _too_small(h, device, one, k, alone)
    capped = _full(one, dt, np.where(np.isfinite(room), room, np.inf))
    if capped[k] < one.low[0, k] - TOL:
        return _too_tight(h, device, one, k, room, limit, capped)
    steps = np.arange(k)
    usable = steps[one.p_max[0, :k] > 0]
    cheapest = float(prices[usable].min()) if len(usable) else float("nan")
    worth = float(one.penalty[0] * one.gain_in[0])
    return (
        f"meeting it costs more than its penalty: the cheapest usable step costs "
        f"{cheapest:.4g} per kWh, and a kWh is worth {worth:.4g} in penalty avoided"
    )


def _too_small(h, device, one, k, alone) -> str:
    dt = h.dt
    if isinstance(device, EV):
        hours = float((one.p_max[0, :k] > 0).sum() * dt)
        added = alone[k] - one.x0[0]
        asked = one.low[0, k] - one.x0[0]
        until = "departure" if device.departure <= h.end else "the end of the horizon"
        return (
            f"plugged in {hours:g} h before {until}: at most {added:.1f} kWh can be added "
            f"({device.max_charge_kw:g} kW at {device.efficiency:.0%}), {asked:.1f} kWh asked"
        )
    if isinstance(device, WaterHeater):
        return (
            f"the {device.heater_kw:g} kW heater cannot keep the tank at {device.t_min:g} °C "
            f"through the draws: at full power it is at {alone[k]:.1f} °C after {_clock(h, k - 1)}"
        )
    if isinstance(device, HeatPump):
        return (
            f"the {device.max_kw:g} kW heat pump cannot keep the home at {device.t_min:g} °C: "
            f"at full power it is at {alone[k]:.1f} °C after {_clock(h, k - 1)}"
        )
    return f"at full power it reaches only {alone[k]:.4g} after {_clock(h, k - 1)}"


def _too_tight(h, device, one, k, room, limit, capped) -> str:
    usable = one.p_max[0, :k] > 0
    steps = np.nonzero(usable)[0]
    lim = limit[:k][usable]
    shown = float(np.min(lim[np.isfinite(lim)])) if np.isfinite(lim).any() else float("nan")
    left = np.clip(np.minimum(room[:k][usable], one.p_max[0, :k][usable]), 0.0, None)
    avg = float(left.mean()) if len(steps) else 0.0
    if isinstance(device, EV):
        added = capped[k] - one.x0[0]
        return (
            f"the location limit of {shown:g} kW leaves {avg:.1f} kW for charging in its plugged "
            f"hours: at most {added:.1f} kWh can be added"
        )
    return (
        f"the location limit of {shown:g} kW leaves {avg:.1f} kW on average for the "
        f"{_name(device)}: at most it reaches {capped[k]:.1f} {_unit(device)} after "
        f"{_clock(h, k - 1)}"
    )


def _name(device) -> str:
    if isinstance(device, WaterHeater):
        return "tank"
    if isinstance(device, HeatPump):
        return "home"
    if isinstance(device, EV):
        return "EV"
    return "device"


def _unit(device) -> str:
    return "°C" if isinstance(device, WaterHeater | HeatPump) else "kWh"
