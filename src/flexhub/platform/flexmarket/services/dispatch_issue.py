"""A system operator issues dispatch instructions against its obligations.

Issuing is idempotent on ``so_reference`` (per SO): a repeat of the same request returns the
first instruction (200). A request that reuses an ``so_reference`` with different signed fields
or signature is a 409 naming the fields that differ: it cannot be a retry, and answering it
with the first instruction would let the SO believe its new instruction went out.
The fields the SO may sign are kept exactly as sent (``signed_fields``) and shown to the
provider unchanged, with ``signature``/``signature_algorithm`` relayed untouched.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import and_, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.platform.errors import conflict
from flexhub.platform.flexmarket import mappers
from flexhub.platform.flexmarket.checks import Errors
from flexhub.platform.flexmarket.services import availability, lifecycle
from flexhub.platform.flexmarket.services.dispatch_rows import (
    REFERENCE_LENGTH,
    SIGNATURE_FIELDS,
    by_reference,
    check_signature,
    differences,
    new_instruction,
    publish,
    window_of,
)
from flexhub.platform.flexmarket.services.windows import check_instruction
from flexhub.signing import SO_SIGNED_FIELDS
from flexhub.store.flexmarket import (
    FmAvailabilityVariation,
    FmCompetition,
    FmDispatchInstruction,
    FmObligation,
)
from flexhub.wire.flexmarket.dispatches import DispatchIn, InstructionOut
from flexhub.wire.flexmarket.values import duration


@dataclass(frozen=True)
class CheckedDispatch:
    """A dispatch request with every value checked: its obligation and competition, and its
    parsed period and capacity."""

    body: DispatchIn
    obligation: FmObligation
    competition: FmCompetition
    start: datetime
    end: datetime
    capacity: Decimal


async def _repeat(
    session: AsyncSession, row: FmDispatchInstruction, body: DispatchIn, now: datetime
) -> tuple[InstructionOut, bool]:
    """The first instruction for a repeated ``so_reference``; 409 unless the request is the
    same (every signed field and the signature as the first one sent them)."""
    differ = differences(row, body.model_dump(include={*SO_SIGNED_FIELDS, *SIGNATURE_FIELDS}))
    if differ:
        raise conflict(
            f"so_reference {row.so_reference!r} is already used by instruction {row.id}, "
            f"which has a different {', '.join(differ)}; a repeat must send the same fields "
            "and a new instruction a new so_reference"
        )
    if await lifecycle.settle_instruction(session, row, now):
        await session.commit()
    return mappers.instruction(row), False


def _check_against_obligation(
    e: Errors,
    body: DispatchIn,
    ob: FmObligation,
    comp: FmCompetition,
    capacity: Decimal | None,
    start: datetime | None,
    end: datetime | None,
) -> None:
    if ob.status == "terminated":
        e.add("obligation_id", "the obligation is terminated")
    if body.need_direction != ob.need_direction:
        e.add("need_direction", f"must be the obligation's need direction ({ob.need_direction})")
    if capacity is not None and capacity > Decimal(ob.capacity):
        e.add("capacity", f"exceeds the obligation's contracted capacity ({ob.capacity} MW)")
    if start and end and start < end:
        for field, message in check_instruction(window_of(ob, comp), start, end).items():
            e.add(field, message)
        runtime = ob.max_runtime_seconds
        if runtime and (end - start).total_seconds() > runtime:
            e.add("end", f"makes the instruction longer than max_runtime ({duration(runtime)})")


async def _obligation_and_first(
    session: AsyncSession, so_tenant_id: str, body: DispatchIn
) -> tuple[FmObligation | None, FmCompetition | None, FmDispatchInstruction | None, bool]:
    """The obligation ``body`` names (the SO's) with its competition, the instruction issued
    already under ``body.so_reference``, and whether the provider ever declared the
    obligation's availability, in one round trip (this runs on every dispatch); the
    instruction is looked up alone when the obligation is not found."""
    declared = exists().where(FmAvailabilityVariation.obligation_id == FmObligation.id)
    found = (
        await session.execute(
            select(FmObligation, FmCompetition, FmDispatchInstruction, declared)
            .outerjoin(FmCompetition, FmCompetition.id == FmObligation.competition_id)
            .outerjoin(
                FmDispatchInstruction,
                and_(
                    FmDispatchInstruction.so_tenant_id == so_tenant_id,
                    FmDispatchInstruction.so_reference == body.so_reference,
                ),
            )
            .where(FmObligation.id == body.obligation_id, FmObligation.so_tenant_id == so_tenant_id)
        )
    ).first()
    if found is None:
        return None, None, await by_reference(session, so_tenant_id, body.so_reference), False
    ob, comp, first, any_declared = found
    return ob, comp, first, bool(any_declared)


def check_dispatch(
    body: DispatchIn, now: datetime, ob: FmObligation | None, comp: FmCompetition | None
) -> CheckedDispatch:
    """Every field of a new instruction checked (one 400 naming each bad field): its own
    values, then against its obligation (need, capacity, service window, runtime)."""
    e = Errors()
    e.text(body.so_reference, "so_reference", max_length=REFERENCE_LENGTH)
    if body.instruction_type != "dispatch":
        e.add(
            "instruction_type",
            'must be "dispatch"; stop an instruction with POST /so/v1/dispatches/{id}/stop/',
        )
    if ob is None:
        e.add("obligation_id", "no such obligation of yours")
    start = e.utc_datetime(body.start, "start")
    end = e.utc_datetime(body.end, "end")
    capacity = e.decimal(body.capacity, "capacity", positive=True)
    check_signature(e, body.signature, body.signature_algorithm)
    if start and end and end <= start:
        e.add("end", "must be later than start")
    elif end and end <= now:
        e.add("end", "is in the past")
    if ob is not None and comp is not None:
        _check_against_obligation(e, body, ob, comp, capacity, start, end)
    e.raise_if_any()
    assert ob is not None and comp is not None and start and end and capacity is not None
    return CheckedDispatch(body, ob, comp, start, end, capacity)


async def _new_row(
    session: AsyncSession,
    so_tenant_id: str,
    checked: CheckedDispatch,
    now: datetime,
    declared: bool,
) -> FmDispatchInstruction:
    ob, comp, body = checked.obligation, checked.competition, checked.body
    minimum = None
    if declared:  # (no query for an obligation whose availability was never declared)
        minimum = await availability.declared_minimum(session, ob.id, checked.start, checked.end)
    parent = {
        "so_tenant_id": so_tenant_id,
        "provider_tenant_id": ob.provider_tenant_id,
        "obligation_id": ob.id,
        "competition_id": ob.competition_id,
        "power_type": comp.power_type,
        "asset_ids": list(ob.assets.get("flex", [])),
    }
    return new_instruction(
        parent,
        body.model_dump(include=set(SO_SIGNED_FIELDS)),
        checked.start,
        checked.end,
        now,
        signature=body.signature,
        signature_algorithm=body.signature_algorithm,
        status="pending",
        respond_by=now + timedelta(seconds=comp.respond_within_seconds),
        exceeds_declared_availability=minimum is not None and checked.capacity > minimum,
    )


async def issue(
    session: AsyncSession, so_tenant_id: str, body: DispatchIn, now: datetime
) -> tuple[InstructionOut, bool]:
    """Issue an instruction (True) or return the one with the same ``so_reference`` (False).
    Publishes ``dispatch_instruction.created`` to the provider and commits."""
    ob, comp, existing, declared = await _obligation_and_first(session, so_tenant_id, body)
    if existing is not None:
        return await _repeat(session, existing, body, now)
    checked = check_dispatch(body, now, ob, comp)
    row = await _new_row(session, so_tenant_id, checked, now, declared)
    session.add(row)
    try:
        await session.flush()
    except IntegrityError:  # the same so_reference committed by a concurrent request
        await session.rollback()
        existing = await by_reference(session, so_tenant_id, body.so_reference)
        if existing is None:
            raise
        return await _repeat(session, existing, body, now)
    return await publish(session, row, "dispatch_instruction.created"), True
