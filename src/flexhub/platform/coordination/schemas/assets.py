"""Wire models for users, locations, resources and the program endpoints.

Requests refuse unknown fields and wrong types (``schemas.common.Request``). Optional fields
accept an explicit ``null`` as "not given", because generated clients send ``null`` for unset
properties (the document's own PATCH example does). Responses are plain dicts holding exactly
the document's fields: nullable ones as ``null``, the non-nullable ``coordinates`` left out when
a location has none.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from flexhub.platform.coordination.schemas.common import Request
from flexhub.platform.errors import not_found

MAX_ID = 200
MAX_BATCH = 1000

LocationType = Literal["Unknown", "Residential", "Commercial", "Other"]
ResourceType = Literal["Generic", "Vehicle", "Charger", "HotWaterTank", "HVAC", "SolarInverter"]


def _check_id(value: str) -> str:
    if not value:
        raise ValueError("must not be empty")
    if len(value) > MAX_ID:
        raise ValueError(f"must be at most {MAX_ID} characters")
    if value != value.strip():
        raise ValueError("must not start or end with whitespace")
    return value


Id = Annotated[str, AfterValidator(_check_id)]


def path_id(value: str, kind: str) -> str:
    """A path id that cannot exist (empty, too long, padded) is simply not found (404)."""
    if not value or len(value) > MAX_ID or value != value.strip():
        shown = value if len(value) <= 40 else value[:40] + "..."
        raise not_found(f"{kind} '{shown}'")
    return value


# --- requests ---------------------------------------------------------------------------------


class PostUserRequest(Request):
    userId: Id


class PostUsersBatchRequest(Request):
    users: list[PostUserRequest] = Field(max_length=MAX_BATCH)


class Coordinate(Request):
    latitude: float | None = None
    longitude: float | None = None

    @field_validator("latitude")
    @classmethod
    def _latitude(cls, value: float | None) -> float | None:
        return _in_range(value, 90.0)

    @field_validator("longitude")
    @classmethod
    def _longitude(cls, value: float | None) -> float | None:
        return _in_range(value, 180.0)

    @model_validator(mode="after")
    def _both(self) -> Coordinate:
        if self.latitude is None or self.longitude is None:
            raise ValueError("coordinates need both latitude and longitude")
        return self


def _in_range(value: float | None, limit: float) -> float | None:
    if value is None:
        return None
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    if not -limit <= value <= limit:
        raise ValueError(f"must be between {-limit:g} and {limit:g}")
    return value


class PostLocationRequest(Request):
    locationId: Id
    locationType: LocationType | None = None
    coordinates: Coordinate | None = None
    meterPointId: Id | None = None  # deprecated: folded into meterPointIds
    meterPointIds: list[Id] | None = Field(default=None, max_length=MAX_BATCH)


class PutLocationRequest(PostLocationRequest):
    pass


class PatchLocationRequest(Request):
    locationType: LocationType | None = None
    coordinates: Coordinate | None = None
    meterPointIds: list[Id] | None = Field(default=None, max_length=MAX_BATCH)


class PostLocationWithUserRequest(PostLocationRequest):
    userId: Id


class PostLocationsBatchRequest(Request):
    locations: list[PostLocationWithUserRequest] = Field(max_length=MAX_BATCH)


class PostLocationBoundResourceRequest(Request):
    resourceId: Id
    resourceType: ResourceType
    meterPointId: Id | None = None


class PostVehicleResourceRequest(Request):
    resourceId: Id
    resourceType: ResourceType


def folded_meters(body: PostLocationRequest) -> list[str]:
    """``meterPointIds`` with the deprecated ``meterPointId`` first (once)."""
    meters = list(body.meterPointIds or [])
    if body.meterPointId is not None:
        meters = [body.meterPointId, *[m for m in meters if m != body.meterPointId]]
    return meters


# --- responses --------------------------------------------------------------------------------


def user_wire(user_id: str) -> dict[str, Any]:
    """``GetUserResponse``."""
    return {"userId": user_id}


def location_wire(location: Any, meter_point_ids: list[str]) -> dict[str, Any]:
    """``GetLocationResponse`` (``meterPointId`` = the first meter, deprecated)."""
    out: dict[str, Any] = {
        "locationId": location.location_id,
        "locationType": location.location_type,
    }
    if location.latitude is not None and location.longitude is not None:
        out["coordinates"] = {"latitude": location.latitude, "longitude": location.longitude}
    out["meterPointId"] = meter_point_ids[0] if meter_point_ids else None
    out["meterPointIds"] = list(meter_point_ids)
    out["userId"] = location.user_id
    return out


def resource_wire(resource: Any) -> dict[str, Any]:
    """``GetResourceResponse``, and ``GetLocationBoundResourceResponse`` (the same fields,
    ``locationId`` then never null); vehicles have no location."""
    return {
        "resourceId": resource.resource_id,
        "resourceType": resource.resource_type,
        "userId": resource.user_id,
        "locationId": resource.location_id,
        "meterPointId": resource.meter_point_id,
    }


def compensation_wire(comp: Any) -> dict[str, Any]:
    """``GetUserCompensationForCurrentMonthResponse``."""
    return {
        "userId": comp.user_id,
        "period": {"from": comp.period_from.isoformat(), "to": comp.period_to.isoformat()},
        "locationCompensations": [
            {
                "locationId": item.location_id,
                "meterPointIds": item.meter_point_ids,
                "activeAmount": round(item.active, 2),
                "blockedAmount": round(item.blocked, 2),
                "currency": item.currency or "NOK",
                "problems": [
                    {"problemType": kind, "message": message}
                    for kind, message in item.problems.items()
                ],
            }
            for item in comp.locations
        ],
    }
