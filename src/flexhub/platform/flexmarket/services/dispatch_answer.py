"""A provider's answer to a dispatch instruction: it accepts or rejects a ``pending`` one before
``respond_by``; afterwards the instruction is ``expired`` and answers are refused (409), as
they are once it is answered or stopped."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from flexhub.platform.errors import conflict
from flexhub.platform.flexmarket import mappers
from flexhub.platform.flexmarket.checks import Errors
from flexhub.platform.flexmarket.services.dispatch_read import settled
from flexhub.store.flexmarket import FmDispatchInstruction
from flexhub.wire.flexmarket.dispatches import InstructionOut
from flexhub.wire.flexmarket.values import iso

D = FmDispatchInstruction


async def answer(
    session: AsyncSession,
    provider_tenant_id: str,
    instruction_id: str,
    now: datetime,
    *,
    accept: bool,
    reason: str | None = None,
) -> InstructionOut:
    """Accept or reject a pending instruction; 409 once it is answered, expired or stopped."""
    row = await settled(session, instruction_id, now, provider_tenant_id=provider_tenant_id)
    if row.instruction_type == "stop":
        raise conflict("a stop instruction takes effect without an answer")
    if row.status == "expired":
        raise conflict(
            f"the instruction expired at {iso(row.respond_by)}; it can no longer be answered"
        )
    if row.status != "pending":
        raise conflict(f"the instruction is already {row.status}")
    if not accept:
        e = Errors()
        if e.text(reason, "reason", max_length=2000) is None:
            e.raise_if_any()
    new = "accepted" if accept else "rejected"
    result = await session.execute(
        update(D)
        .where(D.id == row.id, D.status == "pending")
        .values(status=new, responded_at=now, reason=reason, modified=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # answered, stopped or expired in the meantime
        await session.rollback()
        await session.refresh(row)
        raise conflict(f"the instruction is already {row.status}")
    for name, value in (("status", new), ("responded_at", now), ("reason", reason)):
        set_committed_value(row, name, value)
    set_committed_value(row, "modified", now)
    view = mappers.instruction(row)
    await session.commit()
    return view
