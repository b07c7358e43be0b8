"""A provider's assets: ``POST /assets/v1/``, ``PATCH /assets/v1/{id}/`` and the asset read."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from flexhub.wire.flexmarket.common import Body, time_field

DECIMAL_FIELDS = (
    "voltage_level",
    "latitude",
    "longitude",
    "active_import_capacity",
    "active_export_capacity",
    "reactive_import_capacity",
    "reactive_export_capacity",
)
DURATION_FIELDS = ("response_time", "min_runtime", "max_runtime", "recovery_time")
TEXT_FIELDS = (
    "asset_category",
    "asset_type",
    "country_code",
    "postcode",
    "import_meter_id",
    "export_meter_id",
)
STATUSES = ("in_development", "operational", "mothballed", "archived")


class AssetPatch(Body):
    ref: str | None = None
    name: str | None = None
    status: str | None = Field(None, description=" | ".join(STATUSES))
    asset_category: str | None = None
    asset_type: str | None = None
    voltage_level: str | None = Field(None, description="kV, decimal string")
    country_code: str | None = Field(None, description="ISO 3166 alpha-2")
    postcode: str | None = None
    latitude: str | None = Field(None, description="decimal string")
    longitude: str | None = Field(None, description="decimal string")
    import_meter_id: str | None = None
    export_meter_id: str | None = None
    active_import_capacity: str | None = Field(None, description="MW, decimal string")
    active_export_capacity: str | None = Field(None, description="MW, decimal string")
    reactive_import_capacity: str | None = Field(None, description="MVAr, decimal string")
    reactive_export_capacity: str | None = Field(None, description="MVAr, decimal string")
    response_time: str | None = Field(None, description="HH:MM:SS")
    min_runtime: str | None = Field(None, description="HH:MM:SS")
    max_runtime: str | None = Field(None, description="HH:MM:SS")
    recovery_time: str | None = Field(None, description="HH:MM:SS")


class AssetIn(AssetPatch):
    """Create: ``ref`` and ``name`` are required, and a location (postcode, or latitude and
    longitude). ``provider`` may be sent (Piclo's examples do) but must be the caller."""

    ref: str
    name: str
    provider: str | None = None


class AssetOut(BaseModel):
    id: str
    created: str = time_field()
    modified: str = time_field()
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
