"""Reading dispatch instructions: as their provider sees them, and as their SO does (with the
delivery state of the webhooks about them).

Reads first apply the status changes that are due (see ``lifecycle``), so a list filtered on
``status`` and a single read agree with the sweeper.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.platform.flexmarket import mappers
from flexhub.platform.flexmarket.paging import Page, fetch
from flexhub.platform.flexmarket.schemas.filters import InstructionFilters
from flexhub.platform.flexmarket.services import lifecycle, webhooks
from flexhub.platform.flexmarket.services.queries import one_or_404, scoped
from flexhub.store.flexmarket import FmDispatchInstruction
from flexhub.wire.flexmarket.dispatches import InstructionOut, SoInstructionOut

D = FmDispatchInstruction


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
    if await lifecycle.settle_instruction(session, row, now, **scope):
        await session.commit()
    return row


async def get_for_provider(
    session: AsyncSession, provider_tenant_id: str, instruction_id: str, now: datetime
) -> InstructionOut:
    row = await settled(session, instruction_id, now, provider_tenant_id=provider_tenant_id)
    return mappers.instruction(row)


async def so_dispatch_detail(
    session: AsyncSession, so_tenant_id: str, instruction_id: str, now: datetime
) -> SoInstructionOut:
    """``GET /so/v1/dispatches/{id}/``: the instruction with the provider's answer (``status``,
    ``responded_at``, ``reason``) and the delivery state of the webhooks about it
    (``webhook_deliveries``)."""
    row = await settled(session, instruction_id, now, so_tenant_id=so_tenant_id)
    deliveries = await webhooks.delivery_state(session, row.provider_tenant_id, row.id, row.created)
    return SoInstructionOut(**dict(mappers.instruction(row)), webhook_deliveries=deliveries)


async def list_instructions(
    session: AsyncSession,
    now: datetime,
    page: Page,
    filters: InstructionFilters,
    *,
    provider_tenant_id: str | None = None,
    so_tenant_id: str | None = None,
) -> tuple[list[InstructionOut], int]:
    """Oldest first (stable paging while new instructions arrive)."""
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
    return [mappers.instruction(r) for r in rows], count
