"""Neighbourhood areas as shapely geometries: a GeoJSON Polygon or MultiPolygon (WGS84,
``[longitude, latitude]`` positions, holes allowed) checked and turned into a shapely shape,
and the older ``polygon`` column (one ``[[lon, lat], ...]`` ring, closed or not) read the same
way. Pure: no database, no HTTP.

A geometry is refused with a :class:`GeometryError` naming where it is wrong
(``coordinates[0][3]``) when a position is not two or three finite numbers, a longitude or
latitude is out of range, a ring has fewer than four positions or is not closed, or the shape
is not a valid area (self-intersecting rings, a hole outside its shell...).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

MAX_POSITIONS = 100_000  # per neighbourhood
AREA_TYPES = ("Polygon", "MultiPolygon")


class GeometryError(ValueError):
    """A geometry that cannot be a neighbourhood's area; the message says where and why."""


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _position(value: Any, where: str) -> tuple[float, float]:
    if not isinstance(value, list | tuple) or len(value) not in (2, 3):
        raise GeometryError(f"{where}: a position is [longitude, latitude]")
    if not all(_number(v) for v in value):
        raise GeometryError(f"{where}: a position holds finite numbers only")
    lon, lat = float(value[0]), float(value[1])
    if not -180.0 <= lon <= 180.0:
        raise GeometryError(f"{where}: longitude {lon:g} is outside -180..180")
    if not -90.0 <= lat <= 90.0:
        raise GeometryError(f"{where}: latitude {lat:g} is outside -90..90")
    return lon, lat


def _ring(value: Any, where: str) -> list[tuple[float, float]]:
    if not isinstance(value, list | tuple):
        raise GeometryError(f"{where}: a linear ring is a list of positions")
    ring = [_position(p, f"{where}[{i}]") for i, p in enumerate(value)]
    if len(ring) < 4:
        raise GeometryError(f"{where}: a linear ring has at least four positions")
    if ring[0] != ring[-1]:
        raise GeometryError(f"{where}: a linear ring ends where it starts (closed)")
    return ring


def _rings(value: Any, where: str) -> list[list[tuple[float, float]]]:
    if not isinstance(value, list | tuple) or not value:
        raise GeometryError(f"{where}: a polygon is a list of linear rings (shell, then holes)")
    return [_ring(r, f"{where}[{i}]") for i, r in enumerate(value)]


def parse_geometry(value: Any, where: str = "geometry") -> BaseGeometry:
    """A GeoJSON Polygon or MultiPolygon as a valid shapely shape (GeometryError otherwise)."""
    if not isinstance(value, dict):
        raise GeometryError(f"{where}: must be a GeoJSON Polygon or MultiPolygon object")
    kind = value.get("type")
    if kind not in AREA_TYPES:
        raise GeometryError(f"{where}.type: must be Polygon or MultiPolygon, not {kind!r}")
    coordinates = value.get("coordinates")
    at = f"{where}.coordinates"
    if kind == "Polygon":
        parts = [_rings(coordinates, at)]
    else:
        if not isinstance(coordinates, list | tuple) or not coordinates:
            raise GeometryError(f"{at}: a MultiPolygon is a non-empty list of polygons")
        parts = [_rings(p, f"{at}[{i}]") for i, p in enumerate(coordinates)]
    count = sum(len(r) for rings in parts for r in rings)
    if count > MAX_POSITIONS:
        raise GeometryError(f"{at}: at most {MAX_POSITIONS} positions ({count} given)")
    polygons = [Polygon(rings[0], rings[1:]) for rings in parts]
    shape: BaseGeometry = polygons[0] if kind == "Polygon" else MultiPolygon(polygons)
    if not shape.is_valid:
        reason = shapely.is_valid_reason(shape)
        raise GeometryError(f"{where}: not a valid area ({reason})")
    if shape.area == 0:
        raise GeometryError(f"{where}: encloses no area")
    return shape


def normalised(value: dict[str, Any]) -> dict[str, Any]:
    """The GeoJSON of a checked geometry as stored: type and coordinates only, positions as
    ``[lon, lat]`` floats (a third number, an altitude, is dropped)."""

    def ring(r: Sequence[Sequence[float]]) -> list[list[float]]:
        return [[float(p[0]), float(p[1])] for p in r]

    if value["type"] == "Polygon":
        return {"type": "Polygon", "coordinates": [ring(r) for r in value["coordinates"]]}
    return {
        "type": "MultiPolygon",
        "coordinates": [[ring(r) for r in p] for p in value["coordinates"]],
    }


def ring_geometry(ring: Sequence[Sequence[float]] | None) -> BaseGeometry | None:
    """The older ``polygon`` column: one ``[[lon, lat], ...]`` ring, closed or not (None when
    it has fewer than three corners). An invalid ring is repaired (``make_valid``) so that old
    rows keep placing what they placed before."""
    if not ring or len(ring) < 3:
        return None
    shape = Polygon([(float(p[0]), float(p[1])) for p in ring])
    if not shape.is_valid:
        shape = shapely.make_valid(shape)
    return shape if shape.area > 0 else None


def as_geojson(shape: BaseGeometry) -> dict[str, Any]:
    """A polygonal shapely shape as a GeoJSON geometry (closed rings, ``[lon, lat]``)."""
    mapping = shapely.geometry.mapping(shape)
    return normalised({"type": mapping["type"], "coordinates": mapping["coordinates"]})
