"""Placing locations into neighbourhoods. Pure: built from the neighbourhoods' areas and meter
points, it answers which neighbourhood(s) a location lies in, one at a time or 100,000 at once.

Rules:
- a location lies in a neighbourhood when one of its meter point ids is listed there, or when
  its coordinates lie in the neighbourhood's area; the area's boundary belongs to it (a point
  on an edge or a corner is inside, also on the edge of a hole), a hole's inside does not;
- its neighbourhood (:meth:`Placement.place`, the one whose price curves it gets) is the one
  of its first listed meter point that has one, else the first by id whose area holds it
  (two areas may share an edge);
- a location with neither coordinates nor a known meter point lies nowhere.

One location is looked up in an STRtree of the areas; many at once are swept (sorted by
longitude, each area taking the points in its bounding box). Either way candidates are tested
against prepared geometries (``shapely.intersects_xy``, vectorised per area).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry


@dataclass(frozen=True)
class AreaInput:
    """What placement needs of a neighbourhood."""

    id: str
    shape: BaseGeometry | None
    meter_point_ids: Sequence[str] = ()


class Placement:
    """An index of neighbourhoods (immutable once built; share it freely)."""

    def __init__(self, areas: Iterable[AreaInput]) -> None:
        ordered = sorted(areas, key=lambda a: a.id)
        self.ids: list[str] = [a.id for a in ordered]
        self.meters: dict[str, int] = {}
        for index, area in enumerate(ordered):
            for meter in area.meter_point_ids:
                self.meters.setdefault(meter, index)
        shaped = [(i, a.shape) for i, a in enumerate(ordered) if a.shape is not None]
        self._shape_index = np.array([i for i, _ in shaped], dtype=np.int64)
        self._shapes = [s for _, s in shaped]
        for shape in self._shapes:
            shapely.prepare(shape)
        self._tree = shapely.STRtree(self._shapes) if self._shapes else None
        self._bounds = [tuple(shape.bounds) for shape in self._shapes]

    def __len__(self) -> int:
        return len(self.ids)

    # -- one location ---------------------------------------------------------------------

    def _point_hits(self, latitude: float | None, longitude: float | None) -> list[int]:
        if latitude is None or longitude is None or self._tree is None:
            return []
        candidates = self._tree.query(shapely.Point(longitude, latitude))
        hits = [
            int(self._shape_index[c])
            for c in candidates
            if shapely.intersects_xy(self._shapes[c], longitude, latitude)
        ]
        return sorted(hits)

    def areas_at(self, latitude: float | None, longitude: float | None) -> list[str]:
        """Ids of the neighbourhoods whose area holds the point, by id."""
        return [self.ids[i] for i in self._point_hits(latitude, longitude)]

    def area_of_meter(self, meter_point_id: str) -> str | None:
        index = self.meters.get(meter_point_id)
        return None if index is None else self.ids[index]

    def areas_for(
        self, latitude: float | None, longitude: float | None, meter_point_ids: Iterable[str]
    ) -> list[str]:
        """Every neighbourhood the location lies in, by id."""
        hits = set(self._point_hits(latitude, longitude))
        hits.update(self.meters[m] for m in meter_point_ids if m in self.meters)
        return [self.ids[i] for i in sorted(hits)]

    def place(
        self, latitude: float | None, longitude: float | None, meter_point_ids: Iterable[str] = ()
    ) -> str | None:
        """The location's neighbourhood (see the module's rules), or None."""
        for meter in meter_point_ids:
            if meter in self.meters:
                return self.ids[self.meters[meter]]
        hits = self._point_hits(latitude, longitude)
        return self.ids[hits[0]] if hits else None

    # -- many locations -------------------------------------------------------------------

    def place_points(self, latitudes: Sequence[float], longitudes: Sequence[float]) -> np.ndarray:
        """For each point, the index (into ``ids``) of the first neighbourhood by id whose
        area holds it, or -1. NaN coordinates lie nowhere.

        No point geometries are made: the points are sorted by longitude once, each area takes
        the slice within its bounding box (a binary search, then the latitudes) and tests it
        against its prepared geometry in one vectorised call."""
        lat = np.asarray(latitudes, dtype=np.float64)
        lon = np.asarray(longitudes, dtype=np.float64)
        out = np.full(lat.shape[0], -1, dtype=np.int64)
        if not self._shapes or lat.shape[0] == 0:
            return out
        known = np.flatnonzero(~(np.isnan(lat) | np.isnan(lon)))
        order = known[np.argsort(lon[known], kind="stable")]
        sorted_lon = lon[order]
        none = np.iinfo(np.int64).max
        best = np.full(lat.shape[0], none, dtype=np.int64)
        for shape_no, (min_x, min_y, max_x, max_y) in enumerate(self._bounds):
            lo = np.searchsorted(sorted_lon, min_x, side="left")
            hi = np.searchsorted(sorted_lon, max_x, side="right")
            if lo >= hi:
                continue
            candidates = order[lo:hi]
            candidates = candidates[(lat[candidates] >= min_y) & (lat[candidates] <= max_y)]
            if candidates.shape[0] == 0:
                continue
            inside = shapely.intersects_xy(self._shapes[shape_no], lon[candidates], lat[candidates])
            winners = candidates[inside]
            np.minimum.at(best, winners, self._shape_index[shape_no])
        found = best != none
        out[found] = best[found]
        return out

    def place_many(
        self,
        latitudes: Sequence[float | None],
        longitudes: Sequence[float | None],
        meters: Sequence[Sequence[str]] | None = None,
    ) -> list[str | None]:
        """:meth:`place` for many locations at once (``meters[i]``: location i's meter point
        ids in registration order; None for none anywhere)."""
        lat = np.array([np.nan if v is None else v for v in latitudes], dtype=np.float64)
        lon = np.array([np.nan if v is None else v for v in longitudes], dtype=np.float64)
        index = self.place_points(lat, lon)
        result: list[str | None] = [self.ids[i] if i >= 0 else None for i in index.tolist()]
        if meters is not None and self.meters:
            for i, listed in enumerate(meters):
                for meter in listed:
                    if meter in self.meters:
                        result[i] = self.ids[self.meters[meter]]
                        break
        return result
