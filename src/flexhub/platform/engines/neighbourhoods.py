"""Neighbourhoods: grid areas behind one transformer, where flexibility may be needed. Each has
an area (a GeoJSON Polygon or MultiPolygon) and/or a list of meter points, a price area with
its currency and time zone, the transformer's capacity and optional solar and load parameters.

They are loaded from a GeoJSON FeatureCollection, one Feature per neighbourhood::

    {"type": "Feature", "id": "oslo-t1",
     "geometry": {"type": "Polygon", "coordinates": [[[10.7, 59.9], ...]]},
     "properties": {"name": "Sagene T1", "priceArea": "NO1", "timeZone": "Europe/Oslo",
                    "currency": "NOK", "capacityKw": 800, "meterPointIds": ["7070..."],
                    "params": {"solarKwp": 120, "households": 300}}}

This module is pure: it checks a collection (:func:`parse_collection`, every problem named by
its feature) into :class:`NeighbourhoodSpec` values, reads a stored row back into one
(:func:`spec_of_row`, also a row that only has the older ``polygon`` ring), and holds the
documented sandbox test areas, which are loaded as ordinary neighbourhoods at start.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import shapely
import shapely.errors
import shapely.geometry
from shapely.geometry.base import BaseGeometry

from flexhub.platform.engines.geometry import (
    GeometryError,
    as_geojson,
    normalised,
    parse_geometry,
    ring_geometry,
)
from flexhub.timeseries import PRICE_AREA_CURRENCIES, PRICE_AREA_ZONES
from flexhub.wire.coordination.common import id_problem, normalise_id

PRICE_AREAS = tuple(PRICE_AREA_CURRENCIES)
CURRENCIES = ("NOK", "EUR", "SEK", "DKK")
MAX_ID = 64  # the column's length
MAX_NAME = 200
MAX_FEATURES = 10_000
MAX_PROBLEMS = 20  # named in one error; the rest are counted
PROPERTIES = ("name", "priceArea", "timeZone", "currency", "capacityKw", "meterPointIds", "params")


@dataclass(frozen=True)
class NeighbourhoodSpec:
    """A neighbourhood as loaded: ``geometry`` is checked GeoJSON (or None: meters only)."""

    id: str
    name: str
    price_area: str
    time_zone: str
    currency: str
    capacity_kw: float | None = None
    meter_point_ids: tuple[str, ...] = ()
    geometry: dict[str, Any] | None = None
    params: dict[str, Any] = field(default_factory=dict)
    parsed: BaseGeometry | None = field(default=None, compare=False, repr=False)

    def shape(self) -> BaseGeometry | None:
        """The area as a shapely shape (the one checked when the spec was parsed)."""
        if self.parsed is not None or self.geometry is None:
            return self.parsed
        return parse_geometry(self.geometry)

    def row_values(self) -> dict[str, Any]:
        """The ``neighbourhoods`` columns it sets (``polygon`` is cleared: superseded)."""
        return {
            "name": self.name,
            "price_area": self.price_area,
            "time_zone": self.time_zone,
            "currency": self.currency,
            "capacity_kw": self.capacity_kw,
            "meter_point_ids": list(self.meter_point_ids),
            "geometry": self.geometry,
            "polygon": None,
            "params": dict(self.params),
        }

    def feature(self) -> dict[str, Any]:
        """The GeoJSON Feature it was (or could have been) loaded from."""
        properties: dict[str, Any] = {
            "name": self.name,
            "priceArea": self.price_area,
            "timeZone": self.time_zone,
            "currency": self.currency,
            "capacityKw": self.capacity_kw,
            "meterPointIds": list(self.meter_point_ids),
            "params": dict(self.params),
        }
        return {
            "type": "Feature",
            "id": self.id,
            "geometry": self.geometry,
            "properties": properties,
        }


class CollectionError(ValueError):
    """A FeatureCollection that cannot be loaded; ``problems`` name each bad feature field."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        shown = problems[:MAX_PROBLEMS]
        more = len(problems) - len(shown)
        text = "; ".join(shown) + (f"; and {more} more problem(s)" if more > 0 else "")
        super().__init__(text)


def _finite_json(value: Any, where: str, depth: int = 0) -> str | None:
    """Why a ``params`` value cannot be stored, or None (numbers finite, nesting shallow)."""
    if depth > 4:
        return f"{where}: nested too deeply"
    if isinstance(value, float) and not math.isfinite(value):
        return f"{where}: must be a finite number"
    if isinstance(value, dict):
        for k, v in value.items():
            problem = _finite_json(v, f"{where}.{k}", depth + 1)
            if problem:
                return problem
    if isinstance(value, list):
        for i, v in enumerate(value):
            problem = _finite_json(v, f"{where}[{i}]", depth + 1)
            if problem:
                return problem
    return None


