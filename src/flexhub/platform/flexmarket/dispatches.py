"""A system operator issues dispatch instructions against its obligations, and stops them.

Issuing is idempotent on ``so_reference`` (per SO): a repeat returns the first instruction.
The fields the SO may sign are kept exactly as sent (``signed_fields``) and shown to the
provider unchanged, with ``signature``/``signature_algorithm`` relayed untouched.

Stopping creates a ``stop`` instruction (``stops`` = the original's id; it needs no answer and
is ``accepted`` from the start). Its ``start`` is when the stop takes effect (given by the SO,
or by default now, or the original's start if that is later) and its ``end``, ``capacity`` and
``need_direction`` are the original's, so ``hours``/``mwh`` measure what will not be
delivered. The original becomes ``cancelled`` when it is still pending or has not started by
the stop time; an accepted instruction already running at the stop time stays ``accepted`` and
is completed at the stop time. Its own ``end`` is never rewritten (the
SO's signature covers it); ``stopped_by`` points to the stop instruction, whose ``start`` is
the effective end.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.platform.errors import conflict
from flexhub.platform.flexmarket import availability, instructions, lifecycle, wire
from flexhub.platform.flexmarket.fields import Errors, duration, iso
from flexhub.platform.flexmarket.publish import publish
from flexhub.platform.flexmarket.schemas.dispatches import DispatchIn, StopIn
from flexhub.platform.flexmarket.windows import Window, check_instruction
from flexhub.store.flexmarket import FmCompetition, FmDispatchInstruction, FmObligation

D = FmDispatchInstruction
PAST_TOLERANCE = timedelta(seconds=60)  # clock skew allowed for a stop's start


async def _by_reference(
    session: AsyncSession, so_tenant_id: str, so_reference: str
) -> FmDispatchInstruction | None:
    return await session.scalar(
        select(D).where(D.so_tenant_id == so_tenant_id, D.so_reference == so_reference)
    )


async def _repeat(
    session: AsyncSession, row: FmDispatchInstruction, now: datetime
) -> tuple[dict[str, Any], bool]:
    if await lifecycle.settle_instructions(session, now, ids=[row.id]):
        await session.commit()
    return wire.instruction(row), False


def _check_signature(e: Errors, signature: str | None, algorithm: str | None) -> None:
    if signature is not None and not 0 < len(signature) <= 2000:
        e.add("signature", "must be 1 to 2000 characters")
    if algorithm is not None and not 0 < len(algorithm) <= 32:
        e.add("signature_algorithm", "must be 1 to 32 characters")
    if signature is not None and algorithm is None:
        e.add("signature_algorithm", "is required with a signature")
    if algorithm is not None and signature is None:
        e.add("signature", "is required with a signature_algorithm")


def window_of(ob: FmObligation, comp: FmCompetition) -> Window:
    return Window(
        start=ob.start,
        end=ob.end,
        service_days=ob.service_days,
        bank_holidays=ob.bank_holidays,
        start_time=ob.start_time,
        end_time=ob.end_time,
        timezone=comp.timezone,
        holiday_dates={date.fromisoformat(d) for d in comp.bank_holiday_dates or []},
    )


async def issue(
    session: AsyncSession, so_tenant_id: str, body: DispatchIn, now: datetime
) -> tuple[dict[str, Any], bool]:
    """Issue an instruction (True) or return the one with the same ``so_reference`` (False).
    Publishes ``dispatch_instruction.created`` to the provider and commits."""
    existing = await _by_reference(session, so_tenant_id, body.so_reference)
    if existing is not None:
        return await _repeat(session, existing, now)
    e = Errors()
    e.text(body.so_reference, "so_reference")
    if body.instruction_type != "dispatch":
        e.add(
            "instruction_type",
            'must be "dispatch"; stop an instruction with POST /so/v1/dispatches/{id}/stop/',
        )
    ob = await session.scalar(
        select(FmObligation).where(
            FmObligation.id == body.obligation_id, FmObligation.so_tenant_id == so_tenant_id
        )
    )
    if ob is None:
        e.add("obligation_id", "no such obligation of yours")
    start = e.utc_datetime(body.start, "start")
    end = e.utc_datetime(body.end, "end")
    capacity = e.decimal(body.capacity, "capacity", positive=True)
    _check_signature(e, body.signature, body.signature_algorithm)
    if start and end and end <= start:
        e.add("end", "must be later than start")
    elif end and end <= now:
        e.add("end", "is in the past")
    comp = await session.get(FmCompetition, ob.competition_id) if ob is not None else None
    if ob is not None and comp is not None:
        if ob.status == "terminated":
            e.add("obligation_id", "the obligation is terminated")
        if body.need_direction != ob.need_direction:
            e.add(
                "need_direction", f"must be the obligation's need direction ({ob.need_direction})"
            )
        if capacity is not None and capacity > Decimal(ob.capacity):
            e.add("capacity", f"exceeds the obligation's contracted capacity ({ob.capacity} MW)")
        if start and end and start < end:
            for field, message in check_instruction(window_of(ob, comp), start, end).items():
                e.add(field, message)
            runtime = ob.max_runtime_seconds
            if runtime and (end - start).total_seconds() > runtime:
                e.add("end", f"makes the instruction longer than max_runtime ({duration(runtime)})")
    e.raise_if_any()
    assert ob is not None and comp is not None and start and end and capacity is not None
    minimum = await availability.declared_minimum(session, ob.id, start, end)
    row = D(
        id=str(uuid.uuid4()),
        so_tenant_id=so_tenant_id,
        provider_tenant_id=ob.provider_tenant_id,
        obligation_id=ob.id,
        competition_id=ob.competition_id,
        so_reference=body.so_reference,
        instruction_type="dispatch",
        start=start,
        end=end,
        ends_at=end,
        capacity=body.capacity,
        need_direction=body.need_direction,
        power_type=comp.power_type,
        asset_ids=list(ob.assets.get("flex", [])),
        signed_fields={
            "so_reference": body.so_reference,
            "obligation_id": body.obligation_id,
            "start": body.start,
            "end": body.end,
            "capacity": body.capacity,
            "need_direction": body.need_direction,
            "instruction_type": body.instruction_type,
        },
        signature=body.signature,
        signature_algorithm=body.signature_algorithm,
        status="pending",
        respond_by=now + timedelta(seconds=comp.respond_within_seconds),
        exceeds_declared_availability=minimum is not None and capacity > minimum,
        created=now,
        modified=now,
    )
    session.add(row)
    try:
        await session.flush()
    except IntegrityError:  # the same so_reference committed by a concurrent request
        await session.rollback()
        existing = await _by_reference(session, so_tenant_id, body.so_reference)
        if existing is None:
            raise
        return await _repeat(session, existing, now)
    view = wire.instruction(row)
    await publish(session, row.provider_tenant_id, "dispatch_instruction.created", view)
    await session.commit()
    return view, True


async def stop(
    session: AsyncSession,
    so_tenant_id: str,
    instruction_id: str,
    body: StopIn,
    now: datetime,
) -> tuple[dict[str, Any], bool]:
    """Stop a pending or accepted instruction that has not ended; returns the stop instruction
    and whether it is new (a repeat returns the existing stop). Publishes
    ``dispatch_instruction.stopped`` and commits."""
    original = await instructions.settled(session, instruction_id, now, so_tenant_id=so_tenant_id)
    original = await instructions.find(session, original.id, so_tenant_id=so_tenant_id, lock=True)
    if original.instruction_type == "stop":
        raise conflict("a stop instruction cannot itself be stopped")
    if original.stopped_by is not None:
        existing = await instructions.find(session, original.stopped_by, so_tenant_id=so_tenant_id)
        return wire.instruction(existing), False
    if original.status not in ("pending", "accepted"):
        raise conflict(f"the instruction is {original.status}; only pending or accepted ones stop")
    if original.ends_at <= now:
        raise conflict("the instruction has already ended")
    e = Errors()
    reference = body.so_reference
    if reference is None:
        reference = f"{original.so_reference}:stop"
    e.text(reference, "so_reference")
    if body.start is None:
        at = max(now.replace(microsecond=0), original.start)
        start_text = iso(at)
        if body.signature is not None:
            e.add("start", "is required when the stop is signed (it is a signed field)")
    else:
        at = e.utc_datetime(body.start, "start")
        start_text = body.start
        if at is not None and at >= original.end:
            e.add("start", "must be before the end of the instruction it stops")
        elif at is not None and at < now - PAST_TOLERANCE:
            e.add("start", "must not be in the past")
    _check_signature(e, body.signature, body.signature_algorithm)
    if await _by_reference(session, so_tenant_id, reference) is not None:
        e.add("so_reference", "is already used by another instruction")
    e.raise_if_any()
    assert at is not None
    signed = original.signed_fields
    row = D(
        id=str(uuid.uuid4()),
        so_tenant_id=so_tenant_id,
        provider_tenant_id=original.provider_tenant_id,
        obligation_id=original.obligation_id,
        competition_id=original.competition_id,
        so_reference=reference,
        instruction_type="stop",
        stops=original.id,
        start=at,
        end=original.end,
        ends_at=original.end,
        capacity=original.capacity,
        need_direction=original.need_direction,
        power_type=original.power_type,
        asset_ids=list(original.asset_ids),
        signed_fields={
            "so_reference": reference,
            "obligation_id": signed["obligation_id"],
            "start": start_text,
            "end": signed["end"],
            "capacity": signed["capacity"],
            "need_direction": signed["need_direction"],
            "instruction_type": "stop",
        },
        signature=body.signature,
        signature_algorithm=body.signature_algorithm,
        status="accepted",
        respond_by=None,
        created=now,
        modified=now,
    )
    session.add(row)
    if original.status == "pending" or at <= original.start:
        original.status = "cancelled"
    else:
        original.ends_at = at
    original.stopped_by = row.id
    original.modified = now
    try:
        await session.flush()
    except IntegrityError as exc:  # the reference was taken by a concurrent request
        await session.rollback()
        raise conflict("so_reference is already used by another instruction") from exc
    view = wire.instruction(row)
    await publish(session, row.provider_tenant_id, "dispatch_instruction.stopped", view)
    await session.commit()
    return view, True
