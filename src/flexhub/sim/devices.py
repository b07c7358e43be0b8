"""Simulated devices behind the simulated driver: an EV, a hot water tank, an HVAC / heat pump,
a home battery and base load (or solar), each the device model of
:mod:`flexhub.agent.optimize.devices` that the asset's config describes
(:func:`flexhub.agent.inventory.device_model`), run tick by tick by
:class:`flexhub.sim.physics.DeviceRun` — the physics the optimizer plans with, written once.

What a device draws in a tick: nothing while unavailable; else the dispatch setpoint, or the
schedule's power, or its own control (an EV charges when plugged in, a tank or a home heats
below the middle of its band, a battery idles), capped by the power limit, then clipped to
what the physics allows. A fixed load draws its profile whatever it is asked. The meter counts
import and export kWh."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flexhub.agent.drivers import AssetSpec, PowerSchedule
from flexhub.agent.inventory import device_model
from flexhub.agent.optimize.devices import EV, FixedLoad, HeatPump, HomeBattery, WaterHeater
from flexhub.sim.physics import DeviceRun


@dataclass
class Meter:
    import_kwh: float = 0.0
    export_kwh: float = 0.0

    def add(self, kw: float, hours: float) -> None:
        if kw >= 0:
            self.import_kwh += kw * hours
        else:
            self.export_kwh += -kw * hours


class SimDevice:
    def __init__(self, spec: AssetSpec, start: datetime, tick_s: float, zone: str) -> None:
        self.spec = spec
        self.zone = zone
        self.tick = timedelta(seconds=tick_s)
        self.device = device_model(spec, start, zone)
        self.t = start
        self.run = (
            None
            if isinstance(self.device, FixedLoad)
            else DeviceRun(self.device, start, tick_s, zone=zone)
        )
        self.meter = Meter()
        # the meter at each whole hour the device has run through (UTC hour start ->
        # (import, export) kWh): an hour's energy read on the hour, however late the reading
        self.on_the_hour: dict[datetime, tuple[float, float]] = {}
        self.power_kw = 0.0
        self.setpoint: float | None = None
        self.schedule: PowerSchedule | None = None
        self.limit: float | None = None
        self.available = True
        self.unavailable_reason = ""

    # --- time ---------------------------------------------------------------------------------

    def advance(self, now: datetime) -> None:
        """Run whole ticks up to ``now``."""
        while self.t + self.tick <= now:
            self._tick()

    def _tick(self) -> None:
        hours = self.tick.total_seconds() / 3600
        if self.run is None:
            p = float(self._fixed_kw(self.t)) if self.available else 0.0
        else:
            self._next_vehicle()
            p = self.run.step(self._wanted()) if self.available else self.run.step(0.0)
        self.power_kw = p
        self.meter.add(p, hours)
        self.t += self.tick
        if self.t.minute == 0 and self.t.second == 0 and self.t.microsecond == 0:
            self.on_the_hour[self.t] = (self.meter.import_kwh, self.meter.export_kwh)
            if len(self.on_the_hour) > 72:
                self.on_the_hour.pop(min(self.on_the_hour))

    def _fixed_kw(self, when: datetime) -> float:
        assert isinstance(self.device, FixedLoad)
        hour = when.astimezone(ZoneInfo(self.zone)).hour
        return self.device.power_kw[hour % len(self.device.power_kw)]

    def _next_vehicle(self) -> None:
        device = self.run.device  # type: ignore[union-attr]
        if isinstance(device, EV) and self.run.t >= device.departure:  # type: ignore[union-attr]
            self.run.replace_device(device_model(self.spec, self.run.t, self.zone))  # type: ignore[union-attr]

    def _wanted(self) -> float:
        if self.setpoint is not None:
            want = self.setpoint
        elif self.schedule is not None and self.schedule.at(self.t) is not None:
            want = float(self.schedule.at(self.t))  # type: ignore[arg-type]
        else:
            want = self._own_control()
        if self.limit is not None:
            want = min(want, self.limit)
        return want

    def _own_control(self) -> float:
        run = self.run
        device = run.device  # type: ignore[union-attr]
        if isinstance(device, EV):
            return float("inf")
        if isinstance(device, WaterHeater | HeatPump):
            return float("inf") if run.x < (device.t_min + device.t_max) / 2 else 0.0  # type: ignore[union-attr]
        return 0.0

    # --- what the driver reports --------------------------------------------------------------

    @property
    def soc(self) -> float | None:
        if self.run is None:
            return None
        device = self.run.device
        if isinstance(device, HomeBattery | EV):
            return self.run.x / device.capacity_kwh
        return None

    @property
    def state(self) -> str:
        if not self.available:
            return "offline"
        if self.run is None:
            return "running"
        if isinstance(self.run.device, EV) and not self.run.plugged:
            return "unplugged"
        if self.power_kw > 1e-9:
            return "charging" if isinstance(self.run.device, EV | HomeBattery) else "heating"
        if self.power_kw < -1e-9:
            return "discharging"
        return "idle"

    def bounds(self) -> tuple[float, float]:
        """(most it can draw, most it can feed in) this tick, in kW."""
        if not self.available:
            return 0.0, 0.0
        if self.run is None:
            p = self._fixed_kw(self.t)
            return max(p, 0.0), max(-p, 0.0)
        top = self.run.max_kw()
        if self.limit is not None:
            top = min(top, self.limit)
        return max(top, 0.0), max(-self.run.min_kw(), 0.0)
