"""Sandbox simulation requests (``SimulatePriceCurveEventRequest``,
``SimulateLocationLPCEventRequest``, ``SimulateResourceLPCEventRequest``) and their answer."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from flexhub.wire.coordination.common import (
    Currency,
    EnergyUnit,
    IdRef,
    Number,
    PriceArea,
    Request,
    Timestamp,
)
from flexhub.wire.coordination.events import GetEventResponse


class PriceCurveTargetRequest(Request):
    resourceId: IdRef
    locationId: IdRef


class PriceCurvePointRequest(Request):
    price: Number
    timestamp: Timestamp


class PriceCurveRequest(Request):
    points: list[PriceCurvePointRequest] | None = None
    energyUnit: EnergyUnit | None = None
    currency: Currency | None = None
    resolution: str | None = None


class SimulatePriceCurveEventRequest(Request):
    targets: list[PriceCurveTargetRequest] | None = None
    priceCurveDelta: PriceCurveRequest | None = None
    priceArea: PriceArea | None = None


class LPCDataPointRequest(Request):
    maxPowerInKiloWatts: Annotated[float, Field(allow_inf_nan=False, ge=0)]
    timestamp: Timestamp


class LocationTarget(Request):
    locationId: IdRef
    meterPointId: IdRef | None = None


class ResourceTarget(Request):
    resourceId: IdRef
    locationId: IdRef | None = None
    meterPointId: IdRef | None = None


class LPCLocationTarget(Request):
    location: LocationTarget
    points: list[LPCDataPointRequest] | None = None


class LPCResourceTarget(Request):
    resource: ResourceTarget
    points: list[LPCDataPointRequest] | None = None


class SimulateLocationLPCEventRequest(Request):
    locations: list[LPCLocationTarget] | None = None


class SimulateResourceLPCEventRequest(Request):
    resources: list[LPCResourceTarget] | None = None


class SimulateEventResponse(BaseModel):
    simulatedEvent: GetEventResponse
