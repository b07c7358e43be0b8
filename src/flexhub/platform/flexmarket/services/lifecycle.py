"""Status changes that come with time, applied lazily (before a read or an answer) and by the
sweeper (``sweeper.py``):

- a ``pending`` instruction whose ``respond_by`` has passed becomes ``expired``
  (event ``dispatch_instruction.expired``);
- an ``accepted`` instruction (dispatch or stop) whose effective end has passed becomes
  ``completed``;
- an obligation is ``awarded`` before its first day, ``active`` from it and ``completed`` from
  its (exclusive) end date, days starting at midnight in the competition's timezone
  (event ``obligation.updated``).

Each change is a conditional UPDATE (``WHERE status = <old>``), so when a request and the
sweeper race, exactly one of them changes the row and publishes its event.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from flexhub.platform.flexmarket import mappers
from flexhub.platform.flexmarket.events import create_event
from flexhub.platform.flexmarket.services.queries import tenant_clause
from flexhub.store.flexmarket import FmDispatchInstruction, FmObligation

OPEN_OBLIGATION = ("awarded", "active")


async def _transition(
    session: AsyncSession, model: Any, row: Any, old: str, new: str, now: datetime
) -> bool:
    """Move ``row`` from ``old`` to ``new`` unless someone else already did; True if we did."""
    result = await session.execute(
        update(model)
        .where(model.id == row.id, model.status == old)
        .values(status=new, modified=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        await session.refresh(row)
        return False
    set_committed_value(row, "status", new)
    set_committed_value(row, "modified", now)
    return True


async def _due(
    session: AsyncSession,
    model: Any,
    due: ColumnElement[bool],
    provider_tenant_id: str | None,
    so_tenant_id: str | None,
    ids: list[str] | None,
    limit: int | None,
) -> list[Any]:
    """The rows of ``model`` matching ``due``, oldest first: the caller's, or every tenant's
    for the sweeper (which passes neither tenant); only ``ids`` when given."""
    query = select(model).where(due)
    if provider_tenant_id is not None or so_tenant_id is not None:
        query = query.where(tenant_clause(model, provider_tenant_id, so_tenant_id))
    if ids is not None:
        query = query.where(model.id.in_(ids))
    query = query.order_by(model.created, model.id).limit(limit)
    return list((await session.scalars(query)).all())


def _instruction_due(row: FmDispatchInstruction, now: datetime) -> bool:
    """The test of :func:`settle_instructions`'s ``due``, on a row in hand."""
    if row.status == "pending":
        return row.respond_by is not None and row.respond_by <= now
    return row.status == "accepted" and row.ends_at <= now


async def settle_instruction(
    session: AsyncSession, row: FmDispatchInstruction, now: datetime, **scope: str | None
) -> int:
    """:func:`settle_instructions` for one loaded row: no query when nothing is due for it
    (a single read: the accept, the SO's detail, a repeated POST)."""
    if not _instruction_due(row, now):
        return 0
    return await settle_instructions(session, now, ids=[row.id], **scope)


async def settle_instructions(
    session: AsyncSession,
    now: datetime,
    *,
    provider_tenant_id: str | None = None,
    so_tenant_id: str | None = None,
    ids: list[str] | None = None,
    limit: int | None = None,
) -> int:
    """Expire and complete the instructions in scope that are due (at most ``limit`` of them,
    oldest first); returns how many changed."""
    d = FmDispatchInstruction
    due = or_(
        and_(d.status == "pending", d.respond_by <= now),
        and_(d.status == "accepted", d.ends_at <= now),
    )
    changed = 0
    for row in await _due(session, d, due, provider_tenant_id, so_tenant_id, ids, limit):
        if row.status == "pending":
            if await _transition(session, d, row, "pending", "expired", now):
                changed += 1
                await create_event(
                    session,
                    row.provider_tenant_id,
                    "dispatch_instruction.expired",
                    mappers.instruction(row),
                )
        elif await _transition(session, d, row, "accepted", "completed", now):
            changed += 1
    return changed


def obligation_status(ob: FmObligation, now: datetime) -> str:
    if ob.status not in OPEN_OBLIGATION:
        return ob.status
    if now >= ob.ends_at:
        return "completed"
    return "active" if now >= ob.starts_at else "awarded"


async def settle_obligations(
    session: AsyncSession,
    now: datetime,
    *,
    provider_tenant_id: str | None = None,
    so_tenant_id: str | None = None,
    ids: list[str] | None = None,
    limit: int | None = None,
) -> int:
    """Bring obligation statuses in line with the date; publishes ``obligation.updated``."""
    o = FmObligation
    due = or_(
        and_(o.status == "awarded", o.starts_at <= now),
        and_(o.status.in_(OPEN_OBLIGATION), o.ends_at <= now),
    )
    changed = 0
    for ob in await _due(session, o, due, provider_tenant_id, so_tenant_id, ids, limit):
        old, new = ob.status, obligation_status(ob, now)
        if new != old and await _transition(session, o, ob, old, new, now):
            changed += 1
            await create_event(
                session, ob.provider_tenant_id, "obligation.updated", mappers.obligation(ob)
            )
    return changed


async def settle(
    session: AsyncSession,
    now: datetime,
    *,
    provider_tenant_id: str | None = None,
    so_tenant_id: str | None = None,
    limit: int | None = None,
) -> int:
    """What is due in scope, at most ``limit`` instructions and ``limit`` obligations (the
    caller commits)."""
    scope = {"provider_tenant_id": provider_tenant_id, "so_tenant_id": so_tenant_id}
    changed = await settle_instructions(session, now, limit=limit, **scope)
    return changed + await settle_obligations(session, now, limit=limit, **scope)
