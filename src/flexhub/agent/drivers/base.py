"""The driver protocol: what the agent needs of whatever moves an asset's power.

Power is in kW, positive = drawn from the grid (import), negative = fed in (export). A driver
is built by its factory as ``factory(options, clock)``, where ``options`` is its own table of
the agent's config (``[drivers.<name>]``) and ``clock`` the agent's :class:`flexhub.clock.Clock`;
then ``start(assets)`` gives it the assets it runs (from the config's inventory) and ``close()``
releases everything it holds. Every command answers with a :class:`CommandResult` rather than
raising when the device refuses; :class:`DriverError` is for an asset the driver does not know
or a device it cannot reach at all.

Commands, from strongest to weakest:
- ``set_power(asset_id, kw)``: hold ``kw`` now (a dispatch setpoint); ``None`` releases the
  setpoint and the asset goes back to its schedule, or to its own control if it has none;
- ``set_schedule(asset_id, schedule)``: follow a power schedule (the optimizer's plan for a day);
  ``None`` clears it;
- ``set_limit(asset_id, max_kw)``: never draw more than ``max_kw`` (a power-limit cap, LPC),
  whatever the setpoint or schedule says; ``None`` lifts the cap.

Beyond the protocol, a driver may offer :class:`HourlyMeter` (``energy_by_hour``: metered kWh
per UTC hour, for EnergyUsage reports) and :class:`ReportsResults` (``last_result``: what the
device answered since a ``pending`` command); the OCPP and S2 drivers offer both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol, runtime_checkable


class DriverError(Exception):
    """An asset the driver does not know, or a device it cannot reach at all."""


@dataclass(frozen=True)
class AssetSpec:
    """One asset of the agent's inventory, as its config describes it."""

    asset_id: str
    driver: str  # the entry point name, e.g. "sim", "ocpp", "s2"
    kind: str  # "ev", "charger", "water_heater", "heat_pump", "battery", "load", "solar"
    max_import_kw: float = 0.0
    max_export_kw: float = 0.0
    location_id: str | None = None  # the Energy Coordination location behind the same meter
    resource_id: str | None = None  # the Energy Coordination resource it is
    flex_asset_id: str | None = None  # the Flex Market asset it belongs to
    options: Mapping[str, Any] = field(default_factory=dict)  # driver-specific (station, evse...)


@dataclass(frozen=True)
class PowerSchedule:
    """``kw[i]`` holds from ``start + i * step`` to ``start + (i + 1) * step``."""

    start: datetime
    step: timedelta
    kw: Sequence[float]

    @property
    def end(self) -> datetime:
        return self.start + self.step * len(self.kw)

    def at(self, when: datetime) -> float | None:
        """The scheduled power at ``when``, ``None`` outside the schedule."""
        if when < self.start or when >= self.end:
            return None
        return float(self.kw[int((when - self.start) / self.step)])


@dataclass(frozen=True)
class CommandResult:
    outcome: Literal["accepted", "rejected", "pending"]  # pending: sent again on reconnect
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome == "accepted"


@dataclass(frozen=True)
class MeterReading:
    """Cumulative energy through the asset's meter since the driver first saw it."""

    import_kwh: float
    export_kwh: float
    at: datetime


@dataclass(frozen=True)
class AssetState:
    power_kw: float
    state: str  # driver's word: "idle", "charging", "heating", "offline", "unplugged"...
    at: datetime
    soc: float | None = None  # 0..1 for storage (battery, EV, tank) when known
    online: bool = True


@dataclass(frozen=True)
class Availability:
    """What the asset can do now: the bounds a setpoint may take."""

    available: bool
    max_import_kw: float
    max_export_kw: float = 0.0
    reason: str = ""  # why not (or not fully) available


class Driver(Protocol):
    async def start(self, assets: Sequence[AssetSpec]) -> None: ...

    async def close(self) -> None: ...

    async def set_power(self, asset_id: str, kw: float | None) -> CommandResult: ...

    async def set_schedule(
        self, asset_id: str, schedule: PowerSchedule | None
    ) -> CommandResult: ...

    async def set_limit(self, asset_id: str, max_kw: float | None) -> CommandResult: ...

    async def read_meter(self, asset_id: str) -> MeterReading: ...

    async def read_state(self, asset_id: str) -> AssetState: ...

    async def availability(self, asset_id: str) -> Availability: ...


# --- what some drivers offer beyond the protocol (check with isinstance) -----------------


@runtime_checkable
class HourlyMeter(Protocol):
    """A driver that books metered energy per UTC hour (the protocol drivers do): what an
    EnergyUsage report needs, without differencing meter readings."""

    def energy_by_hour(
        self, asset_id: str, start: datetime | None = None, end: datetime | None = None
    ) -> dict[datetime, float]:
        """Net kWh (import minus export) per UTC hour, for the hours starting in
        ``[start, end)``, in time order."""
        ...


@runtime_checkable
class ReportsResults(Protocol):
    """A driver whose commands may be ``pending`` (sent when the device is back): what the
    device has answered since, for an asset's latest commands."""

    def last_result(self, asset_id: str) -> CommandResult: ...
