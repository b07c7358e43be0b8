"""A user's locations: where its resources are, by coordinates and/or meter point ids (the
deprecated ``meterPointId`` is the first of ``meterPointIds``)."""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, Field, field_validator, model_serializer, model_validator

from flexhub.wire.coordination.common import Id, LocationType, Request
from flexhub.wire.coordination.users import MAX_METERS


def _in_range(value: float | None, limit: float) -> float | None:
    if value is None:
        return None
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    if not -limit <= value <= limit:
        raise ValueError(f"must be between {-limit:g} and {limit:g}")
    return value


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


class PostLocationRequest(Request):
    locationId: Id
    locationType: LocationType | None = None
    coordinates: Coordinate | None = None
    meterPointId: Id | None = None  # deprecated: folded into meterPointIds
    meterPointIds: list[Id] | None = Field(default=None, max_length=MAX_METERS)

    def meters(self) -> list[str]:
        """``meterPointIds`` with the deprecated ``meterPointId`` first (once)."""
        meters = list(self.meterPointIds or [])
        if self.meterPointId is not None:
            meters = [self.meterPointId, *[m for m in meters if m != self.meterPointId]]
        return meters


class PutLocationRequest(PostLocationRequest):
    pass


class PatchLocationRequest(Request):
    locationType: LocationType | None = None
    coordinates: Coordinate | None = None
    meterPointIds: list[Id] | None = Field(default=None, max_length=MAX_METERS)


class PostLocationWithUserRequest(PostLocationRequest):
    userId: Id


class PostLocationsBatchRequest(Request):
    locations: list[PostLocationWithUserRequest]


class GetLocationResponse(BaseModel):
    """``coordinates`` is left out (not null) when the location has none: the document does
    not make it nullable."""

    locationId: str
    locationType: LocationType
    coordinates: Coordinate | None = None
    meterPointId: str | None
    meterPointIds: list[str]
    userId: str | None

    @model_serializer(mode="wrap")
    def _without_absent_coordinates(self, handler: Any) -> dict[str, Any]:
        out = handler(self)
        if out.get("coordinates") is None:
            out.pop("coordinates", None)
        return out


class PostLocationsBatchResponse(BaseModel):
    locations: list[GetLocationResponse]