def _zone_problem(name: Any) -> str | None:
    if not isinstance(name, str) or not name or len(name) > 64:
        return "must be an IANA time zone name such as Europe/Oslo"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return f"{name!r} is not an IANA time zone name"
    return None


class _Feature:
    """Checks one feature, collecting every problem under ``features[i]``."""

    def __init__(self, index: int, feature: Any) -> None:
        self.where = f"features[{index}]"
        self.problems: list[str] = []
        self.feature = feature if isinstance(feature, dict) else {}
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            self.problems.append(f"{self.where}: must be a GeoJSON Feature object")

    def bad(self, name: str, message: str) -> None:
        self.problems.append(f"{self.where}.{name}: {message}")

    def spec(self) -> NeighbourhoodSpec | None:
        feature = self.feature
        properties = feature.get("properties")
        if properties is None:
            properties = {}
        if not isinstance(properties, dict):
            self.bad("properties", "must be an object")
            properties = {}
        for key in properties:
            if key not in PROPERTIES and key != "id":
                self.bad(f"properties.{key}", f"is not a known property ({', '.join(PROPERTIES)})")
        ident = self._id(feature, properties)
        name = properties.get("name", ident)
        if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
            self.bad("properties.name", f"must be a text of 1 to {MAX_NAME} characters")
        area = properties.get("priceArea")
        if area not in PRICE_AREAS:
            self.bad("properties.priceArea", f"must be one of {', '.join(PRICE_AREAS)}")
            area = None
        zone = properties.get("timeZone", PRICE_AREA_ZONES.get(area or "", "Europe/Oslo"))
        problem = _zone_problem(zone)
        if problem:
            self.bad("properties.timeZone", problem)
        currency = properties.get("currency", PRICE_AREA_CURRENCIES.get(area or "", "NOK"))
        if currency not in CURRENCIES:
            self.bad("properties.currency", f"must be one of {', '.join(CURRENCIES)}")
        capacity = self._capacity(properties.get("capacityKw"))
        meters = self._meters(properties.get("meterPointIds", []))
        geometry, parsed = self._geometry(feature.get("geometry"))
        params = properties.get("params", {})
        if params is None:
            params = {}
        if not isinstance(params, dict):
            self.bad("properties.params", "must be an object")
        elif problem := _finite_json(params, "properties.params"):
            self.problems.append(f"{self.where}.{problem}")
        if geometry is None and not meters and not self.problems:
            self.bad("geometry", "a neighbourhood needs an area (geometry) or meterPointIds")
        if self.problems:
            return None
        return NeighbourhoodSpec(
            id=ident,
            name=name.strip(),
            price_area=area,
            time_zone=zone,
            currency=currency,
            capacity_kw=capacity,
            meter_point_ids=tuple(meters),
            geometry=geometry,
            params=params,
            parsed=parsed,
        )

    def _id(self, feature: dict, properties: dict) -> str:
        ident = feature.get("id", properties.get("id"))
        if isinstance(ident, int) and not isinstance(ident, bool):
            ident = str(ident)
        if not isinstance(ident, str):
            self.bad("id", "each feature needs an id (text), the neighbourhood's id")
            return ""
        ident = normalise_id(ident)
        problem = id_problem(ident) or (
            f"must be at most {MAX_ID} characters" if len(ident) > MAX_ID else None
        )
        if problem:
            self.bad("id", problem)
        return ident

    def _capacity(self, value: Any) -> float | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.bad("properties.capacityKw", "must be a number (kW)")
            return None
        if not math.isfinite(value) or value <= 0:
            self.bad("properties.capacityKw", "must be a positive finite number (kW)")
            return None
        return float(value)

    def _meters(self, value: Any) -> list[str]:
        if not isinstance(value, list):
            self.bad("properties.meterPointIds", "must be a list of meter point ids")
            return []
        meters: list[str] = []
        for i, meter in enumerate(value):
            problem = id_problem(normalise_id(meter)) if isinstance(meter, str) else "must be text"
            if problem:
                self.bad(f"properties.meterPointIds[{i}]", problem)
                continue
            meter = normalise_id(meter)
            if meter in meters:
                self.bad(f"properties.meterPointIds[{i}]", f"{meter!r} is listed twice")
                continue
            meters.append(meter)
        return meters

    def _geometry(self, value: Any) -> tuple[dict[str, Any] | None, BaseGeometry | None]:
        if value is None:
            return None, None
        try:
            shape = parse_geometry(value, "geometry")
        except GeometryError as exc:
            self.problems.append(f"{self.where}.{exc}")
            return None, None
        return normalised(value), shape


