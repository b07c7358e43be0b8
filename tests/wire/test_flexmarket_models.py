"""The Flex Market wire models and values as a client uses them."""

from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal

import pytest
from pydantic import ValidationError

from flexhub.wire.flexmarket import values
from flexhub.wire.flexmarket.dispatches import DispatchIn
from flexhub.wire.flexmarket.webhooks import WebhookClaims

INSTRUCTION = {
    "id": "di-1",
    "so_reference": "so-1",
    "obligation_id": "ob-1",
    "competition_id": "c-1",
    "flex_provider_id": "p-1",
    "asset_ids": ["a-1"],
    "instruction_type": "dispatch",
    "stops": None,
    "stopped_by": None,
    "start": "2026-06-02T16:00:00Z",
    "end": "2026-06-02T17:30:00Z",
    "hours": "1.500",
    "capacity": "2.000",
    "mwh": "3.000",
    "need_direction": "deficit",
    "power_type": "active",
    "status": "pending",
    "respond_by": "2026-06-02T15:00:00Z",
    "responded_at": None,
    "reason": None,
    "exceeds_declared_availability": False,
    "signature": None,
    "signature_algorithm": None,
    "created": "2026-06-02T14:00:00Z",
    "modified": "2026-06-02T14:00:00Z",
}


def test_claims_carry_an_instruction_or_an_obligation():
    claims = WebhookClaims(
        iss="https://hub",
        iat=1,
        exp=301,
        jti="ev-1",
        event="dispatch_instruction.created",
        data=INSTRUCTION,
    )
    instruction = claims.instruction()
    assert instruction.capacity == "2.000" and instruction.status == "pending"
    with pytest.raises(ValueError, match="carries no obligation"):
        claims.obligation()


def test_values_round_trip():
    assert values.iso(datetime(2026, 6, 2, 16, tzinfo=UTC)) == "2026-06-02T16:00:00Z"
    assert values.parse_instant("2026-06-02T17:00:00+01:00") == datetime(2026, 6, 2, 16, tzinfo=UTC)
    with pytest.raises(ValueError):
        values.parse_instant("2026-06-02T16:00:00")
    assert values.duration(90061) == "25:01:01"
    assert values.parse_duration("25:01:01") == 90061
    assert values.parse_duration("1 01:01:01") == 90061
    with pytest.raises(ValueError):
        values.parse_duration("1:1")
    assert values.hms(time(7, 5)) == "07:05:00"
    assert values.quantity(Decimal("1.23456")) == "1.235"


def test_requests_keep_strings_exactly_and_refuse_other_types():
    body = DispatchIn(
        so_reference="r",
        obligation_id="o",
        start="2026-06-02T16:00:00Z",
        end="2026-06-02T17:00:00Z",
        capacity="1.50",
        need_direction="deficit",
    )
    assert body.model_dump()["capacity"] == "1.50"
    with pytest.raises(ValidationError):
        DispatchIn.model_validate({**body.model_dump(), "capacity": 1.5})
    with pytest.raises(ValidationError):
        DispatchIn.model_validate({**body.model_dump(), "colour": "red"})
