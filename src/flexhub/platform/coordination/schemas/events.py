"""Event wire models: ``GetEventResponse``/``GetEventsResponse`` and the simulation requests
(``SimulatePriceCurveEventRequest``, ``SimulateLocationLPCEventRequest``,
``SimulateResourceLPCEventRequest``) with the event payload pieces they reuse."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, Field

from flexhub.platform.coordination.schemas.common import Request

PriceArea = Literal[
    "Unknown", "NO1", "NO2", "NO3", "NO4", "NO5", "FI", "DK1", "DK2", "SE1", "SE2", "SE3", "SE4"
]
Currency = Literal["NOK", "EUR", "SEK", "DKK"]
EnergyUnit = Literal["kWh", "MWh"]
Id = Annotated[str, Field(min_length=1, max_length=200)]
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


def _date_time_text(value: Any) -> Any:
    """The document's ``format: date-time`` is a string: no Unix time, no booleans."""
    if not isinstance(value, str) or not _DATE_TIME.match(value):
        raise ValueError("must be an ISO 8601 date-time string such as 2026-03-04T00:00:00+00:00")
    return value


def _utc_instant(value: datetime) -> datetime:
    """An instant that exists in UTC (year 1 to 9999 there, too)."""
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise ValueError("is outside the range of instants (years 1 to 9999 in UTC)") from None
    return value


# ISO-8601 with an offset, parsed from the JSON string (the request base is strict otherwise)
Timestamp = Annotated[
    AwareDatetime,
    Field(strict=False),
    BeforeValidator(_date_time_text),
    AfterValidator(_utc_instant),
]
# Responses carry times as the ISO strings the stored events and notifications use
DateTimeText = Annotated[str, Field(json_schema_extra={"format": "date-time"})]
Number = Annotated[float, Field(allow_inf_nan=False)]


# -- responses ---------------------------------------------------------------------------------


class GetEventResponse(BaseModel):
    id: str
    createdAt: DateTimeText
    payload: dict[str, Any] = Field(
        description="PriceCurve, UserEligibility, LocationLPC, ResourceLPC or LPCReservation "
        "payload, discriminated by payloadType"
    )


class ApiPagination(BaseModel):
    totalRecords: int
    pageSize: int
    currentPage: int
    totalPages: int
    nextPage: int | None
    previousPage: int | None


class GetEventsResponse(BaseModel):
    pagination: ApiPagination
    events: list[GetEventResponse]


class SimulateEventResponse(BaseModel):
    simulatedEvent: GetEventResponse


# -- simulation requests -----------------------------------------------------------------------


class PriceCurveTarget(Request):
    resourceId: Id
    locationId: Id


class PriceCurvePoint(Request):
    price: Number
    timestamp: Timestamp


class PriceCurve(Request):
    points: list[PriceCurvePoint] | None = None
    energyUnit: EnergyUnit | None = None
    currency: Currency | None = None
    resolution: str | None = None


class SimulatePriceCurveEventRequest(Request):
    targets: list[PriceCurveTarget] | None = None
    priceCurveDelta: PriceCurve | None = None
    priceArea: PriceArea | None = None


class LPCDataPoint(Request):
    maxPowerInKiloWatts: Annotated[float, Field(allow_inf_nan=False, ge=0)]
    timestamp: Timestamp


class LocationTarget(Request):
    locationId: Id
    meterPointId: Id | None = None


class ResourceTarget(Request):
    resourceId: Id
    locationId: Id | None = None
    meterPointId: Id | None = None


class LPCLocationTarget(Request):
    location: LocationTarget
    points: list[LPCDataPoint] | None = None


class LPCResourceTarget(Request):
    resource: ResourceTarget
    points: list[LPCDataPoint] | None = None


class SimulateLocationLPCEventRequest(Request):
    locations: list[LPCLocationTarget] | None = None


class SimulateResourceLPCEventRequest(Request):
    resources: list[LPCResourceTarget] | None = None
