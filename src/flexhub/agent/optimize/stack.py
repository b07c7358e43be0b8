"""A fleet's linear stores as arrays: one row per controllable device, one column per step
(or per state), so that the solvers work on the whole fleet at once.

:func:`stack` builds the same numbers as :meth:`Device.store` (``devices.py`` is the one
definition of the physics; ``tests/agent/optimize/test_stack.py`` checks that both agree for
every device type), but vectorised per device type: building ``LinearStore`` objects one by
one costs 24-210 µs a device here (a water heater's 24 :class:`SoftLimit` objects and its local
hours dominate), i.e. seconds for 100,000 devices, where the arrays take a few milliseconds.

Soft limits become two arrays per state: ``low`` (``-inf`` where there is none) and ``high``
(``+inf``), missed at ``penalty`` per unit; every device type of ``devices.py`` has at most one
soft limit per state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np

from flexhub.agent.optimize.devices import (
    EV,
    INF,
    WATER_KWH_PER_L_K,
    Controllable,
    FixedLoad,
    HeatPump,
    HomeBattery,
    Horizon,
    LinearStore,
    WaterHeater,
    store_of,
)

KINDS = (EV, WaterHeater, HeatPump, HomeBattery)


@dataclass
class StoreArrays:
    """``B`` linear stores over ``N`` steps (see ``devices.py`` for the form). Per device:
    ``x0``, ``gain_in``, ``gain_out``, ``penalty`` (B,); per step: ``decay``, ``drift``,
    ``p_min``, ``p_max`` (B, N); per state (index 0 = initial): ``x_min``, ``x_max``, ``low``,
    ``high`` (B, N+1)."""

    x0: np.ndarray
    gain_in: np.ndarray
    gain_out: np.ndarray
    penalty: np.ndarray
    decay: np.ndarray
    drift: np.ndarray
    p_min: np.ndarray
    p_max: np.ndarray
    x_min: np.ndarray
    x_max: np.ndarray
    low: np.ndarray
    high: np.ndarray

    @property
    def size(self) -> int:
        return len(self.x0)

    @property
    def steps(self) -> int:
        return self.decay.shape[1]

    def take(self, rows: np.ndarray) -> StoreArrays:
        return StoreArrays(**{f.name: getattr(self, f.name)[rows] for f in fields(self)})

    @classmethod
    def concat(cls, parts: Sequence[StoreArrays]) -> StoreArrays:
        return cls(
            **{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)}
        )

    def two_way(self) -> np.ndarray:
        """Devices that may feed back (a battery, an EV with V2G)."""
        return (self.p_min < 0).any(axis=1) & (self.gain_out > 0)

    def trajectory(self, power: np.ndarray, dt: float) -> np.ndarray:
        """States (B, N+1) under ``power`` (B, N): ``LinearStore.next_state`` for every row."""
        x = np.empty((self.size, self.steps + 1))
        x[:, 0] = self.x0
        p_in, p_out = np.maximum(power, 0.0), np.maximum(-power, 0.0)
        gi, go = self.gain_in * dt, self.gain_out * dt
        for k in range(self.steps):
            x[:, k + 1] = (
                self.decay[:, k] * x[:, k] + gi * p_in[:, k] - go * p_out[:, k] + self.drift[:, k]
            )
        return x

    def misses(self, states: np.ndarray) -> np.ndarray:
        """Per state, by how much the soft limits are missed (B, N+1), in each device's unit."""
        with np.errstate(invalid="ignore"):
            miss = np.maximum(self.low - states, states - self.high)
        return np.maximum(np.nan_to_num(miss, nan=0.0, neginf=0.0), 0.0)


