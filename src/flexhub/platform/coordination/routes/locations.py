"""Energy Coordination routes: a user's locations (400s are bare JSON strings).

``/users/locations/batch`` is declared before the parameterised paths."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.platform import errors
from flexhub.platform.auth import Principal
from flexhub.platform.coordination.batch import batch_ceiling, check_size
from flexhub.platform.coordination.schemas.paths import path_id
from flexhub.platform.coordination.services import locations as service
from flexhub.platform.coordination.services.locations import LocationPatch, LocationSpec
from flexhub.platform.deps import get_session, provider
from flexhub.wire.coordination.locations import (
    GetLocationResponse,
    PatchLocationRequest,
    PostLocationRequest,
    PostLocationsBatchRequest,
    PostLocationsBatchResponse,
    PutLocationRequest,
)

router = APIRouter(tags=["User Locations"])


def _spec(body: PostLocationRequest) -> LocationSpec:
    coords = body.coordinates
    return LocationSpec(
        location_id=body.locationId,
        location_type=body.locationType or "Unknown",
        latitude=coords.latitude if coords else None,
        longitude=coords.longitude if coords else None,
        meter_point_ids=body.meters(),
    )


@router.post("/users/locations/batch", status_code=201, response_model=PostLocationsBatchResponse)
async def post_locations(
    body: PostLocationsBatchRequest,
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
    ceiling: int = Depends(batch_ceiling),
) -> PostLocationsBatchResponse:
    check_size(body.locations, "locations", ceiling)
    items = [(item.userId, _spec(item)) for item in body.locations]
    locations = await service.create_locations_batch(session, principal.tenant_id, items)
    return PostLocationsBatchResponse(locations=locations)


@router.get(
    "/users/{userId}/locations",
    response_model=list[GetLocationResponse],
    openapi_extra=errors.NO_404,
)
async def get_locations(
    userId: str,
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> list[GetLocationResponse]:
    user_id = path_id(userId, "User")
    return await service.list_locations(session, principal.tenant_id, user_id)


@router.post("/users/{userId}/locations", status_code=201, response_model=GetLocationResponse)
async def post_location(
    userId: str,
    body: PostLocationRequest,
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> GetLocationResponse:
    user_id = path_id(userId, "User")
    return await service.create_location(session, principal.tenant_id, user_id, _spec(body))


@router.get("/users/{userId}/locations/{locationId}", response_model=GetLocationResponse)
async def get_location(
    userId: str,
    locationId: str,
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> GetLocationResponse:
    user_id, location_id = path_id(userId, "User"), path_id(locationId, "Location")
    return await service.get_location(session, principal.tenant_id, user_id, location_id)


@router.put("/users/{userId}/locations/{locationId}", response_model=GetLocationResponse)
async def put_location(
    userId: str,
    locationId: str,
    body: PutLocationRequest,
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> GetLocationResponse:
    user_id, location_id = path_id(userId, "User"), path_id(locationId, "Location")
    return await service.replace_location(
        session, principal.tenant_id, user_id, location_id, _spec(body)
    )


@router.patch("/users/{userId}/locations/{locationId}", response_model=GetLocationResponse)
async def patch_location(
    userId: str,
    locationId: str,
    body: PatchLocationRequest,
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> GetLocationResponse:
    user_id, location_id = path_id(userId, "User"), path_id(locationId, "Location")
    coords = body.coordinates
    patch = LocationPatch(
        location_type=body.locationType,
        coordinates=(coords.latitude, coords.longitude) if coords else None,
        meter_point_ids=body.meterPointIds,
    )
    return await service.patch_location(session, principal.tenant_id, user_id, location_id, patch)


@router.delete("/users/{userId}/locations/{locationId}", status_code=204, response_class=Response)
async def delete_location(
    userId: str,
    locationId: str,
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> Response:
    user_id, location_id = path_id(userId, "User"), path_id(locationId, "Location")
    await service.delete_location(session, principal.tenant_id, user_id, location_id)
    return Response(status_code=204)
