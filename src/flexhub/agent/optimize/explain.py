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
The tests run for all unmet devices at once; only the wording is per device.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import numpy as np

from flexhub.agent.optimize.chain import allowed_feedback
from flexhub.agent.optimize.devices import EV, HeatPump, Horizon, WaterHeater
from flexhub.agent.optimize.schedule import UnmetTarget
from flexhub.agent.optimize.stack import StoreArrays, by_site

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
    drawn: np.ndarray | None = None,
    locations: bool = True,
) -> list[UnmetTarget]:
    """``targets[i]``: (what the soft limits are, unit) of device ``i``; ``drawn``: what all
    devices of each location draw (L, N; default: the sum of ``power``, when these are all of
    them); ``locations``: report the locations over their limits too (``over_limits``, which
    needs all their devices: a caller that splits the devices calls it on its own)."""
    if drawn is None:
        drawn = by_site(site, power, len(fixed))
    _, out = devices_unmet(
        horizon, prices, ids, devices, targets, a, power, site, fixed, limit, drawn
    )
    if locations:
        out += over_limits(horizon, prices, a, site, site_ids, fixed, limit, drawn)
    return out


def missed(a: StoreArrays, power: np.ndarray, dt: float) -> np.ndarray:
    """The rows that miss a soft limit under ``power`` (what :func:`devices_unmet` reports;
    row by row, so a chunk's answer is the fleet's)."""
    return a.misses(a.trajectory(power, dt)).max(axis=1, initial=0.0) > TOL


def devices_unmet(
    horizon: Horizon,
    prices: np.ndarray,
    ids: list[str],
    devices: list,
    targets: list[tuple[str, str]],
    a: StoreArrays,
    power: np.ndarray,
    site: np.ndarray,
    fixed: np.ndarray,
    limit: np.ndarray,
    drawn: np.ndarray,
) -> tuple[np.ndarray, list[UnmetTarget]]:
    """The devices' unmet targets (as :func:`unmet`, without the locations) and their rows,
    ascending."""
    dt = horizon.dt
    clock = _clock(horizon)
    states = a.trajectory(power, dt)
    miss = a.misses(states)
    out: list[UnmetTarget] = []

    rows = np.nonzero(miss.max(axis=1) > TOL)[0]
    if len(rows):
        one = a.take(rows)
        k = np.argmax(miss[rows], axis=1)
        at = np.arange(len(rows))
        high = states[rows, k] > one.high[at, k]
        room = (limit - fixed - drawn)[site[rows]] + power[rows]  # what the limit leaves it
        alone = _full(one, dt)[at, k]
        capped = _full(one, dt, room)[at, k]
        off = one.trajectory(np.zeros((len(rows), one.steps)), dt)[at, k]
        before = np.arange(one.steps)[None, :] < k[:, None]
        usable = before & (one.p_max > 0)
        hours = usable.sum(axis=1) * dt
        cheapest = np.where(usable, prices[None, :], np.inf).min(axis=1)
        left = np.clip(np.minimum(room, one.p_max), 0.0, None)
        avg_left = np.where(usable, left, 0.0).sum(axis=1) / np.maximum(usable.sum(axis=1), 1)
        lim = np.where(usable, limit[site[rows]], np.inf).min(axis=1)
        end = horizon.end
        shortfall = miss[rows, k].round(6).tolist()
        columns = zip(
            rows.tolist(),
            k.tolist(),
            high.tolist(),
            one.x0.tolist(),
            one.low[at, k].tolist(),
            one.high[at, k].tolist(),
            alone.tolist(),
            capped.tolist(),
            off.tolist(),
            hours.tolist(),
            cheapest.tolist(),
            (one.penalty * one.gain_in).tolist(),
            avg_left.tolist(),
            lim.tolist(),
            shortfall,
            strict=True,
        )
        for i, kk, is_high, x0, lo, hi, al, ca, of, hr, ch, wo, av, li, short in columns:
            d = devices[i]
            if is_high:
                reason = _high_reason(d, clock[kk], hi, of)
            else:
                beyond = isinstance(d, EV) and d.departure > end
                reason = _low_reason(d, clock[kk], x0, lo, al, ca, hr, ch, wo, av, li, beyond)
            target, unit = targets[i]
            out.append(UnmetTarget(ids[i], target, short, unit, reason))
    return rows, out


