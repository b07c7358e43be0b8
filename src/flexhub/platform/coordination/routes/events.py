"""Energy Coordination routes: events (newest first; 400s as problem+json)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.platform import errors
from flexhub.platform.auth import Principal
from flexhub.platform.context import PlatformContext
from flexhub.platform.coordination import event_pages
from flexhub.platform.coordination.paging import Page, page_query
from flexhub.platform.coordination.services import events as service
from flexhub.platform.deps import get_ctx, get_session, provider
from flexhub.wire.coordination.events import GetEventResponse, GetEventsResponse

router = APIRouter(tags=["Events"])


@router.get("/events", response_model=GetEventsResponse, openapi_extra=errors.PROBLEM)
async def get_events(
    paging: Page = Depends(page_query),
    principal: Principal = Depends(provider),
    ctx: PlatformContext = Depends(get_ctx),
) -> Response:
    """Bytes spliced from the stored wire text of each event (``event_pages``), the same as
    ``GetEventsResponse`` serialised."""
    rows, total = await event_pages.read_page(
        ctx.db, principal.tenant_id, paging.number, paging.size
    )
    body = event_pages.render(paging.pagination(total), rows)
    return Response(content=body, media_type="application/json")


@router.get("/events/{eventId}", response_model=GetEventResponse, openapi_extra=errors.PROBLEM)
async def get_event(
    eventId: str,
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> GetEventResponse:
    return await service.get_event(session, principal.tenant_id, eventId)
