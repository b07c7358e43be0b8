"""Reports: ``PostReportRequest`` with its five payload kinds (discriminated by ``payloadType``)
and ``GetReportResponse``. A partner that reacts to a PriceCurve event reports its resources'
energy usage (``EnergyUsage``) to be compensated.

The acknowledgement payloads accept both the document's spelling (``ResourceLPCAcknowledgement``,
``LocationLPCAcknowledgement``) and the guides' (``ResourceLPCAcknowledged``,
``LocationLPCAcknowledged``); the service stores the document's.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, ValidationError, field_validator

from flexhub.wire.coordination.common import IdRef, Instant, Request, Timestamp

RESOURCE_ACK = "ResourceLPCAcknowledgement"
LOCATION_ACK = "LocationLPCAcknowledgement"
SPELLINGS = {
    "ResourceLPCAcknowledged": RESOURCE_ACK,
    "LocationLPCAcknowledged": LOCATION_ACK,
}


class EnergyCurvePoint(Request):
    timestamp: Timestamp
    kiloWattHours: Annotated[float, Field(allow_inf_nan=False, ge=0)]


class EnergyUsageReportPayload(Request):
    payloadType: Literal["EnergyUsage"]
    resourceId: IdRef
    locationId: IdRef | None = None
    meterPointId: IdRef | None = None
    points: list[EnergyCurvePoint] | None = None
    resolution: str
    curvePoints: list[EnergyCurvePoint] | None = Field(
        default=None,
        description="Deprecated alias of points",
        json_schema_extra={"deprecated": True},
    )


class LocationEnergyUsageReportPayload(Request):
    payloadType: Literal["LocationEnergyUsage"]
    locationId: IdRef
    meterPointId: IdRef
    points: list[EnergyCurvePoint] | None = None
    resolution: str


class LocationEnergyUsagePlanReportPayload(Request):
    payloadType: Literal["LocationEnergyUsagePlan"]
    locationId: IdRef
    meterPointId: IdRef
    resolution: str
    baseline: list[EnergyCurvePoint]
    flexibility: list[EnergyCurvePoint]


class LPCResource(Request):
    meterPointId: IdRef
    locationId: IdRef
    resourceId: IdRef


class LPCLocation(Request):
    locationId: IdRef
    meterPointId: IdRef


class ResourceLPCAcknowledgmentReportPayload(Request):
    payloadType: Literal["ResourceLPCAcknowledgement", "ResourceLPCAcknowledged"]
    acknowledgedTargets: list[LPCResource] | None = None
    declinedTargets: list[LPCResource] | None = None


class LocationLPCAcknowledgmentReportPayload(Request):
    payloadType: Literal["LocationLPCAcknowledgement", "LocationLPCAcknowledged"]
    acknowledgedTargets: list[LPCLocation] | None = None
    declinedTargets: list[LPCLocation] | None = None


ReportPayload = Annotated[
    EnergyUsageReportPayload
    | LocationEnergyUsageReportPayload
    | LocationEnergyUsagePlanReportPayload
    | ResourceLPCAcknowledgmentReportPayload
    | LocationLPCAcknowledgmentReportPayload,
    Field(discriminator="payloadType"),
]
_TAGS = {
    "EnergyUsage",
    "LocationEnergyUsage",
    "LocationEnergyUsagePlan",
    RESOURCE_ACK,
    LOCATION_ACK,
    *SPELLINGS,
}


class PostReportRequest(Request):
    eventId: str | None = None
    payloads: list[ReportPayload] | None = None

    @field_validator("payloads", mode="wrap")
    @classmethod
    def _plain_locations(cls, value, handler):
        """Name fields as ``payloads[0].resolution`` rather than with the union tag inside."""
        try:
            return handler(value)
        except ValidationError as exc:
            errors = []
            for err in exc.errors():
                loc = list(err["loc"])
                if len(loc) > 1 and isinstance(loc[0], int) and loc[1] in _TAGS:
                    del loc[1]
                if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
                    loc.append("payloadType")
                line = {"type": err["type"], "loc": tuple(loc), "input": err["input"]}
                if "ctx" in err:
                    line["ctx"] = err["ctx"]
                errors.append(line)
            raise ValidationError.from_exception_data(exc.title, errors) from None


class GetReportResponse(BaseModel):
    id: str
    eventId: str | None
    createdAt: Instant
