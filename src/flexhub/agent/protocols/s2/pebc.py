"""Power-envelope based control: a cap (or a held setpoint) becomes a PEBC instruction whose
envelope has one element per period, within the limit ranges the resource manager allows in
its ``PEBC.PowerConstraints``. Upper limits outside the allowed range are clipped to it (and
reported); where no lower limit is asked for, the lowest allowed one is used, so that the
envelope constrains only from above. Periods that last until further notice are sent as
envelopes of a year."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta

from s2python.common import Duration, NumberRange
from s2python.pebc import (
    PEBCInstruction,
    PEBCPowerConstraints,
    PEBCPowerEnvelope,
    PEBCPowerEnvelopeElement,
    PEBCPowerEnvelopeLimitType,
)

from flexhub.agent.protocols.periods import OPEN_END, Period

LONGEST = timedelta(days=365)


def _boundary(constraints: PEBCPowerConstraints, kind: PEBCPowerEnvelopeLimitType):
    for r in constraints.allowed_limit_ranges:
        if r.limit_type == kind and not r.abnormal_condition_only:
            return r.commodity_quantity, r.range_boundary
    raise ValueError(f"the power constraints allow no {kind.value}")


def _clamp(value: float, boundary: NumberRange) -> float:
    return min(max(value, boundary.start_of_range), boundary.end_of_range)


def envelope(
    constraints: PEBCPowerConstraints, upper: Sequence[Period], hold: bool = False
) -> tuple[PEBCInstruction, tuple]:
    """The instruction for ``upper`` (kW per period), and the starts of the periods whose
    limit had to be clipped. ``hold``: the lower limit is the upper one too (a setpoint)."""
    quantity, up_range = _boundary(constraints, PEBCPowerEnvelopeLimitType.UPPER_LIMIT)
    _, low_range = _boundary(constraints, PEBCPowerEnvelopeLimitType.LOWER_LIMIT)
    elements, clipped = [], []
    for p in upper:
        end = p.start + LONGEST if p.end >= OPEN_END else p.end
        high = _clamp(p.kw * 1000, up_range)
        if abs(high - p.kw * 1000) > 1.0:
            clipped.append(p.start)
        low = _clamp(high, low_range) if hold else low_range.start_of_range
        elements.append(
            PEBCPowerEnvelopeElement(
                duration=Duration.from_timedelta(end - p.start),
                upper_limit=high,
                lower_limit=min(low, high),
            )
        )
    message = PEBCInstruction(
        message_id=uuid.uuid4(),
        id=uuid.uuid4(),
        execution_time=upper[0].start,
        abnormal_condition=False,
        power_constraints_id=constraints.id,
        power_envelopes=[
            PEBCPowerEnvelope(
                id=str(uuid.uuid4()), commodity_quantity=quantity, power_envelope_elements=elements
            )
        ],
    )
    return message, tuple(clipped)
