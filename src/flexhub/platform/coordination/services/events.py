"""Reading a partner's events, newest first."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.platform.coordination import mappers
from flexhub.platform.errors import not_found
from flexhub.store.coordination import EcEvent
from flexhub.wire.coordination.events import GetEventResponse


async def list_events(
    session: AsyncSession, tenant_id: str, page: int, page_size: int
) -> tuple[list[GetEventResponse], int]:
    """One page and the partner's total in one statement: the count is a scalar subquery
    (evaluated once, from the tenant index) beside the page's columns. Only a page past the
    end, which has no row to carry it, asks for the count on its own."""
    mine = EcEvent.tenant_id == tenant_id
    total_q = select(func.count()).select_from(EcEvent).where(mine).scalar_subquery()
    rows = (
        await session.execute(
            select(EcEvent.id, EcEvent.created_at, EcEvent.payload, total_q)
            .where(mine)
            .order_by(EcEvent.created_at.desc(), EcEvent.id.desc())
            .offset((page - 1) * page_size)
            .limit(page_size)
        )
    ).all()
    if rows:
        total = rows[0][3]
    else:
        total = await session.scalar(select(func.count()).select_from(EcEvent).where(mine))
    events = [mappers.event_of(ident, created, payload) for ident, created, payload, _ in rows]
    return events, int(total or 0)


async def get_event(session: AsyncSession, tenant_id: str, event_id: str) -> GetEventResponse:
    event = await session.scalar(
        select(EcEvent).where(EcEvent.tenant_id == tenant_id, EcEvent.id == event_id)
    )
    if event is None:
        raise not_found(f"Event {event_id}")
    return mappers.event(event)
