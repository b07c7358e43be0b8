"""Energy Coordination routes: events (newest first; 400s as problem+json)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.platform import errors
from flexhub.platform.auth import Principal
from flexhub.platform.coordination import events
from flexhub.platform.coordination.schemas.common import page_params, pagination
from flexhub.platform.coordination.schemas.events import GetEventResponse, GetEventsResponse
from flexhub.platform.deps import get_session, provider

router = APIRouter(tags=["Events"])


@router.get("/events", response_model=GetEventsResponse, openapi_extra=errors.PROBLEM)
async def get_events(
    page: int | None = Query(None),
    page_size: int | None = Query(None, alias="pageSize"),
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> dict:
    page, page_size = page_params(page, page_size)
    rows, total = await events.list_events(session, principal.tenant_id, page, page_size)
    return {
        "pagination": pagination(total, page, page_size),
        "events": [events.event_wire(e) for e in rows],
    }


@router.get("/events/{eventId}", response_model=GetEventResponse, openapi_extra=errors.PROBLEM)
async def get_event(
    eventId: str,  # noqa: N803
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> dict:
    event = await events.get_event(session, principal.tenant_id, eventId)
    if event is None:
        raise errors.not_found(f"Event {eventId}")
    return events.event_wire(event)
