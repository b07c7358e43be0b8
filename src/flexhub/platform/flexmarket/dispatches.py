"""A system operator issues dispatch instructions against its obligations, and stops them.

Issuing is idempotent on ``so_reference`` (per SO): a repeat of the same request returns the
first instruction (200). A request that reuses an ``so_reference`` with different signed fields
or signature is a 409 naming the fields that differ: it cannot be a retry, and answering it
with the first instruction would let the SO believe its new instruction went out.
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
the effective end. A stop may not take effect before the original's start (its ``hours``
would count time the original never asked for). Stopping is idempotent too: a second stop of
the same instruction returns the first stop (200) unless it names a different
``so_reference``, ``start`` or signature (409).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.platform.errors import conflict
from flexhub.platform.flexmarket import availability, instructions, lifecycle, wire
from flexhub.platform.flexmarket.fields import Errors, duration, iso
from flexhub.platform.flexmarket.publish import publish
from flexhub.platform.flexmarket.schemas.dispatches import DispatchIn, StopIn
from flexhub.platform.flexmarket.windows import Window, check_instruction
from flexhub.signing import SO_SIGNED_FIELDS
from flexhub.store.flexmarket import FmCompetition, FmDispatchInstruction, FmObligation

D = FmDispatchInstruction
PAST_TOLERANCE = timedelta(seconds=60)  # clock skew allowed for a stop's start
REFERENCE_LENGTH = 200
STOP_TRIES = 3  # a stop racing an answer re-reads the instruction and decides again
_SIGNATURE = ("signature", "signature_algorithm")


async def _by_reference(
    session: AsyncSession, so_tenant_id: str, so_reference: str
) -> FmDispatchInstruction | None:
    return await session.scalar(
        select(D).where(D.so_tenant_id == so_tenant_id, D.so_reference == so_reference)
    )


def _differences(row: FmDispatchInstruction, sent: dict[str, Any]) -> list[str]:
    """The fields of ``sent`` (signed fields, signature) that ``row`` holds differently."""
    kept = {
        **row.signed_fields,
        "signature": row.signature,
        "signature_algorithm": row.signature_algorithm,
    }
    return [name for name, value in sent.items() if kept.get(name) != value]


async def _repeat(
    session: AsyncSession, row: FmDispatchInstruction, body: DispatchIn, now: datetime
) -> tuple[dict[str, Any], bool]:
    """The first instruction for a repeated ``so_reference``; 409 unless the request is the
    same (every signed field and the signature as the first one sent them)."""
    differ = _differences(row, body.model_dump(include={*SO_SIGNED_FIELDS, *_SIGNATURE}))
    if differ:
        raise conflict(
            f"so_reference {row.so_reference!r} is already used by instruction {row.id}, "
            f"which has a different {', '.join(differ)}; a repeat must send the same fields "
            "and a new instruction a new so_reference"
        )
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


def _instruction(
    parent: dict[str, Any],
    signed: dict[str, str],
    start: datetime,
    end: datetime,
    now: datetime,
    **state: Any,
) -> FmDispatchInstruction:
    """A new instruction row: ``parent`` names its tenants, obligation, competition, power
    type and assets; ``signed`` holds the signed fields as sent; ``state`` the rest."""
    return D(
        id=str(uuid.uuid4()),
        **parent,
        so_reference=signed["so_reference"],
        instruction_type=signed["instruction_type"],
        start=start,
        end=end,
        ends_at=end,
        capacity=signed["capacity"],
        need_direction=signed["need_direction"],
        signed_fields=signed,
        created=now,
        modified=now,
        **state,
    )


async def _published(
    session: AsyncSession, row: FmDispatchInstruction, event_type: str
) -> dict[str, Any]:
    """Publish ``row`` (already flushed) to its provider and commit; its wire view."""
    view = wire.instruction(row)
    await publish(session, row.provider_tenant_id, event_type, view)
    await session.commit()
    return view


async def issue(
    session: AsyncSession, so_tenant_id: str, body: DispatchIn, now: datetime
) -> tuple[dict[str, Any], bool]:
    """Issue an instruction (True) or return the one with the same ``so_reference`` (False).
    Publishes ``dispatch_instruction.created`` to the provider and commits."""
    existing = await _by_reference(session, so_tenant_id, body.so_reference)
    if existing is not None:
        return await _repeat(session, existing, body, now)
    e = Errors()
    e.text(body.so_reference, "so_reference", max_length=REFERENCE_LENGTH)
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
    parent = {
        "so_tenant_id": so_tenant_id,
        "provider_tenant_id": ob.provider_tenant_id,
        "obligation_id": ob.id,
        "competition_id": ob.competition_id,
        "power_type": comp.power_type,
        "asset_ids": list(ob.assets.get("flex", [])),
    }
    row = _instruction(
        parent,
        body.model_dump(include=set(SO_SIGNED_FIELDS)),
        start,
        end,
        now,
        signature=body.signature,
        signature_algorithm=body.signature_algorithm,
        status="pending",
        respond_by=now + timedelta(seconds=comp.respond_within_seconds),
        exceeds_declared_availability=minimum is not None and capacity > minimum,
    )
    session.add(row)
    try:
        await session.flush()
    except IntegrityError:  # the same so_reference committed by a concurrent request
        await session.rollback()
        existing = await _by_reference(session, so_tenant_id, body.so_reference)
        if existing is None:
            raise
        return await _repeat(session, existing, body, now)
    return await _published(session, row, "dispatch_instruction.created"), True


def _same_stop(stop_row: FmDispatchInstruction, body: StopIn) -> None:
    """409 unless ``body`` asks for the stop ``stop_row`` already is (fields it leaves out
    take their defaults, which the first stop already has)."""
    sent = body.model_dump(include={"so_reference", "start", *_SIGNATURE}, exclude_none=True)
    differ = _differences(stop_row, sent)
    if differ:
        raise conflict(
            f"the instruction is already stopped by {stop_row.id} "
            f"(so_reference {stop_row.so_reference!r}), which has a different {', '.join(differ)}"
        )


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
    for _ in range(STOP_TRIES):
        done = await _try_stop(session, so_tenant_id, instruction_id, body, now)
        if done is not None:
            return done
    raise conflict("the instruction kept changing while it was being stopped; try again")


async def _try_stop(
    session: AsyncSession,
    so_tenant_id: str,
    instruction_id: str,
    body: StopIn,
    now: datetime,
) -> tuple[dict[str, Any], bool] | None:
    """One attempt; None when a concurrent answer or stop changed the original first."""
    original = await instructions.settled(session, instruction_id, now, so_tenant_id=so_tenant_id)
    original = await instructions.find(session, original.id, so_tenant_id=so_tenant_id, lock=True)
    if original.instruction_type == "stop":
        raise conflict("a stop instruction cannot itself be stopped")
    if original.stopped_by is not None:
        existing = await instructions.find(session, original.stopped_by, so_tenant_id=so_tenant_id)
        _same_stop(existing, body)
        return wire.instruction(existing), False
    if original.status not in ("pending", "accepted"):
        raise conflict(f"the instruction is {original.status}; only pending or accepted ones stop")
    if original.ends_at <= now:
        raise conflict("the instruction has already ended")
    e = Errors()
    if body.so_reference is not None:
        reference = e.text(body.so_reference, "so_reference", max_length=REFERENCE_LENGTH)
    else:
        reference = f"{original.so_reference}:stop"
        if len(reference) > REFERENCE_LENGTH:
            e.add(
                "so_reference",
                f'is required here: the default (the instruction\'s so_reference + ":stop") '
                f"would be longer than {REFERENCE_LENGTH} characters",
            )
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
        elif at is not None and at < original.start:
            e.add(
                "start",
                f"must not be before the start of the instruction it stops ({iso(original.start)})",
            )
        elif at is not None and at < now - PAST_TOLERANCE:
            e.add("start", "must not be in the past")
    _check_signature(e, body.signature, body.signature_algorithm)
    taken = await _by_reference(session, so_tenant_id, reference) if reference else None
    if taken is not None and taken.stops == original.id:
        await session.rollback()  # a concurrent stop of this instruction won: decide again
        return None
    if taken is not None:
        e.add("so_reference", "is already used by another instruction")
    e.raise_if_any()
    assert at is not None and reference is not None
    parent = {
        name: getattr(original, name)
        for name in ("so_tenant_id", "provider_tenant_id", "obligation_id", "competition_id")
    }
    parent.update(power_type=original.power_type, asset_ids=list(original.asset_ids))
    signed = {
        **original.signed_fields,
        "so_reference": reference,
        "start": start_text,
        "instruction_type": "stop",
    }
    row = _instruction(
        parent,
        signed,
        at,
        original.end,
        now,
        stops=original.id,
        signature=body.signature,
        signature_algorithm=body.signature_algorithm,
        status="accepted",
        respond_by=None,
    )
    # the original changes only if nobody answered or stopped it since it was read
    changes: dict[str, Any] = {"stopped_by": row.id, "modified": now}
    if original.status == "pending" or at <= original.start:
        changes["status"] = "cancelled"
    else:
        changes["ends_at"] = at
    result = await session.execute(
        update(D)
        .where(D.id == original.id, D.stopped_by.is_(None), D.status == original.status)
        .values(**changes)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        await session.rollback()
        return None
    session.add(row)
    try:
        await session.flush()
    except IntegrityError:  # the reference was taken concurrently: decide again with it seen
        await session.rollback()
        return None
    return await _published(session, row, "dispatch_instruction.stopped"), True
