"""Bodies of the operator endpoints for the need forecast, price-curve runs and power limits
(the platform's own, outside the partner document; camelCase like the rest of the API)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from flexhub.wire.coordination.common import IdRef, Instant, PriceArea, Timestamp


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ForecastImportResponse(BaseModel):
    rows: int
    neighbourhoodIds: list[str]
    firstHour: Instant
    lastHour: Instant


FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2999, 12, 31)


class PostPriceCurveRunRequest(Strict):
    # the local delivery day (the curves cover it, midnight to midnight)
    date: Annotated[date, Field(ge=FIRST_DAY, le=LAST_DAY)]
    priceArea: PriceArea | None = None  # only this area's neighbourhoods
    neighbourhoodIds: Annotated[list[IdRef], Field(max_length=10_000)] | None = None  # only these


class PriceCurveRunResponse(BaseModel):
    date: date
    neighbourhoodId: str
    priceArea: str
    trigger: str
    needHours: int
    events: int
    targets: int
    createdAt: Instant


class PostPriceCurveRunResponse(BaseModel):
    date: date
    events: int
    targets: int
    runs: list[PriceCurveRunResponse]  # the neighbourhoods this request ran
    skippedNeighbourhoodIds: list[str]  # run before for this date: nothing sent again


class GetPriceCurveRunsResponse(BaseModel):
    runs: list[PriceCurveRunResponse]


# -- power limits ---------------------------------------------------------------------------

LpcKind = Literal["LocationLPC", "ResourceLPC", "LPCReservation"]


class LpcPoint(Strict):
    maxPowerInKiloWatts: Annotated[float, Field(ge=0, allow_inf_nan=False)]
    timestamp: Timestamp


class LpcTargetRequest(Strict):
    """A location (with one of its meter points; the first one when not given) or, for
    ResourceLPC, a resource (at its location, or its user's first one for a vehicle)."""

    partnerId: IdRef
    locationId: IdRef | None = None
    resourceId: IdRef | None = None
    meterPointId: IdRef | None = None


class PostLpcRequest(Strict):
    payloadType: LpcKind
    points: Annotated[list[LpcPoint], Field(min_length=1, max_length=10_000)]
    targets: list[LpcTargetRequest] | None = None  # or every target in the neighbourhood
    neighbourhoodId: IdRef | None = None
    acknowledgeWithinMinutes: Annotated[float, Field(gt=0, le=7 * 24 * 60)] | None = None


class LpcTargetState(BaseModel):
    partnerId: str
    eventId: str
    locationId: str
    meterPointId: str
    resourceId: str | None
    state: Literal["Pending", "Acknowledged", "Declined", "Unacknowledged"]
    reportId: str | None
    updatedAt: Instant


class LpcRequestResponse(BaseModel):
    id: str
    payloadType: LpcKind
    source: str
    neighbourhoodId: str | None
    deadline: Instant
    createdAt: Instant
    eventIds: list[str]
    counts: dict[str, int]  # state → targets
    targets: list[LpcTargetState]


class GetLpcRequestsResponse(BaseModel):
    requests: list[LpcRequestResponse]
