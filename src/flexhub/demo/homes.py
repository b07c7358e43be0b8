"""The demo's grid and homes, drawn from a seed: two neighbourhoods of Oslo (GeoJSON features
the platform loads), and in them homes with base load and some of: an EV, a hot water tank, a
heat pump, a home battery, rooftop solar. Each home is what the provider registers on the
Energy Coordination API (a user, a location with its meter point, resources) and what its
agent runs (assets of the simulated driver with their device parameters). Pure: no I/O."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

ZONE = "Europe/Oslo"
PRICE_AREA = "NO1"

# Local-hour base load of a home (kW), without the devices flexhub controls.
BASE_KW = (
    0.35, 0.30, 0.28, 0.27, 0.28, 0.35, 0.55, 0.80, 0.70, 0.50, 0.45, 0.42,
    0.42, 0.40, 0.40, 0.50, 0.75, 1.00, 1.10, 1.05, 0.95, 0.80, 0.60, 0.45,
)  # fmt: skip


@dataclass(frozen=True)
class Area:
    """A neighbourhood: a square (south-west corner, side in degrees) behind one transformer."""

    id: str
    name: str
    lon: float
    lat: float
    size: float
    kw_per_home: float  # transformer capacity per home
    solar_kwp_per_home: float  # a solar park behind the transformer, per home

    def ring(self) -> list[list[float]]:
        x, y, s = self.lon, self.lat, self.size
        return [[x, y], [x + s, y], [x + s, y + s], [x, y + s], [x, y]]


AREAS = (
    Area("oslo-sagene", "Sagene T4", 10.745, 59.934, 0.010, 3.0, 0.0),
    Area("oslo-ensjo", "Ensjø T2 (solar park)", 10.780, 59.912, 0.010, 3.0, 40.0),
)


@dataclass(frozen=True)
class Asset:
    """One asset of a home, as the agent's inventory gives it (``AssetConfig`` fields)."""

    asset_id: str
    kind: str  # the agent's kinds: ev, water_heater, heat_pump, battery, load, solar
    resource_type: str | None  # the Energy Coordination resource type; None: not a resource
    max_import_kw: float
    max_export_kw: float
    device: dict[str, Any]

    @property
    def vehicle(self) -> bool:
        return self.resource_type == "Vehicle"


@dataclass(frozen=True)
class Home:
    user_id: str
    location_id: str
    meter_point_id: str
    area: str
    latitude: float
    longitude: float
    assets: tuple[Asset, ...] = field(default_factory=tuple)

    def asset_configs(self) -> list[dict[str, Any]]:
        """The agent inventory entries of this home's assets."""
        out = []
        for a in self.assets:
            entry: dict[str, Any] = {
                "asset_id": a.asset_id,
                "driver": "sim",
                "kind": a.kind,
                "max_import_kw": a.max_import_kw,
                "max_export_kw": a.max_export_kw,
                "location_id": self.location_id,
                "meter_point_id": self.meter_point_id,
                "device": dict(a.device),
            }
            if a.resource_type is not None:
                entry["resource_id"] = a.asset_id
            out.append(entry)
        return out


def _solar_kw(kwp: float) -> tuple[float, ...]:
    """A December day's rooftop output by local hour in Oslo (negative: fed in)."""
    out = []
    for h in range(24):
        sun = math.sin(math.pi * (h + 0.5 - 9) / 6) if 9 <= h < 15 else 0.0
        out.append(round(-kwp * 0.12 * max(sun, 0.0), 3))
    return tuple(out)


