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
    total = await session.scalar(
        select(func.count()).select_from(EcEvent).where(EcEvent.tenant_id == tenant_id)
    )
    rows = await session.scalars(
        select(EcEvent)
        .where(EcEvent.tenant_id == tenant_id)
        .order_by(EcEvent.created_at.desc(), EcEvent.id.desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    return [mappers.event(e) for e in rows.all()], int(total or 0)


async def get_event(session: AsyncSession, tenant_id: str, event_id: str) -> GetEventResponse:
    event = await session.scalar(
        select(EcEvent).where(EcEvent.tenant_id == tenant_id, EcEvent.id == event_id)
    )
    if event is None:
        raise not_found(f"Event {event_id}")
    return mappers.event(event)
