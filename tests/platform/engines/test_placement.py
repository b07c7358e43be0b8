"""Placing locations into neighbourhoods: edges and corners belong to an area, holes do not,
multipolygons place in each part, meter points win over coordinates, the first area by id
wins on a shared edge, and placing 10,000 points at once agrees with placing them one by one."""

from __future__ import annotations

import random

import numpy as np
import pytest

from flexhub.platform.engines.geometry import GeometryError, parse_geometry, ring_geometry
from flexhub.platform.engines.placement import AreaInput, Placement

SQUARE = [[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0], [0.0, 0.0]]
HOLE = [[4.0, 4.0], [6.0, 4.0], [6.0, 6.0], [4.0, 6.0], [4.0, 4.0]]  # a window in SQUARE


def polygon(*rings) -> dict:
    return {"type": "Polygon", "coordinates": [list(r) for r in rings]}


def shifted(ring, dx: float, dy: float = 0.0) -> list[list[float]]:
    return [[x + dx, y + dy] for x, y in ring]


def index(**areas) -> Placement:
    inputs = []
    for area_id, spec in areas.items():
        shape = parse_geometry(spec["geometry"]) if spec.get("geometry") else None
        inputs.append(AreaInput(area_id, shape, tuple(spec.get("meters", ()))))
    return Placement(inputs)


def test_inside_outside_edges_and_corners():
    p = index(a={"geometry": polygon(SQUARE)})
    assert p.place(5, 5) == "a"  # latitude, longitude
    assert p.place(0, 5) == "a"  # on the bottom edge
    assert p.place(10, 10) == "a"  # a corner
    assert p.place(5, 0) == "a"  # the left edge
    assert p.place(-1e-9, 5) is None  # just below the edge
    assert p.place(5, 10.000001) is None
    assert p.place(None, 5) is None and p.place(5, None) is None


def test_a_diagonal_edge_is_inside_too():
    triangle = [[0.0, 0.0], [1.0, 1.0], [1.0, 0.0], [0.0, 0.0]]
    p = index(t={"geometry": polygon(triangle)})
    assert p.place(0.5, 0.5) == "t"  # on the hypotenuse
    assert p.place(0.25, 0.75) == "t"  # under it
    assert p.place(0.75, 0.25) is None  # above it


def test_holes_are_outside_but_their_edges_are_not():
    p = index(a={"geometry": polygon(SQUARE, HOLE)})
    assert p.place(5, 5) is None  # inside the hole
    assert p.place(4.5, 5.5) is None
    assert p.place(4, 5) == "a"  # on the hole's edge
    assert p.place(6, 6) == "a"  # the hole's corner
    assert p.place(3.9, 5) == "a"  # between shell and hole
    assert p.place_many([5, 4, 3.9], [5, 5, 5]) == [None, "a", "a"]


def test_multipolygon_places_in_every_part_and_their_holes_stay_empty():
    far = shifted(SQUARE, 100)
    multi = {"type": "MultiPolygon", "coordinates": [[SQUARE, HOLE], [far]]}
    p = index(m={"geometry": multi})
    assert p.place(5, 105) == "m"
    assert p.place(1, 1) == "m"
    assert p.place(5, 5) is None  # the first part's hole
    assert p.place(5, 50) is None  # between the parts
    assert p.areas_at(5, 110) == ["m"]


def test_shared_edge_goes_to_the_first_by_id_and_areas_for_lists_both():
    p = index(b={"geometry": polygon(shifted(SQUARE, 10))}, a={"geometry": polygon(SQUARE)})
    assert p.areas_at(5, 10) == ["a", "b"]
    assert p.place(5, 10) == "a"
    assert p.place_many([5], [10]) == ["a"]
    assert p.place(5, 15) == "b"