def stack(devices: Sequence[Controllable], horizon: Horizon, outdoor=None) -> StoreArrays:
    """The stores of ``devices`` (in that order) over ``horizon``."""
    n = horizon.steps
    if not devices:
        return _empty(0, n)
    groups: dict[type, list[int]] = {}
    for i, d in enumerate(devices):
        groups.setdefault(type(d) if isinstance(d, KINDS) else LinearStore, []).append(i)
    hours = horizon.local_hours()
    out = _empty(len(devices), n)
    for kind, idx in groups.items():
        group = [devices[i] for i in idx]
        if kind is EV:
            part = _evs(group, horizon)
        elif kind is WaterHeater:
            part = _water_heaters(group, horizon, hours)
        elif kind is HeatPump:
            part = _heat_pumps(group, horizon, outdoor)
        elif kind is HomeBattery:
            part = _batteries(group, horizon)
        else:
            part = from_stores([store_of(d, horizon, outdoor) for d in group], n)
        if len(groups) == 1:
            return part
        rows = np.asarray(idx)
        for f in fields(StoreArrays):
            getattr(out, f.name)[rows] = getattr(part, f.name)
    return out


def fixed_profiles(loads: Sequence[FixedLoad], horizon: Horizon) -> np.ndarray:
    """``FixedLoad.profile`` of many loads (L, N), the local hours computed once."""
    hours = horizon.local_hours()
    out = np.zeros((len(loads), horizon.steps))
    by_length: dict[int, list[int]] = {}
    for i, load in enumerate(loads):
        by_length.setdefault(len(load.power_kw), []).append(i)
    for length, rows in by_length.items():
        table = np.array([loads[i].power_kw for i in rows], dtype=float).reshape(len(rows), length)
        out[rows] = table[:, hours % length]
    return out


def from_stores(stores: Sequence[LinearStore], steps: int) -> StoreArrays:
    """Arrays of ready-made ``LinearStore`` objects (any store of the module's form)."""
    a = _empty(len(stores), steps)
    for i, s in enumerate(stores):
        a.x0[i], a.gain_in[i], a.gain_out[i], a.penalty[i] = s.x0, s.gain_in, s.gain_out, s.penalty
        a.decay[i], a.drift[i], a.p_min[i], a.p_max[i] = s.decay, s.drift, s.p_min, s.p_max
        a.x_min[i], a.x_max[i] = s.x_min, s.x_max
        for limit in s.soft:
            a.low[i, limit.step] = max(a.low[i, limit.step], limit.low)
            a.high[i, limit.step] = min(a.high[i, limit.step], limit.high)
    return a


def _empty(b: int, n: int) -> StoreArrays:
    return StoreArrays(
        x0=np.zeros(b),
        gain_in=np.zeros(b),
        gain_out=np.zeros(b),
        penalty=np.ones(b),
        decay=np.ones((b, n)),
        drift=np.zeros((b, n)),
        p_min=np.zeros((b, n)),
        p_max=np.zeros((b, n)),
        x_min=np.full((b, n + 1), -INF),
        x_max=np.full((b, n + 1), INF),
        low=np.full((b, n + 1), -INF),
        high=np.full((b, n + 1), INF),
    )


def _attr(group: Sequence, name: str) -> np.ndarray:
    return np.array([getattr(d, name) for d in group], dtype=float)


def _step_index(horizon: Horizon, when: Sequence, up: bool) -> np.ndarray:
    """``Horizon.index`` for many datetimes (``up``: the first step starting at or after)."""
    start = horizon.start.timestamp()
    t = (np.array([w.timestamp() for w in when]) - start) / 3600 / horizon.dt
    k = np.ceil(t - 1e-9) if up else np.floor(t + 1e-9)
    return np.clip(k, 0, horizon.steps).astype(int)


