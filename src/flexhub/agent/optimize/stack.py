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

import mmap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from itertools import chain
from operator import attrgetter

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

    def view(self, rows: slice) -> StoreArrays:
        """Rows ``rows`` without a copy (writing to the view writes to this)."""
        return StoreArrays(**{f.name: getattr(self, f.name)[rows] for f in fields(self)})

    def take(self, rows: np.ndarray) -> StoreArrays:
        return StoreArrays(**{f.name: getattr(self, f.name)[rows] for f in fields(self)})

    def rows(self, rows: np.ndarray) -> StoreArrays:
        """Rows ``rows`` for reading: a view when they are one ascending run (the solvers'
        chunks mostly are: a copy of 12 arrays a chunk costs as much as reading them), else a
        copy."""
        rows = np.asarray(rows)
        if len(rows) and rows[-1] - rows[0] + 1 == len(rows) and (np.diff(rows) == 1).all():
            return self.view(slice(int(rows[0]), int(rows[-1]) + 1))
        return self.take(rows)

    @classmethod
    def concat(cls, parts: Sequence[StoreArrays]) -> StoreArrays:
        return cls(
            **{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)}
        )

    def two_way(self) -> np.ndarray:
        """Devices that may feed back (a battery, an EV with V2G)."""
        return (self.p_min < 0).any(axis=1) & (self.gain_out > 0)

    def trajectory(self, power: np.ndarray, dt: float) -> np.ndarray:
        """States (B, N+1) under ``power`` (B, N): ``LinearStore.next_state`` for every row.
        Step by step on transposed copies, so that each step reads contiguous memory."""
        x = np.empty((self.steps + 1, self.size))
        x[0] = self.x0
        p_in = np.ascontiguousarray(np.maximum(power, 0.0).T) * (self.gain_in * dt)
        p_in -= np.ascontiguousarray(np.maximum(-power, 0.0).T) * (self.gain_out * dt)
        p_in += self.drift.T
        decay = np.ascontiguousarray(self.decay.T)
        for k in range(self.steps):
            np.multiply(decay[k], x[k], out=x[k + 1])
            x[k + 1] += p_in[k]
        return np.ascontiguousarray(x.T)

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
    types = [*map(type, devices)]
    codes = {kind: i for i, kind in enumerate(dict.fromkeys(types))}
    code = np.fromiter(map(codes.__getitem__, types), dtype=int, count=len(types))
    groups: dict[type, np.ndarray] = {}
    for kind, c in codes.items():
        idx = np.nonzero(code == c)[0]
        key = kind if kind in KINDS else LinearStore
        groups[key] = np.concatenate([groups[key], idx]) if key in groups else idx
    hours = horizon.local_hours()
    out = _empty(len(devices), n)
    for kind, rows in groups.items():
        contiguous = rows[-1] - rows[0] + 1 == len(rows)  # the optimizer sorts by type
        if contiguous:  # fill the rows of ``out`` in place
            span = slice(int(rows[0]), int(rows[-1]) + 1)
            group = list(devices[span])
            part = out.view(span)
        else:
            group = [devices[i] for i in rows.tolist()]
            part = _empty(len(rows), n)
        if kind is EV:
            _evs(group, horizon, part)
        elif kind is WaterHeater:
            _water_heaters(group, horizon, hours, part)
        elif kind is HeatPump:
            _heat_pumps(group, horizon, outdoor, part)
        elif kind is HomeBattery:
            _batteries(group, horizon, part)
        else:
            filled = from_stores([store_of(d, horizon, outdoor) for d in group], n)
            for f in fields(StoreArrays):
                getattr(part, f.name)[:] = getattr(filled, f.name)
        if not contiguous:
            for f in fields(StoreArrays):
                getattr(out, f.name)[rows] = getattr(part, f.name)
    return out


