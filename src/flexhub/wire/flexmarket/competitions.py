"""Competitions: ``POST /so/v1/competitions/`` and the competition as it is read."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from flexhub.wire.flexmarket.common import Body, NeedDirection, PowerType, time_field

BANK_HOLIDAYS = ("included", "excluded")


class ServiceWindowIn(Body):
    name: str
    start_time: str = Field(description="HH:MM:SS, local time of the competition's timezone")
    end_time: str = Field(description="HH:MM:SS; at or before start_time: runs past midnight")
    service_days: list[str] = Field(description='e.g. ["mon", "tue", "wed", "thu", "fri"]')
    bank_holidays: str = Field(description="included | excluded")


class ServicePeriodIn(Body):
    name: str
    start: str = Field(description="YYYY-MM-DD")
    end: str = Field(description="YYYY-MM-DD, exclusive")
    service_windows: list[ServiceWindowIn]


class CompetitionIn(Body):
    ref: str
    name: str
    need_direction: str = Field(description="deficit | excess (active); import | export")
    power_type: str = Field(description="active | reactive")
    currency: str = Field(description="ISO 4217, e.g. GBP")
    area: dict[str, Any] | None = Field(None, description='GeoJSON {"type": "Polygon", ...}')
    postcodes: list[str] | None = None
    timezone: str | None = Field(None, description="IANA zone of window times; default UTC")
    bank_holiday_dates: list[str] | None = Field(None, description="YYYY-MM-DD dates")
    bidding_open: str
    bidding_close: str
    respond_within: str | None = Field(None, description='HH:MM:SS, default "01:00:00"')
    service_periods: list[ServicePeriodIn]


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
    bidding_open: str = time_field()
    bidding_close: str = time_field()
    respond_within: str = Field(description="HH:MM:SS a provider has to answer an instruction")
    service_periods: list[ServicePeriodOut]
    created: str = time_field()
    modified: str = time_field()
