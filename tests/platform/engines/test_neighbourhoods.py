"""Neighbourhoods: the geometry and neighbourhood matching, and the sandbox seed."""

from __future__ import annotations

from sqlalchemy import select

from flexhub.platform.engines.neighbourhoods import (
    SANDBOX_AREAS,
    Area,
    areas_for,
    ensure_sandbox_neighbourhoods,
    meter_in_areas,
    point_in_polygon,
    square,
)
from flexhub.store.coordination import Neighbourhood
from flexhub.store.database import Database

SQUARE = [[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0], [0.0, 0.0]]
# concave "U" opening upwards: the notch is x in (3, 7), y > 3
U_SHAPE = [[0, 0], [10, 0], [10, 10], [7, 10], [7, 3], [3, 3], [3, 10], [0, 10]]


def test_point_in_square():
    assert point_in_polygon(5, 5, SQUARE)
    assert point_in_polygon(0.001, 9.999, SQUARE)  # lat, lon
    assert not point_in_polygon(-0.001, 5, SQUARE)
    assert not point_in_polygon(5, 10.5, SQUARE)
    assert not point_in_polygon(50, 50, SQUARE)


def test_open_and_closed_rings_agree():
    open_ring = SQUARE[:-1]
    for lat, lon in [(5, 5), (1, 9), (11, 5), (-1, -1), (9.9, 0.1)]:
        assert point_in_polygon(lat, lon, open_ring) == point_in_polygon(lat, lon, SQUARE)


def test_concave_polygon():
    assert point_in_polygon(1, 5, U_SHAPE)  # the bottom bar
    assert point_in_polygon(8, 1, U_SHAPE)  # left arm (lon 1)
    assert point_in_polygon(8, 9, U_SHAPE)  # right arm (lon 9)
    assert not point_in_polygon(8, 5, U_SHAPE)  # inside the notch
    assert not point_in_polygon(11, 5, U_SHAPE)


def test_ray_through_vertices_is_counted_once():
    diamond = [[0, -1], [1, 0], [0, 1], [-1, 0]]  # [lon, lat]
    assert point_in_polygon(0, 0, diamond)
    assert not point_in_polygon(0, 2, diamond)  # the ray at lat 0 passes the vertex (1, 0)
    assert not point_in_polygon(1, -0.5, diamond)


def test_degenerate_rings_contain_nothing():
    assert not point_in_polygon(0, 0, [])
    assert not point_in_polygon(0, 0, [[0, 0], [1, 1]])


def _area(polygon=None, meters=()) -> Area:
    return Area.of(
        Neighbourhood(
            id="a",
            name="a",
            price_area="NO1",
            currency="NOK",
            polygon=polygon,
            meter_point_ids=list(meters),
        )
    )


def test_area_matches_by_polygon_or_meter():
    by_shape = _area(polygon=SQUARE)
    by_meter = _area(meters=["m1"])
    both = [by_shape, by_meter]
    assert areas_for(both, 5, 5, []) == [by_shape]
    assert areas_for(both, 50, 50, ["m1"]) == [by_meter]
    assert areas_for(both, 5, 5, ["m2", "m1"]) == both
    assert areas_for(both, None, None, ["m2"]) == []
    assert areas_for(both, 5, None, []) == []
    assert meter_in_areas(both, "m1") and not meter_in_areas(both, "m2")


def test_sandbox_squares_contain_their_centres():
    for _, _, lat, lon in SANDBOX_AREAS:
        ring = square(lat, lon, 0.05)
        assert ring[0] == ring[-1]
        assert point_in_polygon(lat, lon, ring)
        assert point_in_polygon(lat + 0.049, lon - 0.049, ring)
        assert not point_in_polygon(lat + 0.051, lon, ring)


async def test_sandbox_seed_fills_an_empty_table_once(tmp_path):
    db = Database(f"sqlite+aiosqlite:///{tmp_path}/seed.db")
    try:
        await db.upgrade()
        async with db.session() as s:
            assert await ensure_sandbox_neighbourhoods(s) == 2
            await s.commit()
        async with db.session() as s:
            assert await ensure_sandbox_neighbourhoods(s) == 0
            rows = {n.id: n for n in (await s.scalars(select(Neighbourhood))).all()}
        assert set(rows) == {"sandbox-test-area-1", "sandbox-test-area-2"}
        area = Area.of(rows["sandbox-test-area-2"])
        assert area.contains(78.22094240482632, 15.619465054484257, [])
        assert area.price_area == "NO4" and area.currency == "NOK"
    finally:
        await db.dispose()