def by_site(site: np.ndarray, values: np.ndarray, sites: int) -> np.ndarray:
    """Per location, the sum of the rows of ``values`` (B, N) at it (``site``: the location of
    each row, 0 .. ``sites`` - 1): (``sites``, N). One ``bincount``, 2.5 times faster than
    ``np.add.at`` on a fleet."""
    n = values.shape[1]
    index = (np.asarray(site)[:, None] * n + np.arange(n)).ravel()
    total = np.bincount(index, weights=values.ravel(), minlength=sites * n)
    return total.reshape(sites, n)


def fixed_profiles(loads: Sequence[FixedLoad], horizon: Horizon) -> np.ndarray:
    """``FixedLoad.profile`` of many loads (L, N), the local hours computed once."""
    hours = horizon.local_hours()
    out = np.zeros((len(loads), horizon.steps))
    _by_hour([load.power_kw for load in loads], hours, out)
    return out


def _by_hour(profiles: Sequence[Sequence[float]], hours: np.ndarray, out: np.ndarray) -> None:
    """``out[i, k] = profiles[i][hours[k] % len(profiles[i])]``: profiles per local hour as
    values per step (grouped by length; ``np.fromiter`` over the chained tuples takes half
    the time of ``np.array`` on the list of them)."""
    lengths = np.fromiter(map(len, profiles), dtype=int, count=len(profiles))
    for length in np.unique(lengths).tolist():
        if length == len(profiles[0]) and (lengths == length).all():  # the common case
            rows, group = slice(None), profiles
        else:
            rows = np.nonzero(lengths == length)[0]
            group = [profiles[i] for i in rows.tolist()]
        table = np.fromiter(chain.from_iterable(group), dtype=float, count=len(group) * length)
        out[rows] = table.reshape(len(group), length)[:, hours % length]


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
        decay=_filled((b, n), 1.0),
        drift=_filled((b, n), 0.0),
        p_min=_filled((b, n), 0.0),
        p_max=_filled((b, n), 0.0),
        x_min=_filled((b, n + 1), -INF),
        x_max=_filled((b, n + 1), INF),
        low=_filled((b, n + 1), -INF),
        high=_filled((b, n + 1), INF),
    )