def over_limits(
    horizon: Horizon,
    prices: np.ndarray,
    a: StoreArrays,
    site: np.ndarray,
    site_ids: list[str],
    fixed: np.ndarray,
    limit: np.ndarray,
    drawn: np.ndarray,
) -> list[UnmetTarget]:
    """The locations over their limits (``a``, ``site``: all their devices; ``drawn``: what
    those devices draw per location), each at its worst step."""
    clock = _clock(horizon)
    load = fixed + drawn
    sites = np.nonzero((load - limit).max(axis=1, initial=0.0) > TOL)[0]
    rows = np.nonzero(np.isin(site, sites))[0]
    feed = allowed_feedback(prices)
    out = []
    for s in sites.tolist():
        k = int(np.argmax(load[s] - limit[s]))
        members = rows[site[rows] == s]
        least = float(np.where(feed[k], a.p_min[members, k], 0.0).sum())
        if fixed[s, k] > limit[s, k] + TOL:
            why = (
                f"the uncontrolled load alone is {fixed[s, k]:.2f} kW at {clock[k]} against the "
                f"limit of {limit[s, k]:g} kW; the controllable devices draw their least there"
            )
        else:
            why = (
                f"at {clock[k]} the uncontrolled load of {fixed[s, k]:.2f} kW and the least the "
                f"devices can draw ({least:.2f} kW within their hard limits) exceed the limit "
                f"of {limit[s, k]:g} kW"
            )
        over = float(load[s, k] - limit[s, k])
        out.append(UnmetTarget(site_ids[s], "location limit", round(over, 6), "kW", why))
    return out


def _clock(horizon: Horizon) -> list[str]:
    """The local clock time of each step's start, and of the end."""
    zone = ZoneInfo(horizon.zone)
    return [t.astimezone(zone).strftime("%H:%M") for t in [*horizon.times(), horizon.end]]


def _full(a: StoreArrays, dt: float, cap: np.ndarray | None = None) -> np.ndarray:
    """States (B, N+1) at the most power the hard limits (and ``cap``) allow, from now on."""
    x = np.empty((a.steps + 1, a.size))
    x[0] = a.x0
    gi = a.gain_in * dt
    gi_safe = np.where(gi > 0, gi, 1.0)
    p_max = a.p_max if cap is None else np.minimum(a.p_max, np.clip(cap, 0.0, None))
    p_max, x_max = np.ascontiguousarray(p_max.T), np.ascontiguousarray(a.x_max.T)
    decay, drift = np.ascontiguousarray(a.decay.T), np.ascontiguousarray(a.drift.T)
    for k in range(a.steps):
        free = decay[k] * x[k] + drift[k]
        p = np.minimum(p_max[k], np.clip((x_max[k + 1] - free) / gi_safe, 0.0, None))
        x[k + 1] = free + gi * np.maximum(p, 0.0)
    return np.ascontiguousarray(x.T)


def _high_reason(device, when, high, off) -> str:
    if off > high + TOL:
        return (
            f"even with no power the {_name(device)} is at {off:.1f} "
            f"{_unit(device)} at {when}, above {high:g}"
        )
    return "keeping inside the band costs more than its penalty at these prices"


def _low_reason(d, when, x0, low, alone, capped, hours, cheapest, worth, avg_left, limit, beyond):
    """The first cause that explains a missed soft lower limit (see the module docstring)."""
    if alone < low - TOL:
        if isinstance(d, EV):
            until = "the end of the horizon" if beyond else "departure"
            return (
                f"plugged in {hours:g} h before {until}: at most "
                f"{alone - x0:.1f} kWh can be added ({d.max_charge_kw:g} kW at "
                f"{d.efficiency:.0%}), {low - x0:.1f} kWh asked"
            )
        if isinstance(d, WaterHeater):
            return (
                f"the {d.heater_kw:g} kW heater cannot keep the tank at {d.t_min:g} °C "
                f"through the draws: at full power it is at {alone:.1f} °C at "
                f"{when}"
            )
        if isinstance(d, HeatPump):
            return (
                f"the {d.max_kw:g} kW heat pump cannot keep the home at {d.t_min:g} °C: at "
                f"full power it is at {alone:.1f} °C at {when}"
            )
        return f"at full power it reaches only {alone:.4g} at {when}"
    if capped < low - TOL:
        if isinstance(d, EV):
            return (
                f"the location limit of {limit:g} kW leaves {avg_left:.1f} kW for "
                f"charging in its plugged hours: at most {capped - x0:.1f} kWh "
                f"can be added"
            )
        return (
            f"the location limit of {limit:g} kW leaves {avg_left:.1f} kW on "
            f"average for the {_name(d)}: at most it reaches {capped:.1f} "
            f"{_unit(d)} at {when}"
        )
    return (
        f"meeting it costs more than its penalty: the cheapest usable step costs "
        f"{cheapest:.4g} per kWh, and a kWh is worth {worth:.4g} in penalty avoided"
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
