"""The built-in need forecast: a neighbourhood's hourly net load from what is registered in it,
against its transformer capacity.

Net load (kW, hourly mean) = households × base load
                           + vehicles and chargers × evening charging profile
                           + hot water tanks × profile × (colder weather, more hot water energy)
                           + HVAC units × heating (kW per kelvin below 17 °C)
                           − installed solar (kWp) × clear-sky irradiance / 1 kW/m² × 0.8.

Profiles are by local hour (the neighbourhood's time zone). The outdoor temperature is a
climatology: a yearly mean (from the latitude unless ``mean_temperature_c`` is given), ±9 K over
the year (warmest on 19 July), ±3 K over the day (warmest at 15:00); ``temperature_c`` fixes it.
Clear-sky global horizontal irradiance comes from pvlib (Haurwitz model) at the neighbourhood's
centre, at the middle of each hour.

Need: hours whose net load is above the capacity need less consumption (need = the excess);
hours with a solar surplus (net load below zero) need more (need = the surplus, negative).

Parameters (``Neighbourhood.params``): ``households`` (else the registered locations),
``solar_kwp``, ``kwp_per_inverter`` (5), ``heating_kw_per_k`` (0.12 per HVAC unit),
``mean_temperature_c``, ``temperature_c``, ``latitude``/``longitude`` (else the geometry's centre).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flexhub.platform.engines.forecast import GridArea

# Mean kW by local hour (0-23).
HOUSEHOLD_KW = (
    0.45, 0.40, 0.38, 0.37, 0.38, 0.45, 0.70, 1.00, 0.95, 0.75, 0.65, 0.62,
    0.62, 0.60, 0.60, 0.70, 0.95, 1.30, 1.45, 1.40, 1.25, 1.05, 0.80, 0.60,
)  # fmt: skip
EV_KW = (  # one vehicle or charger: plugged in after work, charging into the night
    0.90, 0.60, 0.35, 0.20, 0.10, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05,
    0.05, 0.05, 0.10, 0.30, 1.40, 2.60, 3.00, 2.80, 2.30, 1.80, 1.40, 1.10,
)  # fmt: skip
HOT_WATER_KW = (  # one tank, at 10 °C outdoors
    0.30, 0.20, 0.20, 0.20, 0.30, 0.80, 1.50, 1.60, 1.00, 0.50, 0.40, 0.40,
    0.40, 0.40, 0.40, 0.50, 0.80, 1.20, 1.30, 1.10, 0.90, 0.70, 0.50, 0.40,
)  # fmt: skip
GENERIC_KW = 0.30
HEATING_BALANCE_C = 17.0
HEATING_KW_PER_K = 0.12
HOT_WATER_PER_K = 0.02  # +2 % energy per kelvin below 10 °C
KWP_PER_INVERTER = 5.0
PERFORMANCE_RATIO = 0.8
VEHICLE_TYPES = ("Vehicle", "Charger")


def _num(params: Mapping[str, Any], key: str, default: float | None) -> float | None:
    value = params.get(key)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return default


def temperature(area: GridArea, when: datetime, zone: ZoneInfo) -> float:
    """Outdoor temperature (°C) at ``when``: fixed, or the climatology described above."""
    fixed = _num(area.params, "temperature_c", None)
    if fixed is not None:
        return fixed
    latitude = area.latitude if area.latitude is not None else 60.0
    mean = _num(area.params, "mean_temperature_c", 30.0 - 0.4 * latitude)
    local = when.astimezone(zone)
    day = local.timetuple().tm_yday
    yearly = 9.0 * math.cos(2 * math.pi * (day - 200) / 365.25)
    daily = 3.0 * math.cos(2 * math.pi * (local.hour + 0.5 - 15) / 24)
    return mean + yearly + daily


def typical_kw(resource_type: str, local_hour: int, outdoor_c: float) -> float:
    """A typical resource's mean power in a local hour (the baseline with no history)."""
    if resource_type in VEHICLE_TYPES:
        return EV_KW[local_hour]
    if resource_type == "HotWaterTank":
        return HOT_WATER_KW[local_hour] * max(0.5, 1 + HOT_WATER_PER_K * (10 - outdoor_c))
    if resource_type == "HVAC":
        return HEATING_KW_PER_K * max(0.0, HEATING_BALANCE_C - outdoor_c)
    if resource_type == "SolarInverter":
        return 0.0
    return GENERIC_KW


def clear_sky_ghi(latitude: float, longitude: float, hours: Sequence[datetime]) -> list[float]:
    """Clear-sky global horizontal irradiance (W/m²) at the middle of each hour (pvlib)."""
    import pandas as pd
    from pvlib.location import Location

    times = pd.DatetimeIndex([h + timedelta(minutes=30) for h in hours])
    with warnings.catch_warnings():  # pvlib's use of pandas APIs deprecated in pandas 3
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        sky = Location(latitude, longitude).get_clearsky(times, model="haurwitz")
    return [max(0.0, float(v)) for v in sky["ghi"].to_numpy()]


class BuiltinForecaster:
    """Net load against capacity, as the module describes."""

    def net_load(self, area: GridArea, hours: Sequence[datetime]) -> list[float]:
        zone = ZoneInfo(area.time_zone)
        counts = area.resources
        households = _num(area.params, "households", float(area.locations)) or 0.0
        vehicles = sum(counts.get(t, 0) for t in VEHICLE_TYPES)
        per_k = _num(area.params, "heating_kw_per_k", HEATING_KW_PER_K) or 0.0
        kwp = (_num(area.params, "solar_kwp", 0.0) or 0.0) + counts.get("SolarInverter", 0) * (
            _num(area.params, "kwp_per_inverter", KWP_PER_INVERTER) or 0.0
        )
        solar = [0.0] * len(hours)
        if kwp > 0 and area.latitude is not None and area.longitude is not None:
            ghi = clear_sky_ghi(area.latitude, area.longitude, hours)
            solar = [kwp * g / 1000 * PERFORMANCE_RATIO for g in ghi]
        out = []
        for hour, pv in zip(hours, solar, strict=True):
            h = hour.astimezone(zone).hour
            t = temperature(area, hour, zone)
            load = households * HOUSEHOLD_KW[h] + vehicles * EV_KW[h]
            load += counts.get("HotWaterTank", 0) * typical_kw("HotWaterTank", h, t)
            load += counts.get("HVAC", 0) * per_k * max(0.0, HEATING_BALANCE_C - t)
            load += counts.get("Generic", 0) * GENERIC_KW
            out.append(load - pv)
        return out

    def need(self, area: GridArea, hours: Sequence[datetime]) -> list[float]:
        need = []
        for net in self.net_load(area, hours):
            if area.capacity_kw is not None and net > area.capacity_kw:
                need.append(round(net - area.capacity_kw, 3))
            elif net < 0:
                need.append(round(net, 3))
            else:
                need.append(0.0)
        return need
