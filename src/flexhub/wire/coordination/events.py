"""Events: the five payloads (discriminated by ``payloadType``), an event as ``/events`` reads
it, and ``EventNotification``, the body of every webhook delivery (signed with
``X-Payload-Signature``: Base64 HMAC-SHA256 of the raw body under the webhook's secret)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from flexhub.wire.coordination.common import (
    ApiPagination,
    Currency,
    EnergyUnit,
    Instant,
    NotificationType,
    PriceArea,
)

# Which notification announces an event of each payload type.
NOTIFICATION_TYPES = {
    "PriceCurve": "PriceCurveCreated",
    "UserEligibility": "UserEligibilityUpdated",
    "LocationLPC": "LocationLPCRequested",
    "ResourceLPC": "ResourceLPCRequested",
    "LPCReservation": "LPCReservationCreated",
}


class PriceCurveTarget(BaseModel):
    resourceId: str
    locationId: str


class PriceCurvePoint(BaseModel):
    price: float
    timestamp: Instant


class PriceCurve(BaseModel):
    """A price delta per interval of ``resolution`` (a .NET TimeSpan such as ``01:00:00``):
    negative where the grid wants consumption, positive where it wants less."""

    points: list[PriceCurvePoint] | None = None
    energyUnit: EnergyUnit | None = None
    currency: Currency | None = None
    resolution: str | None = None


class PriceCurvePayload(BaseModel):
    """For the targeted resources: the day after the event, local midnight to midnight of the
    price area (23, 24 or 25 hours)."""

    targets: list[PriceCurveTarget]
    priceCurveDelta: PriceCurve
    priceArea: PriceArea
    payloadType: Literal["PriceCurve"] = "PriceCurve"


class UserEligibilityPayload(BaseModel):
    lastUpdated: Instant
    addedUsers: list[str]
    removedUsers: list[str]
    payloadType: Literal["UserEligibility"] = "UserEligibility"


class LPCDataPoint(BaseModel):
    """The most a target may draw from ``timestamp`` for one ``resolution``."""

    maxPowerInKiloWatts: float
    timestamp: Instant


class LocationLPCTarget(BaseModel):
    locationId: str
    meterPointId: str
    resolution: str
    points: list[LPCDataPoint]


class ResourceLPCTarget(BaseModel):
    meterPointId: str
    locationId: str
    resourceId: str
    resolution: str
    points: list[LPCDataPoint]


class LocationLPCPayload(BaseModel):
    targets: list[LocationLPCTarget]
    payloadType: Literal["LocationLPC"] = "LocationLPC"


class ResourceLPCPayload(BaseModel):
    targets: list[ResourceLPCTarget]
    payloadType: Literal["ResourceLPC"] = "ResourceLPC"


class LPCReservationPayload(BaseModel):
    targets: list[LocationLPCTarget]
    payloadType: Literal["LPCReservation"] = "LPCReservation"


EventPayload = Annotated[
    PriceCurvePayload
    | UserEligibilityPayload
    | LocationLPCPayload
    | ResourceLPCPayload
    | LPCReservationPayload,
    Field(discriminator="payloadType"),
]


class GetEventResponse(BaseModel):
    id: str
    createdAt: Instant
    payload: EventPayload


class GetEventsResponse(BaseModel):
    pagination: ApiPagination
    events: list[GetEventResponse]


class EventNotification(BaseModel):
    """One delivery of an event to one webhook; ``notificationId`` stays the same across the
    retries of the delivery, ``eventId`` across the webhooks it goes to."""

    notificationId: str
    eventId: str
    eventCreatedAtUtc: Instant
    notificationSentUtc: Instant
    notificationType: NotificationType
    payload: EventPayload