def test_meter_points_win_over_coordinates_in_listed_order():
    p = index(
        a={"geometry": polygon(SQUARE)},
        m={"meters": ["mp-1"]},
        n={"meters": ["mp-2"]},
    )
    assert p.place(5, 5, ["mp-x", "mp-2", "mp-1"]) == "n"
    assert p.place(None, None, ["mp-1"]) == "m"
    assert p.place(50, 50, ["mp-x"]) is None
    assert p.areas_for(5, 5, ["mp-1"]) == ["a", "m"]
    assert p.area_of_meter("mp-2") == "n" and p.area_of_meter("mp-x") is None
    assert p.place_many([5, None, 50], [5, None, 50], [["mp-2"], ["mp-1"], []]) == ["n", "m", None]


def test_no_areas_and_nan_coordinates_place_nothing():
    assert Placement([]).place(1, 1) is None
    assert Placement([]).place_many([1.0], [1.0]) == [None]
    p = index(a={"geometry": polygon(SQUARE)})
    assert p.place_points(np.array([np.nan, 5.0]), np.array([5.0, np.nan])).tolist() == [-1, -1]
    assert p.place_points(np.array([]), np.array([])).tolist() == []


def test_bulk_agrees_with_one_by_one_on_many_overlapping_areas():
    rng = random.Random(7)
    areas = {}
    for k in range(60):
        x, y = rng.uniform(0, 50), rng.uniform(0, 50)
        size = rng.uniform(1, 8)
        shell = [[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]
        hole = None
        if k % 3 == 0:
            q = size / 4
            hole = [[x + q, y + q], [x + 3 * q, y + q], [x + 3 * q, y + 3 * q], [x + q, y + 3 * q]]
            hole.append(hole[0])
        areas[f"a{k:03d}"] = {"geometry": polygon(shell, hole) if hole else polygon(shell)}
    p = index(**areas)
    lat = [rng.uniform(-5, 60) for _ in range(10_000)]
    lon = [rng.uniform(-5, 60) for _ in range(10_000)]
    bulk = p.place_many(lat, lon)
    single = [p.place(a, b) for a, b in zip(lat, lon, strict=True)]
    assert bulk == single
    assert 0 < sum(x is not None for x in bulk) < len(bulk)


def test_older_rings_read_as_polygons():
    open_ring = SQUARE[:-1]
    assert ring_geometry(open_ring).equals(ring_geometry(SQUARE))
    assert ring_geometry([[0, 0], [1, 1]]) is None and ring_geometry(None) is None
    bow_tie = [[0, 0], [2, 2], [2, 0], [0, 2]]  # self-crossing: repaired, still placing
    p = Placement([AreaInput("old", ring_geometry(bow_tie))])
    assert p.place(0.5, 1.8) == "old" and p.place(1, 0.2) == "old"
    assert p.place(0.2, 1.0) is None  # between the two lobes


@pytest.mark.parametrize(
    ("geometry", "where"),
    [
        ({"type": "Point", "coordinates": [1, 2]}, "geometry.type"),
        (polygon([[0, 0], [1, 0], [1, 1]]), "coordinates[0]: a linear ring has at least four"),
        (polygon([[0, 0], [1, 0], [1, 1], [0, 1]]), "coordinates[0]: a linear ring ends where"),
        (polygon([[0, 0], [1, 0], [1, "x"], [0, 0]]), "coordinates[0][2]"),
        (polygon([[0, 0], [181, 0], [1, 1], [0, 0]]), "longitude 181"),
        (polygon([[0, 0], [1, 0], [1, 91], [0, 0]]), "latitude 91"),
        (polygon([[0, 0], [2, 2], [2, 0], [0, 2], [0, 0]]), "not a valid area"),
        (polygon(HOLE, SQUARE), "not a valid area"),  # the "hole" outside its shell
        ({"type": "MultiPolygon", "coordinates": []}, "non-empty list of polygons"),
        ({"type": "Polygon", "coordinates": []}, "a polygon is a list of linear rings"),
        (polygon([[0, 0], [1, 0], [2, 0], [0, 0]]), "not a valid area"),  # no area
        ("POLYGON((0 0, 1 0, 1 1, 0 0))", "must be a GeoJSON Polygon or MultiPolygon"),
    ],
)
def test_bad_geometries_are_named(geometry, where):
    with pytest.raises(GeometryError) as caught:
        parse_geometry(geometry)
    assert where in str(caught.value)
