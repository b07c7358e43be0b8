"""Energy Coordination routes: events (newest first; 400s as problem+json)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.platform import errors
from flexhub.platform.auth import Principal
from flexhub.platform.coordination import events
from flexhub.platform.coordination.schemas.common import Page, page_query
from flexhub.platform.coordination.schemas.events import GetEventResponse, GetEventsResponse
from flexhub.platform.deps import get_session, provider

router = APIRouter(tags=["Events"])


@router.get("/events", response_model=GetEventsResponse, openapi_extra=errors.PROBLEM)
async def get_events(
    paging: Page = Depends(page_query),
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> dict:
    rows, total = await events.list_events(session, principal.tenant_id, paging.number, paging.size)
    return paging.body("events", [events.event_wire(e) for e in rows], total)


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