def _home(rng: random.Random, i: int, area: Area) -> Home:
    ident = f"home-{i:04d}"
    lat = area.lat + area.size * rng.uniform(0.05, 0.95)
    lon = area.lon + area.size * rng.uniform(0.05, 0.95)
    scale = rng.uniform(0.7, 1.4)
    assets = [
        Asset(
            f"{ident}-base",
            "load",
            None,
            0.0,
            0.0,
            {"power_kw": [round(v * scale, 3) for v in BASE_KW]},
        )
    ]
    if rng.random() < 0.45:
        kw = rng.choice((7.4, 11.0))
        assets.append(
            Asset(
                f"{ident}-ev",
                "ev",
                "Vehicle",
                kw,
                0.0,
                {
                    "capacity_kwh": rng.choice((60.0, 75.0)),
                    "plug_in_hour": rng.choice((16, 17, 17, 18)),
                    "departure_hour": rng.choice((6, 7, 7, 8)),
                    "energy_needed_kwh": round(rng.uniform(8, 24), 1),
                    "soc_kwh": round(rng.uniform(15, 30), 1),
                },
            )
        )
    if rng.random() < 0.6:
        draw = [0.0] * 24
        for h, litres in ((6, 40), (7, 50), (8, 20), (18, 30), (19, 40), (21, 20)):
            draw[h] = round(litres * rng.uniform(0.6, 1.3), 1)
        assets.append(
            Asset(
                f"{ident}-tank",
                "water_heater",
                "HotWaterTank",
                rng.choice((2.0, 3.0)),
                0.0,
                {
                    "volume_l": rng.choice((200.0, 300.0)),
                    "t_min": 50.0,
                    "t_max": 80.0,
                    "temperature": round(rng.uniform(58, 66), 1),
                    "draw_l": draw,
                },
            )
        )
    if rng.random() < 0.45:
        assets.append(
            Asset(
                f"{ident}-hp",
                "heat_pump",
                "HVAC",
                rng.choice((2.5, 3.5)),
                0.0,
                {
                    "capacity_kwh_per_k": round(rng.uniform(4, 8), 1),
                    "ua_kw_per_k": round(rng.uniform(0.10, 0.18), 3),
                    "t_min": 19.5,
                    "t_max": 23.0,
                    "temperature": round(rng.uniform(20.5, 22), 1),
                },
            )
        )
    if rng.random() < 0.3:
        assets.append(
            Asset(
                f"{ident}-battery",
                "battery",
                None,  # kept for the SO's obligation: a Flex Market asset, not a resource
                5.0,
                5.0,
                {"capacity_kwh": 13.5, "soc_kwh": round(rng.uniform(9, 12), 1)},
            )
        )
    if rng.random() < 0.3:
        kwp = rng.choice((4.0, 6.0, 8.0))
        assets.append(
            Asset(
                f"{ident}-solar", "solar", "SolarInverter", 0.0, kwp, {"power_kw": _solar_kw(kwp)}
            )
        )
    return Home(
        user_id=f"user-{i:04d}",
        location_id=f"loc-{i:04d}",
        meter_point_id=f"70705750{i:010d}",
        area=area.id,
        latitude=round(lat, 6),
        longitude=round(lon, 6),
        assets=tuple(assets),
    )


@dataclass(frozen=True)
class Fleet:
    homes: tuple[Home, ...]
    areas: tuple[Area, ...] = AREAS

    def homes_in(self, area: str) -> list[Home]:
        return [h for h in self.homes if h.area == area]

    def assets(self) -> list[tuple[Home, Asset]]:
        return [(h, a) for h in self.homes for a in h.assets]

    def batteries(self, area: str) -> list[tuple[Home, Asset]]:
        return [(h, a) for h, a in self.assets() if h.area == area and a.kind == "battery"]

    def feature_collection(self) -> dict[str, Any]:
        """The neighbourhoods as the platform loads them (GeoJSON FeatureCollection)."""
        features = []
        for area in self.areas:
            homes = len(self.homes_in(area.id))
            features.append(
                {
                    "type": "Feature",
                    "id": area.id,
                    "geometry": {"type": "Polygon", "coordinates": [area.ring()]},
                    "properties": {
                        "name": area.name,
                        "priceArea": PRICE_AREA,
                        "timeZone": ZONE,
                        "currency": "NOK",
                        "capacityKw": round(area.kw_per_home * max(homes, 1), 1),
                        "params": {"solar_kwp": round(area.solar_kwp_per_home * homes, 1)},
                    },
                }
            )
        return {"type": "FeatureCollection", "features": features}


def make_fleet(size: int, seed: int) -> Fleet:
    """``size`` homes, alternately in each neighbourhood, drawn from ``seed``."""
    rng = random.Random(seed)
    homes = tuple(_home(rng, i, AREAS[i % len(AREAS)]) for i in range(size))
    return Fleet(homes)
