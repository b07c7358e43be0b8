"""Flexible devices: their parameters, their state and their physics, in one definition that the
optimizer plans with and the simulated devices of ``flexhub.sim`` run.

Power is electrical kW at the meter: positive when the device draws from the grid, negative when
it feeds back (a battery discharging, an EV with V2G). Time runs in steps of ``dt`` hours over a
:class:`Horizon`.

Every controllable device is a first-order linear store of one quantity ``x`` (kWh of charge,
or °C of water or indoor air), so that one form serves every scheduler::

    x[k+1] = decay[k] * x[k] + gain_in * dt * p_in[k] - gain_out * dt * p_out[k] + drift[k]

with ``p = p_in - p_out`` (both >= 0). :meth:`Device.store` gives that form for a horizon as a
:class:`LinearStore`, with the device's limits split into HARD ones (never broken by any
schedule: power bounds, a battery's state-of-charge range, a tank's maximum temperature) and
SOFT ones (targets a schedule may miss, at a stated penalty, and then reports as unmet: an EV's
energy by departure, the lower edge of a tank's band, a home's comfort band).

- :class:`EV` — charges while plugged in (``plug_in`` to ``departure``), up to ``max_charge_kw``
  through a charger of ``efficiency``; soft target ``energy_needed_kwh`` added by departure;
  hard: 0 <= charge <= capacity, no power while unplugged, discharge only with V2G.
- :class:`WaterHeater` — a tank of ``volume_l`` heated by ``heater_kw`` (hard), losing heat to
  the room (``loss_w_per_k``) and mixed with cold water as hot water is drawn (litres per local
  hour, ``draw_l``); hard: at most ``t_max``; soft: at least ``t_min`` after every step.
- :class:`HeatPump` — a home of thermal capacity ``capacity_kwh_per_k`` losing
  ``ua_kw_per_k`` to the outdoor temperature, heated by a heat pump of ``max_kw`` electrical at
  ``cop``; soft: the comfort band ``t_min`` to ``t_max`` after every step.
- :class:`HomeBattery` — ``capacity_kwh`` between ``soc_min`` and ``soc_max`` (hard), charging
  and discharging up to their kW limits with ``round_trip_efficiency`` split evenly between the
  two; hard: it ends the horizon with at least the charge it started with.
- :class:`FixedLoad` — what is not controlled (base load, solar generation as a negative load):
  a power profile; it counts towards a location's limit and nothing else.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

WATER_KWH_PER_L_K = 4.186 / 3600  # kWh to warm one litre of water by one kelvin
INF = math.inf


@dataclass(frozen=True)
class Horizon:
    """``steps`` steps of ``dt`` hours from ``start`` (aware); ``zone`` gives local hours."""

    start: datetime
    steps: int
    dt: float = 1.0
    zone: str = "UTC"

    def __post_init__(self) -> None:
        if self.start.tzinfo is None:
            raise ValueError("a horizon starts at an aware datetime")
        if self.steps < 1 or self.dt <= 0:
            raise ValueError("a horizon has at least one step of positive length")

    @classmethod
    def between(cls, start: datetime, end: datetime, dt: float = 1.0, zone: str = "UTC") -> Horizon:
        # in UTC: two datetimes of one ZoneInfo subtract as wall-clock times (24 h on DST days)
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        steps = round((end - start).total_seconds() / 3600 / dt)
        return cls(start, steps, dt, zone)

    @property
    def end(self) -> datetime:
        return self.time(self.steps)

    def time(self, k: int) -> datetime:
        """The start of step ``k`` (``k = steps``: the end), in UTC."""
        return self.start.astimezone(UTC) + timedelta(hours=self.dt * k)

    def times(self) -> list[datetime]:
        return [self.time(k) for k in range(self.steps)]

    def local_hours(self) -> np.ndarray:
        """The local hour of day (0-23) each step starts in."""
        zone = ZoneInfo(self.zone)
        return np.array([self.time(k).astimezone(zone).hour for k in range(self.steps)])

    def index(self, when: datetime, up: bool = False) -> int:
        """The step ``when`` falls in, clamped to ``0 .. steps``; ``up``: the first step that
        starts at or after ``when`` (where something that begins at ``when`` is there for the
        whole step)."""
        t = (when - self.start).total_seconds() / 3600 / self.dt
        k = math.ceil(t - 1e-9) if up else math.floor(t + 1e-9)
        return min(max(k, 0), self.steps)


@dataclass(frozen=True)
class SoftLimit:
    """A limit on ``x`` after step ``k`` that a schedule may miss at ``penalty`` per unit."""

    step: int  # x after step ``step`` (1 .. steps), i.e. at the end of step step-1
    low: float = -INF
    high: float = INF


@dataclass(frozen=True)
class LinearStore:
    """A device over a horizon in the linear form of the module docstring. Arrays have one
    entry per step (``decay``, ``drift``, power bounds) or per state after a step (``x_*``,
    index ``k`` = the state after step ``k``; index 0 is the initial state)."""

    x0: float
    decay: np.ndarray
    gain_in: float
    gain_out: float
    drift: np.ndarray
    p_min: np.ndarray  # kW, <= 0 where the device may feed back
    p_max: np.ndarray  # kW, >= 0
    x_min: np.ndarray  # hard, per state (steps + 1)
    x_max: np.ndarray
    soft: tuple[SoftLimit, ...] = ()
    penalty: float = 1.0  # per unit of ``unit`` missed, per soft limit
    unit: str = "kWh"
    target: str = ""  # what the soft limits are, in words

    def next_state(self, k: int, x: float, power_kw: float, dt: float) -> float:
        """The state after step ``k`` from state ``x`` under ``power_kw`` (not clipped)."""
        p_in, p_out = max(power_kw, 0.0), max(-power_kw, 0.0)
        return (
            self.decay[k] * x
            + self.gain_in * dt * p_in
            - self.gain_out * dt * p_out
            + self.drift[k]
        )

    def feasible_power(self, k: int, x: float, power_kw: float, dt: float) -> float:
        """``power_kw`` clipped to the hard limits of step ``k`` from state ``x``: the power
        bounds, and what keeps the next state inside its hard range."""
        p = min(max(power_kw, self.p_min[k]), self.p_max[k])
        free = self.decay[k] * x + self.drift[k]  # the next state with no power
        if p > 0 and self.gain_in > 0:
            p = min(p, max(0.0, (self.x_max[k + 1] - free) / (self.gain_in * dt)))
        if p < 0 and self.gain_out > 0:
            p = max(p, -max(0.0, (free - self.x_min[k + 1]) / (self.gain_out * dt)))
        return p

    def trajectory(self, power_kw: np.ndarray, dt: float) -> np.ndarray:
        """The states (``steps + 1``, starting with ``x0``) under a schedule."""
        x = np.empty(len(power_kw) + 1)
        x[0] = self.x0
        for k, p in enumerate(power_kw):
            x[k + 1] = self.next_state(k, x[k], float(p), dt)
        return x

    def shortfalls(self, states: np.ndarray) -> list[tuple[SoftLimit, float]]:
        """The soft limits a trajectory misses, with by how much (in ``unit``)."""
        out = []
        for limit in self.soft:
            x = states[limit.step]
            miss = max(limit.low - x, x - limit.high, 0.0)
            if miss > 1e-6:
                out.append((limit, miss))
        return out


def _full(horizon: Horizon, value: float) -> np.ndarray:
    return np.full(horizon.steps, float(value))


def _states(horizon: Horizon, value: float) -> np.ndarray:
    return np.full(horizon.steps + 1, float(value))


@dataclass(frozen=True)
class EV:
    capacity_kwh: float
    max_charge_kw: float
    plug_in: datetime
    departure: datetime
    energy_needed_kwh: float  # to add between plug-in and departure
    soc_kwh: float = 0.0  # at plug-in
    efficiency: float = 0.9  # of the charger
    max_discharge_kw: float = 0.0  # V2G; 0 = none
    penalty: float = 1.0  # per kWh missing at departure
    kind: str = "EV"

    def store(self, horizon: Horizon) -> LinearStore:
        plugged = np.zeros(horizon.steps, dtype=bool)
        # plugged for whole steps only: from the first step after plug-in to departure
        first, last = horizon.index(self.plug_in, up=True), horizon.index(self.departure)
        plugged[first:last] = True
        target = min(self.capacity_kwh, self.soc_kwh + self.energy_needed_kwh)
        soft = (SoftLimit(step=last, low=target),) if first < last and last <= horizon.steps else ()
        return LinearStore(
            x0=self.soc_kwh,
            decay=_full(horizon, 1.0),
            gain_in=self.efficiency,
            gain_out=1 / self.efficiency,
            drift=_full(horizon, 0.0),
            p_min=np.where(plugged, -self.max_discharge_kw, 0.0),
            p_max=np.where(plugged, self.max_charge_kw, 0.0),
            x_min=_states(horizon, 0.0),
            x_max=_states(horizon, self.capacity_kwh),
            soft=soft,
            penalty=self.penalty,
            unit="kWh",
            target="energy by departure",
        )


@dataclass(frozen=True)
class WaterHeater:
    volume_l: float
    heater_kw: float
    t_min: float  # soft: at least this after every step
    t_max: float  # hard: never above
    temperature: float  # now
    draw_l: tuple[float, ...] = field(default=(0.0,) * 24)  # litres drawn per local hour
    t_cold: float = 10.0  # of the water that replaces what is drawn
    t_room: float = 20.0
    loss_w_per_k: float = 2.0  # standing loss to the room
    efficiency: float = 1.0
    penalty: float = 1.0  # per °C below t_min, per step
    kind: str = "HotWaterTank"

    @property
    def capacity_kwh_per_k(self) -> float:
        return self.volume_l * WATER_KWH_PER_L_K

    def store(self, horizon: Horizon) -> LinearStore:
        c = self.capacity_kwh_per_k
        dt = horizon.dt
        hours = horizon.local_hours()
        drawn = np.array([self.draw_l[h % len(self.draw_l)] for h in hours]) * dt
        mix = 1 - np.minimum(drawn / self.volume_l, 1.0)  # fraction of the tank kept
        loss = self.loss_w_per_k / 1000 * dt / c  # fraction of the excess over room lost
        decay = mix * (1 - loss)
        drift = (1 - mix) * self.t_cold + mix * loss * self.t_room
        soft = tuple(SoftLimit(step=k, low=self.t_min) for k in range(1, horizon.steps + 1))
        return LinearStore(
            x0=self.temperature,
            decay=decay,
            gain_in=self.efficiency / c,
            gain_out=0.0,
            drift=drift,
            p_min=_full(horizon, 0.0),
            p_max=_full(horizon, self.heater_kw),
            x_min=_states(horizon, -INF),
            x_max=_states(horizon, max(self.t_max, self.temperature)),
            soft=soft,
            penalty=self.penalty,
            unit="°C",
            target="hot water temperature",
        )


@dataclass(frozen=True)
class HeatPump:
    capacity_kwh_per_k: float  # thermal mass of the home
    ua_kw_per_k: float  # heat loss per kelvin to outdoors
    max_kw: float  # electrical
    t_min: float
    t_max: float
    temperature: float  # indoor, now
    cop: float = 3.0
    penalty: float = 1.0  # per °C outside the band, per step
    kind: str = "HVAC"

    def store(self, horizon: Horizon, outdoor: np.ndarray | None = None) -> LinearStore:
        outdoor = _full(horizon, 5.0) if outdoor is None else np.asarray(outdoor, dtype=float)
        loss = self.ua_kw_per_k * horizon.dt / self.capacity_kwh_per_k
        soft = tuple(
            SoftLimit(step=k, low=self.t_min, high=self.t_max) for k in range(1, horizon.steps + 1)
        )
        return LinearStore(
            x0=self.temperature,
            decay=_full(horizon, 1 - loss),
            gain_in=self.cop / self.capacity_kwh_per_k,
            gain_out=0.0,
            drift=loss * outdoor,
            p_min=_full(horizon, 0.0),
            p_max=_full(horizon, self.max_kw),
            x_min=_states(horizon, -INF),
            x_max=_states(horizon, INF),
            soft=soft,
            penalty=self.penalty,
            unit="°C",
            target="comfort band",
        )


@dataclass(frozen=True)
class HomeBattery:
    capacity_kwh: float
    max_charge_kw: float
    max_discharge_kw: float
    soc_kwh: float  # now
    soc_min: float = 0.1  # fractions of capacity, hard
    soc_max: float = 0.95
    round_trip_efficiency: float = 0.9
    kind: str = "Battery"

    def store(self, horizon: Horizon) -> LinearStore:
        one_way = math.sqrt(self.round_trip_efficiency)
        low, high = self.capacity_kwh * self.soc_min, self.capacity_kwh * self.soc_max
        x_min = _states(horizon, min(low, self.soc_kwh))
        x_min[-1] = self.soc_kwh  # ends with at least what it started with
        return LinearStore(
            x0=self.soc_kwh,
            decay=_full(horizon, 1.0),
            gain_in=one_way,
            gain_out=1 / one_way,
            drift=_full(horizon, 0.0),
            p_min=_full(horizon, -self.max_discharge_kw),
            p_max=_full(horizon, self.max_charge_kw),
            x_min=x_min,
            x_max=_states(horizon, max(high, self.soc_kwh)),
            unit="kWh",
            target="state of charge",
        )


@dataclass(frozen=True)
class FixedLoad:
    """An uncontrolled load: kW per local hour (negative for generation such as solar)."""

    power_kw: tuple[float, ...] = (0.0,) * 24
    kind: str = "Generic"

    def profile(self, horizon: Horizon) -> np.ndarray:
        return np.array([self.power_kw[h % len(self.power_kw)] for h in horizon.local_hours()])


Controllable = EV | WaterHeater | HeatPump | HomeBattery
Device = Controllable | FixedLoad


def store_of(device: Controllable, horizon: Horizon, outdoor: np.ndarray | None) -> LinearStore:
    """The linear form of a controllable device over ``horizon``."""
    if isinstance(device, HeatPump):
        return device.store(horizon, outdoor)
    return device.store(horizon)
