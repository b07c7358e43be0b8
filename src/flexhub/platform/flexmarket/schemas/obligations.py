"""``POST /so/v1/obligations/`` and ``POST /obligations/v1/{id}/availability-variations/``."""

from __future__ import annotations

from pydantic import Field

from flexhub.platform.flexmarket.schemas import Body


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
