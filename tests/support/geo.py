"""Neighbourhood tests: GeoJSON features to load, and a platform of their own (a fresh
database of the session's kind), since loading neighbourhoods replaces the whole set."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from support.databases import make_backend, platform_settings
from support.platform import PlatformThread


def square_ring(lon: float, lat: float, size: float) -> list[list[float]]:
    """A closed ``[[lon, lat], ...]`` square ring with its south-west corner at (lon, lat)."""
    return [
        [lon, lat],
        [lon + size, lat],
        [lon + size, lat + size],
        [lon, lat + size],
        [lon, lat],
    ]


def square_feature(
    ident: str, lon: float, lat: float, size: float = 0.01, **properties: Any
) -> dict[str, Any]:
    """A neighbourhood Feature with a square area (priceArea NO1 unless given)."""
    return {
        "type": "Feature",
        "id": ident,
        "geometry": {"type": "Polygon", "coordinates": [square_ring(lon, lat, size)]},
        "properties": {"priceArea": "NO1", **properties},
    }


def meter_feature(ident: str, meters: list[str], **properties: Any) -> dict[str, Any]:
    """A neighbourhood Feature defined by meter points only."""
    return {
        "type": "Feature",
        "id": ident,
        "geometry": None,
        "properties": {"priceArea": "NO1", "meterPointIds": meters, **properties},
    }


def collection(*features: dict[str, Any]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}


def own_platform(kind: str, tmp_path_factory, **overrides: Any) -> Iterator[PlatformThread]:
    """A platform (with its worker) on a fresh database of ``kind``; stopped and dropped
    afterwards. ``overrides``: settings, e.g. ``eligibility_cycle_seconds``."""
    for backend in make_backend(kind, tmp_path_factory.mktemp(f"geo-{kind}")):
        settings = platform_settings(backend.url, tmp_path_factory.mktemp("data"), **overrides)
        running = PlatformThread(settings).start()
        try:
            yield running
        finally:
            running.stop()
