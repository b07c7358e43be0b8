"""Meter values as both OCPP versions send them (in ``MeterValues`` and in transaction
messages), read into what the CSMS keeps: the import and export registers (kWh), the power
(kW) and the vehicle's state of charge (%).

A sampled value without a measurand is the import register in Wh. Totals come from values
without a phase; when a station only reports per phase, L1, L2 and L3 are added up. Values
measured at the EV (other than SoC) or at the station's inlet are not the EVSE's, and are
left out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flexhub.agent.protocols.ocpp.profiles import parse_time

IMPORT = "Energy.Active.Import.Register"
EXPORT = "Energy.Active.Export.Register"
POWER = "Power.Active.Import"
POWER_EXPORT = "Power.Active.Export"
SOC = "SoC"
_WANTED = {IMPORT, EXPORT, POWER, POWER_EXPORT, SOC}
_PHASES = {"L1", "L2", "L3", "L1-N", "L2-N", "L3-N"}
_SCALE = {"Wh": 0.001, "kWh": 1.0, "W": 0.001, "kW": 1.0, "Percent": 1.0}


@dataclass(frozen=True, slots=True)
class Reading:
    at: datetime
    import_kwh: float | None = None
    export_kwh: float | None = None
    power_kw: float | None = None
    soc_percent: float | None = None


def _unit(sample: dict[str, Any]) -> tuple[str | None, int]:
    measure = sample.get("unit_of_measure")  # 2.0.1: {"unit": "Wh", "multiplier": 0}
    if isinstance(measure, dict):
        return measure.get("unit"), int(measure.get("multiplier") or 0)
    return sample.get("unit"), 0  # 1.6: "unit": "Wh"


def _value(sample: dict[str, Any], measurand: str) -> float | None:
    try:
        value = float(sample["value"])
    except (KeyError, TypeError, ValueError):
        return None
    unit, multiplier = _unit(sample)
    if unit is None:
        unit = "Percent" if measurand == SOC else ("W" if "Power" in measurand else "Wh")
    scale = _SCALE.get(unit)
    if scale is None:
        return None
    return value * scale * 10**multiplier


def read(meter_values: list[dict[str, Any]] | None) -> list[Reading]:
    """One :class:`Reading` per meter value that says anything the CSMS keeps."""
    out = []
    for mv in meter_values or ():
        at = parse_time(mv.get("timestamp"))
        if at is None:
            continue
        totals: dict[str, float] = {}
        phased: dict[str, float] = {}
        for sample in mv.get("sampled_value") or ():
            measurand = sample.get("measurand") or IMPORT
            if measurand not in _WANTED:
                continue
            location = sample.get("location") or "Outlet"
            if location == "Inlet" or (location == "EV" and measurand != SOC):
                continue
            value = _value(sample, measurand)
            if value is None:
                continue
            phase = sample.get("phase")
            if phase is None:
                totals[measurand] = value
            elif phase in _PHASES:
                phased[measurand] = phased.get(measurand, 0.0) + value
        for measurand, value in phased.items():
            totals.setdefault(measurand, value)
        if not totals:
            continue
        power = totals.get(POWER)
        if power is not None and POWER_EXPORT in totals:
            power -= totals[POWER_EXPORT]
        elif power is None and POWER_EXPORT in totals:
            power = -totals[POWER_EXPORT]
        out.append(
            Reading(
                at=at,
                import_kwh=totals.get(IMPORT),
                export_kwh=totals.get(EXPORT),
                power_kw=power,
                soc_percent=totals.get(SOC),
            )
        )
    return out
