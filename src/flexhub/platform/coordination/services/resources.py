"""Resources: location-bound ones (hanging off a user's location, optionally on one of its
meters) and vehicles (on the user directly). ``resourceId`` is unique per partner; a taken id is
a 400 (the document lists no 409 for resources)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.clock import utcnow
from flexhub.platform.coordination import mappers
from flexhub.platform.coordination.services.locations import meters_of, require_location
from flexhub.platform.coordination.services.users import require_user
from flexhub.platform.errors import ApiError, bad_request, not_found
from flexhub.platform.transactions import committing, delete_existing
from flexhub.store.coordination import EcResource
from flexhub.wire.coordination.resources import GetResourceResponse

VEHICLE = "Vehicle"


def new_resource(
    tenant_id: str,
    user_id: str,
    resource_id: str,
    resource_type: str,
    *,
    location_id: str | None = None,
    meter_point_id: str | None = None,
    simulated: bool = False,
    now: datetime | None = None,
) -> EcResource:
    """A resource row (a vehicle has no location)."""
    return EcResource(
        tenant_id=tenant_id,
        resource_id=resource_id,
        user_id=user_id,
        location_id=location_id,
        resource_type=resource_type,
        meter_point_id=meter_point_id,
        simulated=simulated,
        created_at=now or utcnow(),
    )


async def _store(session: AsyncSession, resource: EcResource) -> EcResource:
    """Stored and committed; a taken ``resourceId`` (also one taken concurrently) is a 400."""
    message = f"resourceId: a resource with id '{resource.resource_id}' already exists"
    if await session.get(EcResource, (resource.tenant_id, resource.resource_id)) is not None:
        raise bad_request(message, "resourceId")
    async with committing(session, 400, message, "resourceId"):
        session.add(resource)
        await session.flush()
    return resource


async def create_location_resource(
    session: AsyncSession,
    tenant_id: str,
    user_id: str,
    location_id: str,
    resource_id: str,
    resource_type: str,
    meter_point_id: str | None,
) -> GetResourceResponse:
    """404 for an unknown user or location; 400 for a meter the location does not have or a
    taken resourceId."""
    await require_location(session, tenant_id, user_id, location_id, lock=True)
    if meter_point_id is not None:
        meters = await meters_of(session, tenant_id, location_id)
        if meter_point_id not in meters:
            raise bad_request(
                f"meterPointId: '{meter_point_id}' is not a meter point of location "
                f"'{location_id}'",
                "meterPointId",
            )
    resource = new_resource(
        tenant_id,
        user_id,
        resource_id,
        resource_type,
        location_id=location_id,
        meter_point_id=meter_point_id,
    )
    return mappers.resource(await _store(session, resource))


async def list_location_resources(
    session: AsyncSession, tenant_id: str, user_id: str, location_id: str
) -> list[GetResourceResponse]:
    await require_location(session, tenant_id, user_id, location_id)
    rows = await session.scalars(
        select(EcResource)
        .where(EcResource.tenant_id == tenant_id, EcResource.location_id == location_id)
        .order_by(EcResource.created_at, EcResource.resource_id)
    )
    return [mappers.resource(r) for r in rows.all()]


async def create_vehicle(
    session: AsyncSession, tenant_id: str, user_id: str, resource_id: str, resource_type: str
) -> GetResourceResponse:
    if resource_type != VEHICLE:
        raise bad_request(
            f"resourceType: a vehicle's resourceType must be '{VEHICLE}', not '{resource_type}'",
            "resourceType",
        )
    await require_user(session, tenant_id, user_id, lock=True)
    return mappers.resource(
        await _store(session, new_resource(tenant_id, user_id, resource_id, VEHICLE))
    )


async def list_user_resources(
    session: AsyncSession, tenant_id: str, user_id: str
) -> list[GetResourceResponse]:
    """Location-bound resources and vehicles, in creation order."""
    await require_user(session, tenant_id, user_id)
    rows = await session.scalars(
        select(EcResource)
        .where(EcResource.tenant_id == tenant_id, EcResource.user_id == user_id)
        .order_by(EcResource.created_at, EcResource.resource_id)
    )
    return [mappers.resource(r) for r in rows.all()]


async def get_resource(
    session: AsyncSession, tenant_id: str, resource_id: str
) -> GetResourceResponse:
    resource = await session.get(EcResource, (tenant_id, resource_id))
    if resource is None:
        raise resource_missing(resource_id)
    return mappers.resource(resource)


def resource_missing(resource_id: str) -> ApiError:
    return not_found(f"Resource '{resource_id}'")


async def delete_resource(session: AsyncSession, tenant_id: str, resource_id: str) -> None:
    statement = delete(EcResource).where(
        EcResource.tenant_id == tenant_id, EcResource.resource_id == resource_id
    )
    await delete_existing(session, statement, resource_missing(resource_id))
    await session.commit()
