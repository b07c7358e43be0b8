"""Energy Coordination routes: resources, location-bound and vehicles.

400s are bare JSON strings, except ``POST /users/{userId}/vehicles`` (problem+json)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.platform import errors
from flexhub.platform.auth import Principal
from flexhub.platform.coordination.schemas.assets import (
    PostLocationBoundResourceRequest,
    PostVehicleResourceRequest,
    path_id,
    resource_wire,
)
from flexhub.platform.coordination.services import resources as service
from flexhub.platform.deps import get_session, provider

router = APIRouter(tags=["Resources"])


@router.get("/users/{userId}/locations/{locationId}/resources")
async def get_location_resources(
    userId: str,  # noqa: N803
    locationId: str,  # noqa: N803
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> list[dict]:
    user_id, location_id = path_id(userId, "User"), path_id(locationId, "Location")
    rows = await service.list_location_resources(session, principal.tenant_id, user_id, location_id)
    return [resource_wire(r) for r in rows]


@router.post("/users/{userId}/locations/{locationId}/resources", status_code=201)
async def post_location_resource(
    userId: str,  # noqa: N803
    locationId: str,  # noqa: N803
    body: PostLocationBoundResourceRequest,
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> dict:
    user_id, location_id = path_id(userId, "User"), path_id(locationId, "Location")
    resource = await service.create_location_resource(
        session,
        principal.tenant_id,
        user_id,
        location_id,
        body.resourceId,
        body.resourceType,
        body.meterPointId,
    )
    return resource_wire(resource)


@router.post(
    "/users/{userId}/vehicles", status_code=201, openapi_extra={**errors.PROBLEM, **errors.NO_404}
)
async def post_vehicle(
    userId: str,  # noqa: N803
    body: PostVehicleResourceRequest,
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> dict:
    user_id = path_id(userId, "User")
    resource = await service.create_vehicle(
        session, principal.tenant_id, user_id, body.resourceId, body.resourceType
    )
    return resource_wire(resource)


@router.get("/users/{userId}/resources")
async def get_user_resources(
    userId: str,  # noqa: N803
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> dict:
    user_id = path_id(userId, "User")
    rows = await service.list_user_resources(session, principal.tenant_id, user_id)
    return {"resources": [resource_wire(r) for r in rows]}


@router.get("/resources/{resourceId}")
async def get_resource(
    resourceId: str,  # noqa: N803
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> dict:
    resource_id = path_id(resourceId, "Resource")
    return resource_wire(await service.get_resource(session, principal.tenant_id, resource_id))


@router.delete("/resources/{resourceId}", status_code=204, response_class=Response)
async def delete_resource(
    resourceId: str,  # noqa: N803
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> Response:
    resource_id = path_id(resourceId, "Resource")
    await service.delete_resource(session, principal.tenant_id, resource_id)
    return Response(status_code=204)
