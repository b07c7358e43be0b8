"""Energy Coordination routes: a user's locations (400s are bare JSON strings).

``/users/locations/batch`` is declared before the parameterised paths."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.platform import errors
from flexhub.platform.auth import Principal
from flexhub.platform.coordination.schemas.assets import (
    PatchLocationRequest,
    PostLocationRequest,
    PostLocationsBatchRequest,
    PutLocationRequest,
    folded_meters,
    location_wire,
    path_id,
)
from flexhub.platform.coordination.services import locations as service
from flexhub.platform.coordination.services.locations import LocationPatch, LocationSpec
from flexhub.platform.deps import get_session, provider

router = APIRouter(tags=["User Locations"])


def _spec(body: PostLocationRequest) -> LocationSpec:
    coords = body.coordinates
    return LocationSpec(
        location_id=body.locationId,
        location_type=body.locationType or "Unknown",
        latitude=coords.latitude if coords else None,
        longitude=coords.longitude if coords else None,
        meter_point_ids=folded_meters(body),
    )


def _wire(view: service.LocationView) -> dict:
    return location_wire(view.location, view.meter_point_ids)


@router.post("/users/locations/batch", status_code=201)
async def post_locations(
    body: PostLocationsBatchRequest,
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> dict:
    items = [(item.userId, _spec(item)) for item in body.locations]
    views = await service.create_locations_batch(session, principal.tenant_id, items)
    return {"locations": [_wire(v) for v in views]}


@router.get("/users/{userId}/locations", openapi_extra=errors.NO_404)
async def get_locations(
    userId: str,  # noqa: N803
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> list[dict]:
    user_id = path_id(userId, "User")
    views = await service.list_locations(session, principal.tenant_id, user_id)
    return [_wire(v) for v in views]


@router.post("/users/{userId}/locations", status_code=201)
async def post_location(
    userId: str,  # noqa: N803
    body: PostLocationRequest,
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> dict:
    user_id = path_id(userId, "User")
    view = await service.create_location(session, principal.tenant_id, user_id, _spec(body))
    return _wire(view)


@router.get("/users/{userId}/locations/{locationId}")
async def get_location(
    userId: str,  # noqa: N803
    locationId: str,  # noqa: N803
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> dict:
    user_id, location_id = path_id(userId, "User"), path_id(locationId, "Location")
    view = await service.get_location(session, principal.tenant_id, user_id, location_id)
    return _wire(view)


@router.put("/users/{userId}/locations/{locationId}")
async def put_location(
    userId: str,  # noqa: N803
    locationId: str,  # noqa: N803
    body: PutLocationRequest,
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> dict:
    user_id, location_id = path_id(userId, "User"), path_id(locationId, "Location")
    view = await service.replace_location(
        session, principal.tenant_id, user_id, location_id, _spec(body)
    )
    return _wire(view)


@router.patch("/users/{userId}/locations/{locationId}")
async def patch_location(
    userId: str,  # noqa: N803
    locationId: str,  # noqa: N803
    body: PatchLocationRequest,
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> dict:
    user_id, location_id = path_id(userId, "User"), path_id(locationId, "Location")
    coords = body.coordinates
    patch = LocationPatch(
        location_type=body.locationType,
        coordinates=(coords.latitude, coords.longitude) if coords else None,
        meter_point_ids=body.meterPointIds,
    )
    view = await service.patch_location(session, principal.tenant_id, user_id, location_id, patch)
    return _wire(view)


@router.delete("/users/{userId}/locations/{locationId}", status_code=204, response_class=Response)
async def delete_location(
    userId: str,  # noqa: N803
    locationId: str,  # noqa: N803
    principal: Principal = Depends(provider),
    session: AsyncSession = Depends(get_session),
) -> Response:
    user_id, location_id = path_id(userId, "User"), path_id(locationId, "Location")
    await service.delete_location(session, principal.tenant_id, user_id, location_id)
    return Response(status_code=204)
