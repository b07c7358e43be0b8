"""The agent's assets and the drivers that run them: each asset of the inventory is handed to
the driver its config names (one driver instance per name, built from ``[drivers.<name>]``),
and found again by its own id, its Flex Market asset id, its Energy Coordination resource id
or its location."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from flexhub.agent.drivers import AssetSpec, Driver, MeterReading, load_driver
from flexhub.clock import Clock

log = logging.getLogger(__name__)


class Fleet:
    def __init__(
        self,
        specs: Sequence[AssetSpec],
        clock: Clock,
        options: Mapping[str, Mapping[str, Any]] | None = None,
        drivers: Mapping[str, Driver] | None = None,
    ) -> None:
        self.clock = clock
        self.specs = {s.asset_id: s for s in specs}
        self._options = dict(options or {})
        self.drivers: dict[str, Driver] = dict(drivers or {})
        self._given = set(self.drivers)
        self.by_flex: dict[str, list[AssetSpec]] = {}
        self.by_resource: dict[str, list[AssetSpec]] = {}
        self.by_location: dict[str, list[AssetSpec]] = {}
        for s in specs:
            if s.flex_asset_id:
                self.by_flex.setdefault(s.flex_asset_id, []).append(s)
            if s.resource_id:
                self.by_resource.setdefault(s.resource_id, []).append(s)
            if s.location_id:
                self.by_location.setdefault(s.location_id, []).append(s)

    async def start(self) -> None:
        names = sorted({s.driver for s in self.specs.values()})
        for name in names:
            if name not in self.drivers:
                self.drivers[name] = load_driver(name)(self._options.get(name, {}), self.clock)
            await self.drivers[name].start([s for s in self.specs.values() if s.driver == name])
            log.info(
                "driver %s runs %d assets", name, sum(s.driver == name for s in self.specs.values())
            )

    async def close(self) -> None:
        for name, driver in self.drivers.items():
            if name not in self._given:
                await driver.close()

    def driver(self, asset_id: str) -> Driver:
        return self.drivers[self.specs[asset_id].driver]

    async def net_import_kwh(self, asset_id: str, at: datetime | None = None) -> float:
        """Net kWh drawn so far; at ``at`` where the driver keeps readings on the hour."""
        driver = self.driver(asset_id)
        if at is not None and hasattr(driver, "read_meter_at"):
            reading: MeterReading = await driver.read_meter_at(asset_id, at)
        else:
            reading = await driver.read_meter(asset_id)
        return reading.import_kwh - reading.export_kwh
