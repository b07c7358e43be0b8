"""Resources: the devices a user owns, bound to one of its locations (a vehicle to none)."""

from __future__ import annotations

from pydantic import BaseModel

from flexhub.wire.coordination.common import Id, Request, ResourceType


class PostLocationBoundResourceRequest(Request):
    resourceId: Id
    resourceType: ResourceType
    meterPointId: Id | None = None


class PostVehicleResourceRequest(Request):
    resourceId: Id
    resourceType: ResourceType


class GetResourceResponse(BaseModel):
    """``GetResourceResponse``, and ``GetLocationBoundResourceResponse`` (the same fields,
    ``locationId`` then never null)."""

    resourceId: str
    resourceType: ResourceType
    userId: str
    locationId: str | None
    meterPointId: str | None


class GetUserResourcesResponse(BaseModel):
    resources: list[GetResourceResponse]
