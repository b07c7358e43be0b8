"""Dispatch instructions as their provider sees and answers them, and as their SO reads them.

Reads first apply the status changes that are due (see ``lifecycle``), so a list filtered on
``status`` and a single read agree with the sweeper. A provider accepts or rejects a ``pending``
instruction before ``respond_by``; afterwards it is ``expired`` and answers are refused (409).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from flexhub.platform.errors import conflict
from flexhub.platform.flexmarket import lifecycle, webhooks, wire
from flexhub.platform.flexmarket.fields import Errors, iso
from flexhub.platform.flexmarket.paging import Page, fetch
from flexhub.platform.flexmarket.queries import one_or_404, scoped
from flexhub.store.flexmarket import FmDispatchInstruction

D = FmDispatchInstruction
STATUSES = ("pending", "accepted", "rejected", "expired", "cancelled", "completed")


@dataclass(frozen=True)
class InstructionFilters:
    status: str | None = None
    obligation_id: str | None = None
    start_since: datetime | None = None  # inclusive
    start_before: datetime | None = None  # exclusive


async def find(
    session: AsyncSession,
    instruction_id: str,
    *,
    provider_tenant_id: str | None = None,
    so_tenant_id: str | None = None,
    lock: bool = False,
) -> FmDispatchInstruction:
    """The instruction if it belongs to the given tenant(s); 404 otherwise."""
    query = scoped(select(D).where(D.id == instruction_id), D, provider_tenant_id, so_tenant_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return await one_or_404(session, query, "Dispatch instruction")


async def settled(
    session: AsyncSession,
    instruction_id: str,
    now: datetime,
    *,
    provider_tenant_id: str | None = None,
    so_tenant_id: str | None = None,
) -> FmDispatchInstruction:
    """The instruction with the changes due by ``now`` applied and committed."""
    scope = {"provider_tenant_id": provider_tenant_id, "so_tenant_id": so_tenant_id}
    row = await find(session, instruction_id, **scope)
    if await lifecycle.settle_instructions(session, now, ids=[row.id], **scope):
        await session.commit()
    return row


async def get_for_provider(
    session: AsyncSession, provider_tenant_id: str, instruction_id: str, now: datetime
) -> dict[str, Any]:
    row = await settled(session, instruction_id, now, provider_tenant_id=provider_tenant_id)
    return wire.instruction(row)


async def so_dispatch_detail(
    session: AsyncSession, so_tenant_id: str, instruction_id: str, now: datetime
) -> dict[str, Any]:
    """``GET /so/v1/dispatches/{id}/``: the instruction with the provider's answer (``status``,
    ``responded_at``, ``reason``) and the delivery state of the webhooks about it
    (``webhook_deliveries``)."""
    row = await settled(session, instruction_id, now, so_tenant_id=so_tenant_id)
    deliveries = await webhooks.delivery_state(session, row.provider_tenant_id, row.id, row.created)
    return {**wire.instruction(row), "webhook_deliveries": deliveries}


def check_filters(status: str | None) -> None:
    e = Errors()
    if status is not None:
        e.choice(status, "status", STATUSES)
    e.raise_if_any()


async def list_instructions(
    session: AsyncSession,
    now: datetime,
    page: Page,
    filters: InstructionFilters,
    *,
    provider_tenant_id: str | None = None,
    so_tenant_id: str | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """Oldest first (stable paging while new instructions arrive)."""
    check_filters(filters.status)
    scope = {"provider_tenant_id": provider_tenant_id, "so_tenant_id": so_tenant_id}
    query = scoped(select(D), D, **scope)  # first: refuses no scope
    if await lifecycle.settle_instructions(session, now, **scope):
        await session.commit()
    if filters.status is not None:
        query = query.where(D.status == filters.status)
    if filters.obligation_id is not None:
        query = query.where(D.obligation_id == filters.obligation_id)
    if filters.start_since is not None:
        query = query.where(D.start >= filters.start_since)
    if filters.start_before is not None:
        query = query.where(D.start < filters.start_before)
    rows, count = await fetch(session, query.order_by(D.created, D.id), page)
    return [wire.instruction(r) for r in rows], count


async def answer(
    session: AsyncSession,
    provider_tenant_id: str,
    instruction_id: str,
    now: datetime,
    *,
    accept: bool,
    reason: str | None = None,
) -> dict[str, Any]:
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
    view = wire.instruction(row)
    await session.commit()
    return view
