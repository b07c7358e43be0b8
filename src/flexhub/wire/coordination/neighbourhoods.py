"""Operator endpoints (not in the official partner document): neighbourhoods as the platform
holds them, and what loading a GeoJSON FeatureCollection of them did. The request body of a
load is the FeatureCollection itself (its Feature format: ``platform/engines/neighbourhoods``
and the README)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from flexhub.wire.coordination.common import ApiPagination, Instant


class GetNeighbourhoodResponse(BaseModel):
    id: str
    name: str
    priceArea: str
    timeZone: str
    currency: str
    capacityKw: float | None = None
    meterPointIds: list[str]
    geometry: dict[str, Any] | None = None  # GeoJSON Polygon or MultiPolygon (WGS84)
    params: dict[str, Any]
    createdAt: Instant | None = None
    updatedAt: Instant | None = None


class GetNeighbourhoodsResponse(BaseModel):
    pagination: ApiPagination
    neighbourhoods: list[GetNeighbourhoodResponse]


class PutNeighbourhoodsResponse(BaseModel):
    """Ids of the neighbourhoods the load added, changed, removed and left as they were, and
    how many users became eligible and how many lost it (partners hear of it in their next
    UserEligibility event)."""

    added: list[str]
    updated: list[str]
    removed: list[str]
    unchanged: list[str]
    usersAdded: int
    usersRemoved: int
