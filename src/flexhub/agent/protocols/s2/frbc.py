"""Fill-rate based control: a schedule in kW becomes FRBC instructions, one per period, each
naming an operation mode of the resource's actuator and a factor between 0 and 1.

An operation mode's electric power at factor ``f`` is ``start + f * (end - start)`` of each of
its electric power ranges, added up (L1, L2, L3 and 3-phase symmetric alike; a 3-phase
symmetric value is read as the total). For each period the mode whose power comes closest to
the wanted kW is chosen (the narrowest on a tie, so that 0 kW is "idle" rather than "charge
at factor 0"), with the factor that gives that power; a period no mode reaches is clipped and
reported. The mode elements used are those covering the last reported fill level. Only the
first actuator is driven, and transitions and timers are not planned around: the resource
manager refuses what it cannot do, and the CEM reports it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from s2python.common import CommodityQuantity
from s2python.frbc import FRBCInstruction, FRBCOperationModeElement, FRBCSystemDescription

from flexhub.agent.protocols.periods import Period

ELECTRIC = {
    CommodityQuantity.ELECTRIC_POWER_L1,
    CommodityQuantity.ELECTRIC_POWER_L2,
    CommodityQuantity.ELECTRIC_POWER_L3,
    CommodityQuantity.ELECTRIC_POWER_3_PHASE_SYMMETRIC,
}


@dataclass(frozen=True, slots=True)
class ModeRange:
    actuator_id: uuid.UUID
    mode_id: uuid.UUID
    label: str
    w0: float  # electric W at factor 0
    w1: float  # at factor 1


@dataclass(frozen=True, slots=True)
class Choice:
    actuator_id: uuid.UUID
    mode_id: uuid.UUID
    factor: float
    kw: float  # what the mode gives at that factor
    clipped: bool


def _electric_w(element: FRBCOperationModeElement, factor: float) -> float:
    return sum(
        r.start_of_range + factor * (r.end_of_range - r.start_of_range)
        for r in element.power_ranges
        if r.commodity_quantity in ELECTRIC
    )


def _element(elements: Sequence[FRBCOperationModeElement], fill_level: float | None):
    if fill_level is None:
        return elements[0]

    def distance(e: FRBCOperationModeElement) -> float:
        lo, hi = e.fill_level_range.start_of_range, e.fill_level_range.end_of_range
        return max(lo - fill_level, fill_level - hi, 0.0)

    return min(elements, key=distance)


def mode_ranges(description: FRBCSystemDescription, fill_level: float | None) -> list[ModeRange]:
    """The power each normal operation mode of the first actuator spans, at ``fill_level``."""
    actuator = description.actuators[0]
    out = []
    for mode in actuator.operation_modes:
        if mode.abnormal_condition_only:
            continue
        element = _element(mode.elements, fill_level)
        out.append(
            ModeRange(
                actuator.id,
                mode.id,
                mode.diagnostic_label or str(mode.id),
                _electric_w(element, 0.0),
                _electric_w(element, 1.0),
            )
        )
    return out


def choose(ranges: Sequence[ModeRange], kw: float) -> Choice:
    """The mode and factor closest to ``kw``."""
    if not ranges:
        raise ValueError("the resource describes no operation mode")
    target = kw * 1000

    def fit(r: ModeRange) -> tuple[float, float, float]:
        lo, hi = min(r.w0, r.w1), max(r.w0, r.w1)
        reach = min(max(target, lo), hi)
        return abs(reach - target), hi - lo, reach

    best = min(ranges, key=lambda r: fit(r)[:2])
    miss, _, reach = fit(best)
    span = best.w1 - best.w0
    factor = (reach - best.w0) / span if span else 0.0
    factor = min(max(factor, 0.0), 1.0)
    return Choice(best.actuator_id, best.mode_id, factor, reach / 1000, miss > 1.0)


def plan(
    periods: Sequence[Period], description: FRBCSystemDescription, fill_level: float | None
) -> list[tuple[Period, Choice]]:
    ranges = mode_ranges(description, fill_level)
    return [(p, choose(ranges, p.kw)) for p in periods]


def instruction(choice: Choice, at: datetime) -> FRBCInstruction:
    return FRBCInstruction(
        message_id=uuid.uuid4(),
        id=uuid.uuid4(),
        actuator_id=choice.actuator_id,
        operation_mode=choice.mode_id,
        operation_mode_factor=choice.factor,
        execution_time=at,
        abnormal_condition=False,
    )