def _evs(group: Sequence[EV], h: Horizon) -> StoreArrays:
    a = _empty(len(group), h.steps)
    first = _step_index(h, [d.plug_in for d in group], up=True)
    last = _step_index(h, [d.departure for d in group], up=False)
    ks = np.arange(h.steps)
    plugged = (ks >= first[:, None]) & (ks < last[:, None])
    cap, soc = _attr(group, "capacity_kwh"), _attr(group, "soc_kwh")
    eff = _attr(group, "efficiency")
    a.x0[:] = soc
    a.gain_in[:], a.gain_out[:] = eff, 1 / eff
    a.penalty[:] = _attr(group, "penalty")
    a.p_min[:] = np.where(plugged, -_attr(group, "max_discharge_kw")[:, None], 0.0)
    a.p_max[:] = np.where(plugged, _attr(group, "max_charge_kw")[:, None], 0.0)
    a.x_min[:] = 0.0
    a.x_max[:] = cap[:, None]
    target = np.minimum(cap, soc + _attr(group, "energy_needed_kwh"))
    has = np.nonzero(first < last)[0]
    a.low[has, last[has]] = target[has]
    return a


def _water_heaters(group: Sequence[WaterHeater], h: Horizon, hours: np.ndarray) -> StoreArrays:
    a = _empty(len(group), h.steps)
    volume = _attr(group, "volume_l")
    c = volume * WATER_KWH_PER_L_K
    drawn = np.empty((len(group), h.steps))
    by_length: dict[int, list[int]] = {}
    for i, d in enumerate(group):
        by_length.setdefault(len(d.draw_l), []).append(i)
    for length, rows in by_length.items():
        table = np.array([group[i].draw_l for i in rows], dtype=float).reshape(len(rows), length)
        drawn[rows] = table[:, hours % length]
    drawn *= h.dt
    mix = 1 - np.minimum(drawn / volume[:, None], 1.0)
    loss = (_attr(group, "loss_w_per_k") / 1000 * h.dt / c)[:, None]
    a.decay[:] = mix * (1 - loss)
    a.drift[:] = (1 - mix) * _attr(group, "t_cold")[:, None] + mix * loss * _attr(group, "t_room")[
        :, None
    ]
    temperature = _attr(group, "temperature")
    a.x0[:] = temperature
    a.gain_in[:] = _attr(group, "efficiency") / c
    a.penalty[:] = _attr(group, "penalty")
    a.p_max[:] = _attr(group, "heater_kw")[:, None]
    a.x_max[:] = np.maximum(_attr(group, "t_max"), temperature)[:, None]
    a.low[:, 1:] = _attr(group, "t_min")[:, None]
    return a


def _heat_pumps(group: Sequence[HeatPump], h: Horizon, outdoor) -> StoreArrays:
    a = _empty(len(group), h.steps)
    out = np.full(h.steps, 5.0) if outdoor is None else np.asarray(outdoor, dtype=float)
    capacity = _attr(group, "capacity_kwh_per_k")
    loss = (_attr(group, "ua_kw_per_k") * h.dt / capacity)[:, None]
    a.decay[:] = 1 - loss
    a.drift[:] = loss * out[None, :]
    a.x0[:] = _attr(group, "temperature")
    a.gain_in[:] = _attr(group, "cop") / capacity
    a.penalty[:] = _attr(group, "penalty")
    a.p_max[:] = _attr(group, "max_kw")[:, None]
    a.low[:, 1:] = _attr(group, "t_min")[:, None]
    a.high[:, 1:] = _attr(group, "t_max")[:, None]
    return a


def _batteries(group: Sequence[HomeBattery], h: Horizon) -> StoreArrays:
    a = _empty(len(group), h.steps)
    capacity, soc = _attr(group, "capacity_kwh"), _attr(group, "soc_kwh")
    one_way = np.sqrt(_attr(group, "round_trip_efficiency"))
    low, high = capacity * _attr(group, "soc_min"), capacity * _attr(group, "soc_max")
    a.x0[:] = soc
    a.gain_in[:], a.gain_out[:] = one_way, 1 / one_way
    a.p_min[:] = -_attr(group, "max_discharge_kw")[:, None]
    a.p_max[:] = _attr(group, "max_charge_kw")[:, None]
    a.x_min[:] = np.minimum(low, soc)[:, None]
    a.x_min[:, -1] = soc
    a.x_max[:] = np.maximum(high, soc)[:, None]
    return a
