"""Obligations (awarded by ``POST /so/v1/obligations/``) and the availability variations a
provider declares under one (``POST /obligations/v1/{id}/availability-variations/``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from flexhub.wire.flexmarket.common import Body, NeedDirection, decimal_field, time_field

RATE_TYPES = ("availability", "utilisation", "service_fee")


class RateIn(Body):
    type: str = Field(description="availability | utilisation | service_fee")
    value: str = Field(description="decimal string, in the competition's currency")


class ObligationAssetsIn(Body):
    flex: list[str] = Field(default_factory=list)
    planned: list[str] = Field(default_factory=list)


class ObligationIn(Body):
    competition_id: str
    provider: str = Field(description="the provider's id (the provider field of its objects)")
    bid_id: str
    service_window_id: str
    start: str = Field(description="YYYY-MM-DD")
    end: str = Field(description="YYYY-MM-DD, exclusive")
    capacity: str = Field(description="MW, decimal string")
    need_direction: str
    max_runtime: str | None = Field(None, description="HH:MM:SS")
    rates: list[RateIn] = Field(default_factory=list)
    assets: ObligationAssetsIn = Field(default_factory=ObligationAssetsIn)


class VariationIn(Body):
    start: str = Field(description="ISO-8601 UTC")
    end: str = Field(description="ISO-8601 UTC")
    available_capacity: str = Field(description="MW, decimal string")
    reason: str | None = None


class RateOut(BaseModel):
    type: Literal["availability", "utilisation", "service_fee"]
    value: str = decimal_field()


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
    created: str = time_field()
    modified: str = time_field()


class VariationOut(BaseModel):
    id: str
    obligation_id: str
    provider: str
    start: str = time_field()
    end: str = time_field()
    available_capacity: str = Field(description="MW, decimal string")
    reason: str | None
    created: str = time_field()
