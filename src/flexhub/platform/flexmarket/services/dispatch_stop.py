"""A system operator stops one of its dispatch instructions.

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

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.platform.errors import conflict
from flexhub.platform.flexmarket import mappers
from flexhub.platform.flexmarket.checks import Errors
from flexhub.platform.flexmarket.services import dispatch_read
from flexhub.platform.flexmarket.services.dispatch_rows import (
    REFERENCE_LENGTH,
    SIGNATURE_FIELDS,
    by_reference,
    check_signature,
    differences,
    new_instruction,
    publish,
)
from flexhub.store.flexmarket import FmDispatchInstruction
from flexhub.wire.flexmarket.dispatches import InstructionOut, StopIn
from flexhub.wire.flexmarket.values import iso

D = FmDispatchInstruction
PAST_TOLERANCE = timedelta(seconds=60)  # clock skew allowed for a stop's start
STOP_TRIES = 3  # a stop racing an answer re-reads the instruction and decides again


@dataclass(frozen=True)
class CheckedStop:
    """A stop request checked against the instruction it stops: its reference, the instant it
    takes effect and that instant's text as signed."""

    reference: str
    at: datetime
    start_text: str


def _same_stop(stop_row: FmDispatchInstruction, body: StopIn) -> None:
    """409 unless ``body`` asks for the stop ``stop_row`` already is (fields it leaves out
    take their defaults, which the first stop already has)."""
    sent = body.model_dump(include={"so_reference", "start", *SIGNATURE_FIELDS}, exclude_none=True)
    differ = differences(stop_row, sent)
    if differ:
        raise conflict(
            f"the instruction is already stopped by {stop_row.id} "
            f"(so_reference {stop_row.so_reference!r}), which has a different {', '.join(differ)}"
        )


def _reference(e: Errors, original: FmDispatchInstruction, body: StopIn) -> str | None:
    if body.so_reference is not None:
        return e.text(body.so_reference, "so_reference", max_length=REFERENCE_LENGTH)
    reference = f"{original.so_reference}:stop"
    if len(reference) > REFERENCE_LENGTH:
        e.add(
            "so_reference",
            f'is required here: the default (the instruction\'s so_reference + ":stop") '
            f"would be longer than {REFERENCE_LENGTH} characters",
        )
    return reference


def _effective(
    e: Errors, original: FmDispatchInstruction, body: StopIn, now: datetime
) -> tuple[datetime | None, str | None]:
    """When the stop takes effect, and that instant as the signed text."""
    if body.start is None:
        at = max(now.replace(microsecond=0), original.start)
        if body.signature is not None:
            e.add("start", "is required when the stop is signed (it is a signed field)")
        return at, iso(at)
    at = e.utc_datetime(body.start, "start")
    if at is not None and at >= original.end:
        e.add("start", "must be before the end of the instruction it stops")
    elif at is not None and at < original.start:
        e.add(
            "start",
            f"must not be before the start of the instruction it stops ({iso(original.start)})",
        )
    elif at is not None and at < now - PAST_TOLERANCE:
        e.add("start", "must not be in the past")
    return at, body.start


async def _check_stop(
    session: AsyncSession,
    so_tenant_id: str,
    original: FmDispatchInstruction,
    body: StopIn,
    now: datetime,
) -> CheckedStop | None:
    """Every field of the stop checked (one 400 naming each bad field); None when a concurrent
    stop of this instruction took the reference first (decide again)."""
    e = Errors()
    reference = _reference(e, original, body)
    at, start_text = _effective(e, original, body, now)
    check_signature(e, body.signature, body.signature_algorithm)
    taken = await by_reference(session, so_tenant_id, reference) if reference else None
    if taken is not None and taken.stops == original.id:
        return None
    if taken is not None:
        e.add("so_reference", "is already used by another instruction")
    e.raise_if_any()
    assert at is not None and reference is not None and start_text is not None
    return CheckedStop(reference, at, start_text)


def _stop_row(
    original: FmDispatchInstruction, checked: CheckedStop, body: StopIn, now: datetime
) -> FmDispatchInstruction:
    parent = {
        name: getattr(original, name)
        for name in ("so_tenant_id", "provider_tenant_id", "obligation_id", "competition_id")
    }
    parent.update(power_type=original.power_type, asset_ids=list(original.asset_ids))
    signed = {
        **original.signed_fields,
        "so_reference": checked.reference,
        "start": checked.start_text,
        "instruction_type": "stop",
    }
    return new_instruction(
        parent,
        signed,
        checked.at,
        original.end,
        now,
        stops=original.id,
        signature=body.signature,
        signature_algorithm=body.signature_algorithm,
        status="accepted",
        respond_by=None,
    )


async def _apply(
    session: AsyncSession,
    original: FmDispatchInstruction,
    row: FmDispatchInstruction,
    now: datetime,
) -> bool:
    """Mark the original stopped by ``row`` and store ``row``; False (rolled back) when a
    concurrent answer or stop changed the original since it was read, or took the reference."""
    changes: dict[str, Any] = {"stopped_by": row.id, "modified": now}
    if original.status == "pending" or row.start <= original.start:
        changes["status"] = "cancelled"
    else:
        changes["ends_at"] = row.start
    result = await session.execute(
        update(D)
        .where(D.id == original.id, D.stopped_by.is_(None), D.status == original.status)
        .values(**changes)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        await session.rollback()
        return False
    session.add(row)
    try:
        await session.flush()
    except IntegrityError:
        await session.rollback()
        return False
    return True


async def stop(
    session: AsyncSession,
    so_tenant_id: str,
    instruction_id: str,
    body: StopIn,
    now: datetime,
) -> tuple[InstructionOut, bool]:
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
) -> tuple[InstructionOut, bool] | None:
    """One attempt; None when a concurrent answer or stop changed the original first."""
    scope = {"so_tenant_id": so_tenant_id}
    original = await dispatch_read.settled(session, instruction_id, now, **scope)
    original = await dispatch_read.find(session, original.id, lock=True, **scope)
    if original.instruction_type == "stop":
        raise conflict("a stop instruction cannot itself be stopped")
    if original.stopped_by is not None:
        existing = await dispatch_read.find(session, original.stopped_by, **scope)
        _same_stop(existing, body)
        return mappers.instruction(existing), False
    if original.status not in ("pending", "accepted"):
        raise conflict(f"the instruction is {original.status}; only pending or accepted ones stop")
    if original.ends_at <= now:
        raise conflict("the instruction has already ended")
    checked = await _check_stop(session, so_tenant_id, original, body, now)
    if checked is None:
        await session.rollback()  # a concurrent stop of this instruction won: decide again
        return None
    row = _stop_row(original, checked, body, now)
    if not await _apply(session, original, row, now):
        return None
    return await publish(session, row, "dispatch_instruction.stopped"), True
