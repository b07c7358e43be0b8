"""``SimulatedDriver``: the :class:`flexhub.agent.drivers.Driver` of the simulated devices
(``flexhub.sim.devices``), registered as the ``sim`` driver. Its devices follow the agent's
clock: each is run up to the clock's ``now`` before every command and reading, so a
:class:`flexhub.clock.ScaledClock` plays a day in seconds.

Options (``[drivers.sim]``): ``tick_seconds`` (of clock time, default 60), ``zone`` (the local
time of device days, default UTC). ``commands`` keeps the latest commands with the wall time
they arrived (``time.monotonic()``), for tests and the benchmark."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flexhub.agent.drivers import (
    AssetSpec,
    AssetState,
    Availability,
    CommandResult,
    DriverError,
    MeterReading,
    PowerSchedule,
)
from flexhub.clock import Clock
from flexhub.sim.devices import SimDevice


@dataclass(frozen=True)
class Command:
    asset_id: str
    kind: str  # "power", "schedule", "limit"
    value: Any
    wall: float  # time.monotonic() when it arrived


class SimulatedDriver:
    def __init__(self, options: Mapping[str, Any], clock: Clock) -> None:
        self.clock = clock
        self.tick_s = float(options.get("tick_seconds", 60))
        self.zone = str(options.get("zone", "UTC"))
        self.devices: dict[str, SimDevice] = {}
        self.started_at: datetime | None = None
        self.commands: deque[Command] = deque(maxlen=int(options.get("keep_commands", 10_000)))

    async def start(self, assets: Sequence[AssetSpec]) -> None:
        # ticks on whole multiples of the tick (from the epoch): hours and quarter hours start
        # a tick, so an hour's energy and a limit set on the hour are the tick's own
        now = self.clock.now().timestamp()
        self.started_at = datetime.fromtimestamp(now - now % self.tick_s, UTC)
        for spec in assets:
            self.devices[spec.asset_id] = SimDevice(spec, self.started_at, self.tick_s, self.zone)

    async def close(self) -> None:
        self.devices.clear()

    def device(self, asset_id: str) -> SimDevice:
        try:
            dev = self.devices[asset_id]
        except KeyError:
            raise DriverError(f"the simulated driver runs no asset {asset_id!r}") from None
        dev.advance(self.clock.now())
        return dev

    def _log(self, asset_id: str, kind: str, value: Any) -> None:
        self.commands.append(Command(asset_id, kind, value, time.monotonic()))

    async def set_power(self, asset_id: str, kw: float | None) -> CommandResult:
        dev = self.device(asset_id)
        self._log(asset_id, "power", kw)
        if kw is not None and not dev.available:
            return CommandResult("rejected", dev.unavailable_reason or "the asset is unavailable")
        dev.setpoint = kw
        return CommandResult("accepted")

    async def set_schedule(self, asset_id: str, schedule: PowerSchedule | None) -> CommandResult:
        dev = self.device(asset_id)
        self._log(asset_id, "schedule", schedule)
        dev.schedule = schedule
        return CommandResult("accepted")

    async def set_limit(self, asset_id: str, max_kw: float | None) -> CommandResult:
        dev = self.device(asset_id)
        self._log(asset_id, "limit", max_kw)
        dev.limit = max_kw
        return CommandResult("accepted")

    async def read_meter(self, asset_id: str) -> MeterReading:
        dev = self.device(asset_id)
        return MeterReading(dev.meter.import_kwh, dev.meter.export_kwh, dev.t)

    async def read_meter_at(self, asset_id: str, when: datetime) -> MeterReading:
        """The meter as it stood at ``when`` (a whole hour the device has run through), else
        now: the agent's hourly samples read on the hour even when they run late."""
        dev = self.device(asset_id)
        mark = dev.on_the_hour.get(when)
        if mark is None:
            return MeterReading(dev.meter.import_kwh, dev.meter.export_kwh, dev.t)
        return MeterReading(mark[0], mark[1], when)

    async def read_state(self, asset_id: str) -> AssetState:
        dev = self.device(asset_id)
        return AssetState(dev.power_kw, dev.state, dev.t, soc=dev.soc, online=dev.available)

    async def availability(self, asset_id: str) -> Availability:
        dev = self.device(asset_id)
        top, feed = dev.bounds()
        return Availability(dev.available, top, feed, dev.unavailable_reason)

    def set_available(self, asset_id: str, available: bool, reason: str = "") -> None:
        """The simulator's hand on the device: take it offline (or back)."""
        dev = self.device(asset_id)
        dev.available = available
        dev.unavailable_reason = "" if available else (reason or "offline")
