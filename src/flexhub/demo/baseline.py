"""The fleet without flexhub: the same simulated devices (:mod:`flexhub.sim.devices`), from the
same states at the same instant, left to their own control (an EV charges when plugged in, a
tank or a home heats below the middle of its band, a battery idles) through the day. Its hourly
energy is the "before" the demo's report sets against what the agent's meters recorded."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from flexhub.agent.drivers import AssetSpec
from flexhub.sim.devices import SimDevice


def own_control_kwh(
    specs: Iterable[AssetSpec],
    start: datetime,
    hours: list[datetime],
    tick_s: float,
    zone: str,
) -> dict[str, list[float]]:
    """asset id -> net kWh drawn in each of ``hours`` (UTC hour starts), every device started
    at ``start`` and run on its own until the last hour ends."""
    out: dict[str, list[float]] = {}
    for spec in specs:
        dev = SimDevice(spec, start, tick_s, zone)
        kwh = []
        for hour in hours:
            dev.advance(hour)
            before = dev.meter.import_kwh - dev.meter.export_kwh
            dev.advance(hour + timedelta(hours=1))
            kwh.append(dev.meter.import_kwh - dev.meter.export_kwh - before)
        out[spec.asset_id] = kwh
    return out