def _filled(shape: tuple[int, int], value: float) -> np.ndarray:
    """``np.full(shape, value)``, a large one in an anonymous private ``mmap`` of small pages:
    numpy asks for transparent huge pages from 4 MB on, and their first touch stalled here
    (the 8 arrays of 100,000 devices: 0.25-0.36 s with them, 0.06-0.08 s without, measured
    on the shared 2-core machine)."""
    count = shape[0] * shape[1]
    if count * 8 < 1 << 22:
        return np.full(shape, value)
    memory = mmap.mmap(-1, count * 8, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    out = np.frombuffer(memory, dtype=float, count=count).reshape(shape)
    if value != 0.0:  # the pages start zeroed
        out.fill(value)
    return out


def _table(group: Sequence) -> dict[str, np.ndarray]:
    """The float parameters of a group of devices of one type, one array each (one
    ``attrgetter`` call a device: a third of the time of one ``getattr`` a field)."""
    names = [f.name for f in fields(type(group[0])) if f.type in ("float", float)]
    get = attrgetter(*names)
    rows = map(get, group) if len(names) > 1 else ((get(d),) for d in group)
    count = len(group) * len(names)
    values = np.fromiter(chain.from_iterable(rows), dtype=float, count=count)
    values = values.reshape(len(group), -1)
    return {name: values[:, i] for i, name in enumerate(names)}


def _step_index(horizon: Horizon, when: Iterable[datetime], up: bool, count: int) -> np.ndarray:
    """``Horizon.index`` for ``count`` datetimes (``up``: the first step starting at or
    after)."""
    start = horizon.start.timestamp()
    t = (np.fromiter(map(datetime.timestamp, when), dtype=float, count=count) - start) / 3600
    t /= horizon.dt
    k = np.ceil(t - 1e-9) if up else np.floor(t + 1e-9)
    return np.clip(k, 0, horizon.steps).astype(int)


def _evs(group: Sequence[EV], h: Horizon, a: StoreArrays) -> None:
    t = _table(group)
    first = _step_index(h, map(attrgetter("plug_in"), group), True, len(group))
    last = _step_index(h, map(attrgetter("departure"), group), False, len(group))
    ks = np.arange(h.steps)
    plugged = (ks >= first[:, None]) & (ks < last[:, None])
    cap, soc = t["capacity_kwh"], t["soc_kwh"]
    eff = t["efficiency"]
    a.x0[:] = soc
    a.gain_in[:], a.gain_out[:] = eff, 1 / eff
    a.penalty[:] = t["penalty"]
    a.p_min[:] = np.where(plugged, -t["max_discharge_kw"][:, None], 0.0)
    a.p_max[:] = np.where(plugged, t["max_charge_kw"][:, None], 0.0)
    a.x_min[:] = 0.0
    a.x_max[:] = cap[:, None]
    target = np.minimum(cap, soc + t["energy_needed_kwh"])
    has = np.nonzero(first < last)[0]
    a.low[has, last[has]] = target[has]


def _water_heaters(
    group: Sequence[WaterHeater], h: Horizon, hours: np.ndarray, a: StoreArrays
) -> None:
    t = _table(group)
    volume = t["volume_l"]
    c = volume * WATER_KWH_PER_L_K
    drawn = np.empty((len(group), h.steps))
    _by_hour([d.draw_l for d in group], hours, drawn)
    drawn *= h.dt
    mix = 1 - np.minimum(drawn / volume[:, None], 1.0)
    loss = (t["loss_w_per_k"] / 1000 * h.dt / c)[:, None]
    a.decay[:] = mix * (1 - loss)
    a.drift[:] = (1 - mix) * t["t_cold"][:, None] + mix * loss * t["t_room"][:, None]
    temperature = t["temperature"]
    a.x0[:] = temperature
    a.gain_in[:] = t["efficiency"] / c
    a.penalty[:] = t["penalty"]
    a.p_max[:] = t["heater_kw"][:, None]
    a.x_max[:] = np.maximum(t["t_max"], temperature)[:, None]
    a.low[:, 1:] = t["t_min"][:, None]


def _heat_pumps(group: Sequence[HeatPump], h: Horizon, outdoor, a: StoreArrays) -> None:
    t = _table(group)
    out = np.full(h.steps, 5.0) if outdoor is None else np.asarray(outdoor, dtype=float)
    capacity = t["capacity_kwh_per_k"]
    loss = (t["ua_kw_per_k"] * h.dt / capacity)[:, None]
    a.decay[:] = 1 - loss
    a.drift[:] = loss * out[None, :]
    a.x0[:] = t["temperature"]
    a.gain_in[:] = t["cop"] / capacity
    a.penalty[:] = t["penalty"]
    a.p_max[:] = t["max_kw"][:, None]
    a.low[:, 1:] = t["t_min"][:, None]
    a.high[:, 1:] = t["t_max"][:, None]


def _batteries(group: Sequence[HomeBattery], h: Horizon, a: StoreArrays) -> None:
    t = _table(group)
    capacity, soc = t["capacity_kwh"], t["soc_kwh"]
    one_way = np.sqrt(t["round_trip_efficiency"])
    low, high = capacity * t["soc_min"], capacity * t["soc_max"]
    a.x0[:] = soc
    a.gain_in[:], a.gain_out[:] = one_way, 1 / one_way
    a.p_min[:] = -t["max_discharge_kw"][:, None]
    a.p_max[:] = t["max_charge_kw"][:, None]
    a.x_min[:] = np.minimum(low, soc)[:, None]
    a.x_min[:, -1] = soc
    a.x_max[:] = np.maximum(high, soc)[:, None]
