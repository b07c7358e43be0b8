"""Flex Market response shapes, for the OpenAPI document and response validation. The objects
themselves are built by ``flexmarket.wire``; these models only describe them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

NeedDirection = Literal["deficit", "excess", "import", "export"]
PowerType = Literal["active", "reactive"]


def _decimal() -> Any:
    return Field(description="decimal string", examples=["1.500"])


def _time() -> Any:
    return Field(description="ISO-8601 UTC", examples=["2026-06-02T16:00:00Z"])


class TokenOut(BaseModel):
    token: str = Field(description="a JWT; send it as Authorization: Bearer <token>")


class ServiceWindowOut(BaseModel):
    id: str
    name: str
    start_time: str = Field(examples=["16:00:00"])
    end_time: str = Field(examples=["19:00:00"])
    service_days: list[str]
    bank_holidays: Literal["included", "excluded"]


class ServicePeriodOut(BaseModel):
    id: str
    name: str
    start: str = Field(description="YYYY-MM-DD")
    end: str = Field(description="YYYY-MM-DD, exclusive")
    service_windows: list[ServiceWindowOut]


class CompetitionOut(BaseModel):
    id: str
    ref: str
    name: str
    status: Literal["pending", "open", "closed", "awarded"]
    need_direction: NeedDirection
    power_type: PowerType
    currency: str
    area: dict[str, Any] | None = Field(description="GeoJSON Polygon or MultiPolygon")
    postcodes: list[str]
    timezone: str = Field(description="IANA zone of the service window times")
    bank_holiday_dates: list[str]
    bidding_open: str = _time()
    bidding_close: str = _time()
    respond_within: str = Field(description="HH:MM:SS a provider has to answer an instruction")
    service_periods: list[ServicePeriodOut]
    created: str = _time()
    modified: str = _time()


class RateOut(BaseModel):
    type: Literal["availability", "utilisation", "service_fee"]
    value: str = _decimal()


class ObligationAssetsOut(BaseModel):
    flex: list[str]
    planned: list[str]


class ObligationOut(BaseModel):
    id: str
    competition_id: str
    bid_id: str
    service_window_id: str
    provider: str
    status: Literal["awarded", "active", "completed", "terminated"]
    start: str = Field(description="YYYY-MM-DD")
    end: str = Field(description="YYYY-MM-DD, exclusive")
    service_days: list[str]
    bank_holidays: Literal["included", "excluded"]
    start_time: str
    end_time: str
    capacity: str = Field(description="MW, decimal string")
    max_runtime: str | None = Field(description="HH:MM:SS")
    need_direction: NeedDirection
    rates: list[RateOut]
    assets: ObligationAssetsOut
    created: str = _time()
    modified: str = _time()


class AssetOut(BaseModel):
    id: str
    created: str = _time()
    modified: str = _time()
    provider: str
    ref: str
    name: str
    status: Literal["in_development", "operational", "mothballed", "archived"]
    asset_category: str | None
    asset_type: str | None
    voltage_level: str | None
    country_code: str | None
    postcode: str | None
    latitude: str | None
    longitude: str | None
    import_meter_id: str | None
    export_meter_id: str | None
    active_import_capacity: str | None
    active_export_capacity: str | None
    reactive_import_capacity: str | None
    reactive_export_capacity: str | None
    response_time: str | None
    min_runtime: str | None
    max_runtime: str | None
    recovery_time: str | None


class VariationOut(BaseModel):
    id: str
    obligation_id: str
    provider: str
    start: str = _time()
    end: str = _time()
    available_capacity: str = Field(description="MW, decimal string")
    reason: str | None
    created: str = _time()


class InstructionOut(BaseModel):
    id: str
    so_reference: str = Field(description="signed field, as the SO sent it")
    obligation_id: str = Field(description="signed field, as the SO sent it")
    competition_id: str
    flex_provider_id: str
    asset_ids: list[str]
    instruction_type: Literal["dispatch", "stop"] = Field(description="signed field")
    stops: str | None = Field(description="for a stop: the instruction it stops")
    stopped_by: str | None = Field(description="the stop instruction that stopped this one")
    start: str = Field(description="signed field, as the SO sent it (ISO-8601 UTC)")
    end: str = Field(description="signed field, as the SO sent it (ISO-8601 UTC)")
    hours: str = _decimal()
    capacity: str = Field(description="MW; signed field, as the SO sent it")
    mwh: str = _decimal()
    need_direction: NeedDirection = Field(description="signed field")
    power_type: PowerType
    status: Literal["pending", "accepted", "rejected", "expired", "cancelled", "completed"]
    respond_by: str | None = Field(description="accept or reject before this time")
    responded_at: str | None
    reason: str | None = Field(description="the provider's reason for a rejection")
    exceeds_declared_availability: bool
    signature: str | None = Field(description="the SO's signature, relayed untouched")
    signature_algorithm: str | None
    created: str = _time()
    modified: str = _time()


class WebhookDeliveryOut(BaseModel):
    """One notification of an event about the instruction to one of the provider's
    subscriptions (which ones is the provider's business: no ids or URLs)."""

    event: str = Field(examples=["dispatch_instruction.created"])
    event_id: str = Field(description="the jti of the delivered JWS")
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    next_attempt_at: str | None = Field(description="when pending: the next try")
    completed_at: str | None = Field(description="when delivered, or given up as failed")


class SoInstructionOut(InstructionOut):
    """The SO's view: the instruction (with the provider's answer) and how the webhooks
    about it are being delivered to the provider."""

    webhook_deliveries: list[WebhookDeliveryOut]
