"""The need forecast: for each hour of a neighbourhood's day, how much the grid wants its
consumption to change (kW; positive = use less, the transformer is strained; negative = use
more, there is local surplus; 0 = no need).

A forecaster is anything with ``need(area, hours) -> list[float]`` (:class:`NeedForecaster`);
the platform has a built-in one (``load_model.BuiltinForecaster``) and hands any other in
(``PlatformContext.forecaster``). Imported needs (``forecast_file``) override the forecaster's
for their hours (:func:`combined_need`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from flexhub.store.coordination import Neighbourhood


@dataclass(frozen=True)
class GridArea:
    """A neighbourhood as a forecaster sees it: where it is, its transformer, its parameters
    and what is registered in it."""

    id: str
    price_area: str
    currency: str
    time_zone: str
    capacity_kw: float | None
    latitude: float | None  # the centre, for the sun
    longitude: float | None
    params: Mapping[str, Any] = field(default_factory=dict)
    locations: int = 0  # registered locations inside it (households when params give none)
    resources: Mapping[str, int] = field(default_factory=dict)  # resource type → count


class NeedForecaster(Protocol):
    def need(self, area: GridArea, hours: Sequence[datetime]) -> list[float]:
        """The need (kW) for each of ``hours`` (UTC hour starts), in order."""
        ...


def centre(row: Neighbourhood) -> tuple[float | None, float | None]:
    """(latitude, longitude): the parameters' ``latitude``/``longitude`` when given, else the
    mean of the outer ring's vertices of the geometry (or the legacy polygon)."""
    params = row.params or {}
    lat, lon = params.get("latitude"), params.get("longitude")
    if isinstance(lat, int | float) and isinstance(lon, int | float):
        return float(lat), float(lon)
    ring: Sequence[Sequence[float]] | None = None
    geometry = row.geometry or {}
    coordinates = geometry.get("coordinates") if isinstance(geometry, dict) else None
    try:
        if geometry.get("type") == "Polygon":
            ring = coordinates[0]
        elif geometry.get("type") == "MultiPolygon":
            ring = coordinates[0][0]
    except (TypeError, IndexError, KeyError):
        ring = None
    if not ring:
        ring = row.polygon
    if not ring:
        return None, None
    points = list(ring[:-1] if len(ring) > 1 and list(ring[0]) == list(ring[-1]) else ring)
    return (
        sum(float(p[1]) for p in points) / len(points),
        sum(float(p[0]) for p in points) / len(points),
    )


def grid_area(
    row: Neighbourhood, locations: int = 0, resources: Mapping[str, int] | None = None
) -> GridArea:
    latitude, longitude = centre(row)
    return GridArea(
        id=row.id,
        price_area=row.price_area,
        currency=row.currency,
        time_zone=row.time_zone or "Europe/Oslo",
        capacity_kw=row.capacity_kw,
        latitude=latitude,
        longitude=longitude,
        params=dict(row.params or {}),
        locations=locations,
        resources=dict(resources or {}),
    )


def combined_need(
    forecaster: NeedForecaster,
    area: GridArea,
    hours: Sequence[datetime],
    imported: Mapping[datetime, float],
) -> list[float]:
    """The forecaster's need, each imported hour replacing the forecaster's value."""
    built = forecaster.need(area, hours)
    return [imported.get(hour, value) for hour, value in zip(hours, built, strict=True)]


def lpc_hours(area: GridArea, hours: Sequence[datetime], need: Sequence[float]) -> list[datetime]:
    """Hours where shifting is not enough: the overload is more than the neighbourhood's
    ``lpc_margin`` (default 0.25) of its transformer capacity."""
    if not area.capacity_kw:
        return []
    margin = float(area.params.get("lpc_margin", 0.25)) * area.capacity_kw
    return [hour for hour, kw in zip(hours, need, strict=True) if kw > margin]
