"""Energy Coordination routes: resources, location-bound and vehicles.

400s are bare JSON strings, except ``POST /users/{userId}/vehicles`` (problem+json)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.platform import errors
from flexhub.platform.auth import Principal
from flexhub.platform.coordination.schemas.paths import path_id
from flexhub.platform.coordination.services import resources as service
from flexhub.platform.deps import get_session, provider
from flexhub.wire.coordination.resources import (
    GetResourceResponse,
    GetUserResourcesResponse,
    PostLocationBoundResourceRequest,
    PostVehicleResourceRequest,
)

router = APIRouter(tags=["Resources"])


@router.get(
    "/users/{userId}/locations/{locationId}/resources", response_model=list[GetResourceResponse]
)
async def get_location_resources(
    userId: str,
    locationId: str,
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> list[GetResourceResponse]:
    user_id, location_id = path_id(userId, "User"), path_id(locationId, "Location")
    return await service.list_location_resources(session, principal.tenant_id, user_id, location_id)


@router.post(
    "/users/{userId}/locations/{locationId}/resources",
    status_code=201,
    response_model=GetResourceResponse,
)
async def post_location_resource(
    userId: str,
    locationId: str,
    body: PostLocationBoundResourceRequest,
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> GetResourceResponse:
    user_id, location_id = path_id(userId, "User"), path_id(locationId, "Location")
    return await service.create_location_resource(
        session,
        principal.tenant_id,
        user_id,
        location_id,
        body.resourceId,
        body.resourceType,
        body.meterPointId,
    )


@router.post(
    "/users/{userId}/vehicles",
    status_code=201,
    response_model=GetResourceResponse,
    openapi_extra={**errors.PROBLEM, **errors.NO_404},
)
async def post_vehicle(
    userId: str,
    body: PostVehicleResourceRequest,
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> GetResourceResponse:
    return await service.create_vehicle(
        session, principal.tenant_id, path_id(userId, "User"), body.resourceId, body.resourceType
    )


@router.get("/users/{userId}/resources", response_model=GetUserResourcesResponse)
async def get_user_resources(
    userId: str,
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> GetUserResourcesResponse:
    resources = await service.list_user_resources(
        session, principal.tenant_id, path_id(userId, "User")
    )
    return GetUserResourcesResponse(resources=resources)


@router.get("/resources/{resourceId}", response_model=GetResourceResponse)
async def get_resource(
    resourceId: str,
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> GetResourceResponse:
    return await service.get_resource(session, principal.tenant_id, path_id(resourceId, "Resource"))


@router.delete("/resources/{resourceId}", status_code=204, response_class=Response)
async def delete_resource(
    resourceId: str,
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> Response:
    await service.delete_resource(session, principal.tenant_id, path_id(resourceId, "Resource"))
    return Response(status_code=204)
