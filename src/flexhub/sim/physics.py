"""A simulated device runs the physics the optimizer plans with: each device of
:mod:`flexhub.agent.optimize.devices` becomes its :class:`LinearStore` over a window of ticks,
and every tick the power it is asked for is clipped by ``feasible_power`` and moves the state
by ``next_state``. The window is rebuilt from the current state when it runs out (with one
step more than is used, so that a battery's end-of-horizon limit never binds a tick)."""

from __future__ import annotations

import dataclasses
import math
from datetime import datetime, timedelta

from flexhub.agent.optimize.devices import (
    EV,
    Controllable,
    Horizon,
    LinearStore,
    store_of,
)


def state_of(device: Controllable) -> float:
    """The device's stored quantity: kWh of charge, or °C."""
    return float(device.soc_kwh if hasattr(device, "soc_kwh") else device.temperature)


def with_state(device: Controllable, x: float) -> Controllable:
    if hasattr(device, "soc_kwh"):
        return dataclasses.replace(device, soc_kwh=x)
    return dataclasses.replace(device, temperature=x)


class DeviceRun:
    """One device from ``start`` in ticks of ``tick_s`` seconds; ``t`` is the start of the next
    tick, ``x`` the state now."""

    def __init__(
        self,
        device: Controllable,
        start: datetime,
        tick_s: float,
        window_ticks: int = 360,
        zone: str = "UTC",
    ) -> None:
        if tick_s <= 0 or window_ticks < 1:
            raise ValueError("ticks are positive and a window has at least one")
        self.device = device
        self.t = start
        self.x = state_of(device)
        self.tick = timedelta(seconds=tick_s)
        self.dt = tick_s / 3600
        self.zone = zone
        self._window_ticks = window_ticks
        self._store: LinearStore | None = None
        self._k = 0

    def _current(self) -> tuple[LinearStore, int]:
        if self._store is None or self._k >= self._window_ticks:
            horizon = Horizon(self.t, self._window_ticks + 1, self.dt, self.zone)
            self._store = store_of(with_state(self.device, self.x), horizon, None)
            self._k = 0
        return self._store, self._k

    def feasible(self, want_kw: float) -> float:
        """What the device can draw this tick when asked for ``want_kw``."""
        store, k = self._current()
        return float(store.feasible_power(k, self.x, want_kw, self.dt))

    def max_kw(self) -> float:
        return self.feasible(math.inf)

    def min_kw(self) -> float:
        return self.feasible(-math.inf)

    def step(self, want_kw: float) -> float:
        """Run one tick asked for ``want_kw``; returns the power drawn (kW at the meter)."""
        store, k = self._current()
        p = float(store.feasible_power(k, self.x, want_kw, self.dt))
        self.x = float(store.next_state(k, self.x, p, self.dt))
        self._k += 1
        self.t += self.tick
        return p

    def replace_device(self, device: Controllable) -> None:
        """A new device (another vehicle plugged in): its own state, from the next tick."""
        self.device = device
        self.x = state_of(device)
        self._store = None

    @property
    def plugged(self) -> bool:
        """For an EV: whether it is plugged in at ``t``."""
        device = self.device
        return isinstance(device, EV) and device.plug_in <= self.t < device.departure