def parse_collection(data: Any) -> list[NeighbourhoodSpec]:
    """Every neighbourhood of a GeoJSON FeatureCollection, in file order; CollectionError
    naming every bad feature field, a repeated id and a meter point in two neighbourhoods."""
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise CollectionError(["the file must hold a GeoJSON FeatureCollection object"])
    features = data.get("features")
    if not isinstance(features, list):
        raise CollectionError(["features: must be a list of GeoJSON Features"])
    if len(features) > MAX_FEATURES:
        raise CollectionError([f"features: at most {MAX_FEATURES} neighbourhoods"])
    problems: list[str] = []
    specs: list[NeighbourhoodSpec] = []
    ids: dict[str, int] = {}
    meters: dict[str, int] = {}
    for i, raw in enumerate(features):
        checker = _Feature(i, raw)
        spec = checker.spec()
        problems.extend(checker.problems)
        if spec is None:
            continue
        if spec.id in ids:
            problems.append(
                f"features[{i}].id: {spec.id!r} is also the id of features[{ids[spec.id]}]"
            )
            continue
        ids[spec.id] = i
        for meter in spec.meter_point_ids:
            if meter in meters:
                problems.append(
                    f"features[{i}].properties.meterPointIds: {meter!r} is already in "
                    f"features[{meters[meter]}] (a meter point is behind one transformer)"
                )
            meters.setdefault(meter, i)
        specs.append(spec)
    if problems:
        raise CollectionError(problems)
    return specs


def spec_of_row(row: Any) -> NeighbourhoodSpec:
    """A stored ``neighbourhoods`` row as a spec; a row with only the older ``polygon`` ring
    gets that ring as its Polygon."""
    geometry = row.geometry
    if geometry is None and row.polygon:
        shape = ring_geometry(row.polygon)
        geometry = as_geojson(shape) if shape is not None else None
    return NeighbourhoodSpec(
        id=row.id,
        name=row.name,
        price_area=row.price_area,
        time_zone=row.time_zone or PRICE_AREA_ZONES.get(row.price_area, "Europe/Oslo"),
        currency=row.currency,
        capacity_kw=row.capacity_kw,
        meter_point_ids=tuple(row.meter_point_ids or ()),
        geometry=geometry,
        params=dict(row.params or {}),
    )


def shape_of_row(row: Any) -> BaseGeometry | None:
    """A stored row's area: its geometry (checked when it was loaded, so read as it is), else
    its older ``polygon`` ring."""
    if row.geometry is not None:
        try:
            shape = shapely.geometry.shape(row.geometry)
        except (KeyError, TypeError, ValueError, AttributeError, shapely.errors.GEOSException):
            return None  # written by hand around the loader, and not GeoJSON: places nothing
        return shape if shape.geom_type in ("Polygon", "MultiPolygon") else None
    return ring_geometry(row.polygon)


SANDBOX_HALF_SIZE_DEG = 0.05
# The sandbox test areas of the documentation (Svalbard). Svalbard is outside the Nordic price
# areas; NO4 (northern Norway) is the closest plausible one, and the currency is NOK.
SANDBOX_AREAS = (
    ("sandbox-test-area-1", "Sandbox test area 1", 79.51913682860402, 15.97611317258921),
    ("sandbox-test-area-2", "Sandbox test area 2", 78.22094240482632, 15.619465054484257),
)
SANDBOX_PRICE_AREA = "NO4"


def square(latitude: float, longitude: float, half: float) -> list[list[float]]:
    """A closed ``[[lon, lat], ...]`` square ring around a point."""
    return [
        [longitude - half, latitude - half],
        [longitude + half, latitude - half],
        [longitude + half, latitude + half],
        [longitude - half, latitude + half],
        [longitude - half, latitude - half],
    ]


def sandbox_specs() -> list[NeighbourhoodSpec]:
    """The documented sandbox test areas, as neighbourhoods."""
    return [
        NeighbourhoodSpec(
            id=area_id,
            name=name,
            price_area=SANDBOX_PRICE_AREA,
            time_zone="Europe/Oslo",
            currency="NOK",
            geometry={
                "type": "Polygon",
                "coordinates": [square(latitude, longitude, SANDBOX_HALF_SIZE_DEG)],
            },
        )
        for area_id, name, latitude, longitude in SANDBOX_AREAS
    ]


def with_sandbox(specs: Iterable[NeighbourhoodSpec]) -> list[NeighbourhoodSpec]:
    """``specs`` and, after them, each sandbox area whose id they do not use."""
    given = list(specs)
    ids = {s.id for s in given}
    return given + [s for s in sandbox_specs() if s.id not in ids]
