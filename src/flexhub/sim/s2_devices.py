"""What the simulated S2 devices are over S2: each device of
:mod:`flexhub.agent.optimize.devices` as operation modes (power and fill rate at factors 0 and 1),
its FRBC system description and actuator status, its PEBC power constraints; and the devices
``flexhub sim s2`` makes up."""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from s2python.common import Commodity, NumberRange, PowerRange, Transition
from s2python.frbc import (
    FRBCActuatorDescription,
    FRBCActuatorStatus,
    FRBCOperationMode,
    FRBCOperationModeElement,
    FRBCStorageDescription,
    FRBCSystemDescription,
)
from s2python.pebc import (
    PEBCAllowedLimitRange,
    PEBCPowerConstraints,
    PEBCPowerEnvelopeConsequenceType,
    PEBCPowerEnvelopeLimitType,
)

from flexhub.agent.optimize.devices import EV, HomeBattery, WaterHeater

SimDevice = HomeBattery | WaterHeater | EV


@dataclass(frozen=True)
class Mode:
    id: uuid.UUID
    label: str
    w0: float  # electric W at factor 0 ...
    w1: float  # ... and at factor 1
    rate0: float  # fill level per second at factor 0 and 1
    rate1: float

    def kw(self, factor: float) -> float:
        return (self.w0 + factor * (self.w1 - self.w0)) / 1000


def modes_of(device: SimDevice, ns: uuid.UUID) -> list[Mode]:
    def mode(label: str, w0: float, w1: float, r0: float, r1: float) -> Mode:
        return Mode(uuid.uuid5(ns, label), label, w0, w1, r0, r1)

    if isinstance(device, HomeBattery):
        eff = math.sqrt(device.round_trip_efficiency)
        c, d = device.max_charge_kw, device.max_discharge_kw
        return [
            mode("charge", 0, c * 1000, 0, c * eff / 3600),
            mode("idle", 0, 0, 0, 0),
            mode("discharge", -d * 1000, 0, -d / eff / 3600, 0),
        ]
    if isinstance(device, WaterHeater):
        heat = device.heater_kw * device.efficiency / device.capacity_kwh_per_k / 3600
        return [mode("heat", 0, device.heater_kw * 1000, 0, heat), mode("off", 0, 0, 0, 0)]
    rate = device.max_charge_kw * device.efficiency / 3600
    return [mode("charge", 0, device.max_charge_kw * 1000, 0, rate), mode("idle", 0, 0, 0, 0)]


def fill_range(device: SimDevice) -> tuple[float, float, str]:
    if isinstance(device, WaterHeater):
        return device.t_cold, device.t_max, "°C"
    return 0.0, device.capacity_kwh, "kWh"


def system_description(rm: Any, now: datetime) -> FRBCSystemDescription:
    """The FRBC description of a simulated resource manager ``rm``'s device."""
    lo, hi, label = fill_range(rm.device)
    modes = [
        FRBCOperationMode(
            id=m.id,
            diagnostic_label=m.label,
            elements=[
                FRBCOperationModeElement(
                    fill_level_range=NumberRange(start_of_range=lo, end_of_range=hi),
                    fill_rate=NumberRange(start_of_range=m.rate0, end_of_range=m.rate1),
                    power_ranges=[
                        PowerRange(
                            start_of_range=m.w0,
                            end_of_range=m.w1,
                            commodity_quantity=rm.quantity,
                        )
                    ],
                )
            ],
            abnormal_condition_only=False,
        )
        for m in rm.modes
    ]
    transitions = [
        Transition(
            id=uuid.uuid5(rm.rm_id, f"{a.label}->{b.label}"),
            **{"from": a.id},
            to=b.id,
            start_timers=[],
            blocking_timers=[],
            abnormal_condition_only=False,
        )
        for a in rm.modes
        for b in rm.modes
        if a is not b
    ]
    return FRBCSystemDescription(
        message_id=uuid.uuid4(),
        valid_from=now,
        actuators=[
            FRBCActuatorDescription(
                id=rm.actuator_id,
                diagnostic_label=type(rm.device).__name__,
                supported_commodities=[Commodity.ELECTRICITY],
                operation_modes=modes,
                transitions=transitions,
                timers=[],
            )
        ],
        storage=FRBCStorageDescription(
            diagnostic_label=type(rm.device).__name__,
            fill_level_label=label,
            provides_leakage_behaviour=False,
            provides_fill_level_target_profile=False,
            provides_usage_forecast=False,
            fill_level_range=NumberRange(start_of_range=lo, end_of_range=hi),
        ),
    )


def actuator_status(rm: Any, mode: Mode, factor: float) -> FRBCActuatorStatus:
    return FRBCActuatorStatus(
        message_id=uuid.uuid4(),
        actuator_id=rm.actuator_id,
        active_operation_mode_id=mode.id,
        operation_mode_factor=factor,
    )


def power_constraints(rm: Any, now: datetime) -> PEBCPowerConstraints:
    """What the device allows as a power envelope: 0 to its full power."""
    top = max(m.w1 for m in rm.modes)
    boundary = NumberRange(start_of_range=0, end_of_range=top)
    return PEBCPowerConstraints(
        message_id=uuid.uuid4(),
        id=rm.constraints_id,
        valid_from=now,
        consequence_type=PEBCPowerEnvelopeConsequenceType.DEFER,
        allowed_limit_ranges=[
            PEBCAllowedLimitRange(
                commodity_quantity=rm.quantity,
                limit_type=kind,
                range_boundary=boundary,
                abnormal_condition_only=False,
            )
            for kind in (
                PEBCPowerEnvelopeLimitType.UPPER_LIMIT,
                PEBCPowerEnvelopeLimitType.LOWER_LIMIT,
            )
        ],
    )


KINDS = ("battery", "tank", "ev")


def random_device(kind: str, rng: random.Random, now: datetime) -> SimDevice:
    """A home battery, a hot water tank (with morning and evening draws) or a plugged-in EV."""
    if kind == "battery":
        capacity = rng.choice([5.0, 10.0, 13.5])
        power = min(5.0, capacity / 2)
        return HomeBattery(capacity, power, power, soc_kwh=capacity * rng.uniform(0.2, 0.8))
    if kind == "tank":
        draws = [0.0] * 24
        draws[7], draws[8], draws[19], draws[20] = 40.0, 20.0, 30.0, 20.0
        return WaterHeater(
            200, 3.0, t_min=45, t_max=75, temperature=rng.uniform(50, 70), draw_l=tuple(draws)
        )
    if kind == "ev":
        capacity = rng.choice([40.0, 60.0, 77.0])
        return EV(
            capacity,
            11.0,
            plug_in=now,
            departure=now + timedelta(hours=rng.uniform(4, 12)),
            energy_needed_kwh=20.0,
            soc_kwh=capacity * rng.uniform(0.1, 0.5),
        )
    raise ValueError(f"kind is one of {', '.join(KINDS)}")
