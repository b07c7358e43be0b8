"""Energy Coordination operator routes (outside the official partner document): the
neighbourhoods, listed, read one by one, and replaced from a GeoJSON FeatureCollection with the
same idempotent semantics as ``flexhub platform neighbourhoods load``. For the system operator
role (and admin); partners get a 403. Errors are problem+json, every bad feature field named."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.platform import errors
from flexhub.platform.auth import Principal
from flexhub.platform.context import PlatformContext
from flexhub.platform.coordination.paging import Page, page_query
from flexhub.platform.coordination.services import neighbourhoods as service
from flexhub.platform.deps import get_ctx, get_session, system_operator
from flexhub.wire.coordination.common import id_problem, normalise_id
from flexhub.wire.coordination.neighbourhoods import (
    GetNeighbourhoodResponse,
    GetNeighbourhoodsResponse,
    PutNeighbourhoodsResponse,
)

router = APIRouter(prefix="/operator", tags=["operator"])


@router.get(
    "/neighbourhoods", response_model=GetNeighbourhoodsResponse, openapi_extra=errors.PROBLEM
)
async def list_neighbourhoods(
    paging: Page = Depends(page_query),
    principal: Principal = Depends(system_operator),
    session: AsyncSession = Depends(get_session),
) -> GetNeighbourhoodsResponse:
    """The neighbourhoods by id, paged (``page``, ``pageSize``)."""
    return await service.list_neighbourhoods(session, paging)


@router.get(
    "/neighbourhoods/{neighbourhoodId}",
    response_model=GetNeighbourhoodResponse,
    openapi_extra=errors.PROBLEM,
)
async def get_neighbourhood(
    neighbourhoodId: str,
    principal: Principal = Depends(system_operator),
    session: AsyncSession = Depends(get_session),
) -> GetNeighbourhoodResponse:
    ident = normalise_id(neighbourhoodId)
    if id_problem(ident):
        raise errors.not_found(f"Neighbourhood '{ident}'")
    return await service.get_neighbourhood(session, ident)


@router.put(
    "/neighbourhoods", response_model=PutNeighbourhoodsResponse, openapi_extra=errors.PROBLEM
)
async def put_neighbourhoods(
    collection: dict[str, Any] = Body(
        ..., description="A GeoJSON FeatureCollection: one Feature per neighbourhood."
    ),
    principal: Principal = Depends(system_operator),
    session: AsyncSession = Depends(get_session),
    ctx: PlatformContext = Depends(get_ctx),
) -> PutNeighbourhoodsResponse:
    """Make the neighbourhoods those of the collection: added, updated, and removed when it no
    longer has them (the same collection again changes nothing). A bad collection is a 400
    naming every problem, and nothing changes."""
    specs = service.parse(collection)
    return await service.replace(session, specs, sandbox=ctx.settings.sandbox_neighbourhoods)
