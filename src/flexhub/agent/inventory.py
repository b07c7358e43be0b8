"""The device model behind each asset of the inventory: the ``device`` table of an asset's
config holds the parameters of its :mod:`flexhub.agent.optimize.devices` model (field names as
there; the asset's ``max_import_kw`` / ``max_export_kw`` fill the power limits it leaves out).
The policy plans with these models and the simulated driver runs them, so both read one
description. An EV's ``plug_in_hour`` and ``departure_hour`` are local hours of the day the
model is built for (a departure at or before the plug-in hour is the next day)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flexhub.agent.drivers import AssetSpec
from flexhub.agent.optimize.devices import (
    EV,
    Device,
    FixedLoad,
    HeatPump,
    HomeBattery,
    WaterHeater,
)

STORAGE_KINDS = ("battery", "ev")


def _tuple(params: dict[str, Any], name: str) -> None:
    if name in params:
        params[name] = tuple(float(v) for v in params[name])


def device_model(
    spec: AssetSpec, day: datetime, zone: str = "UTC", soc: float | None = None
) -> Device:
    """The asset's device on the local day that contains ``day``; ``soc`` (0..1), when the
    driver knows it, replaces a storage device's configured state of charge."""
    params: dict[str, Any] = dict(spec.options.get("device") or {})
    kind = spec.kind
    if kind == "battery":
        params.setdefault("max_charge_kw", spec.max_import_kw)
        params.setdefault("max_discharge_kw", spec.max_export_kw)
        params.setdefault("capacity_kwh", max(spec.max_import_kw, spec.max_export_kw, 1.0) * 2)
        params.setdefault("soc_kwh", params["capacity_kwh"] / 2)
        if soc is not None:
            params["soc_kwh"] = soc * params["capacity_kwh"]
        return HomeBattery(**params)
    if kind in ("ev", "charger"):
        local = day.astimezone(ZoneInfo(zone))
        midnight = datetime.combine(local.date(), time(0), tzinfo=local.tzinfo)
        plug = float(params.pop("plug_in_hour", 17))
        leave = float(params.pop("departure_hour", 7))
        if leave <= plug:
            leave += 24
        params["plug_in"] = midnight + timedelta(hours=plug)
        params["departure"] = midnight + timedelta(hours=leave)
        params.setdefault("max_charge_kw", spec.max_import_kw)
        params.setdefault("max_discharge_kw", spec.max_export_kw)
        params.setdefault("capacity_kwh", 60.0)
        params.setdefault("energy_needed_kwh", 20.0)
        if soc is not None:
            params["soc_kwh"] = soc * params["capacity_kwh"]
        return EV(**params)
    if kind == "water_heater":
        params.setdefault("heater_kw", spec.max_import_kw)
        params.setdefault("volume_l", 200.0)
        params.setdefault("t_min", 50.0)
        params.setdefault("t_max", 75.0)
        params.setdefault("temperature", 60.0)
        _tuple(params, "draw_l")
        return WaterHeater(**params)
    if kind == "heat_pump":
        params.setdefault("max_kw", spec.max_import_kw)
        params.setdefault("capacity_kwh_per_k", 5.0)
        params.setdefault("ua_kw_per_k", 0.15)
        params.setdefault("t_min", 19.0)
        params.setdefault("t_max", 23.0)
        params.setdefault("temperature", 21.0)
        return HeatPump(**params)
    # load, solar: what is not controlled
    if "power_kw" not in params:
        flat = spec.max_import_kw if kind == "load" else -spec.max_export_kw
        params["power_kw"] = (flat,) * 24
    _tuple(params, "power_kw")
    return FixedLoad(**params)


def storage_kwh(device: Device) -> tuple[float, float]:
    """A storage device's (energy it could still take, energy it could give) in kWh at the
    meter; ``(inf, 0)`` for devices that only draw, ``(0, 0)`` for fixed loads."""
    if isinstance(device, HomeBattery):
        one_way = device.round_trip_efficiency**0.5
        room = device.capacity_kwh * device.soc_max - device.soc_kwh
        usable = device.soc_kwh - device.capacity_kwh * device.soc_min
        return max(room, 0.0) / one_way, max(usable, 0.0) * one_way
    if isinstance(device, EV):
        room = device.capacity_kwh - device.soc_kwh
        give = device.soc_kwh * device.efficiency if device.max_discharge_kw > 0 else 0.0
        return max(room, 0.0) / device.efficiency, give
    if isinstance(device, FixedLoad):
        return 0.0, 0.0
    return float("inf"), 0.0


def devices_by_resource(
    specs: Mapping[str, AssetSpec], day: datetime, zone: str
) -> dict[str, tuple[AssetSpec, Device]]:
    return {s.resource_id: (s, device_model(s, day, zone)) for s in specs.values() if s.resource_id}
