"""Neighbourhoods from a GeoJSON FeatureCollection: what a feature may hold, the defaults of
its price area, every problem named by its feature, and the sandbox test areas."""

from __future__ import annotations

import pytest

from flexhub.platform.engines.neighbourhoods import (
    SANDBOX_AREAS,
    CollectionError,
    parse_collection,
    sandbox_specs,
    spec_of_row,
    square,
    with_sandbox,
)
from flexhub.platform.engines.placement import AreaInput, Placement
from flexhub.store.coordination import Neighbourhood

RING = [[10.0, 59.0], [11.0, 59.0], [11.0, 60.0], [10.0, 60.0], [10.0, 59.0]]


def feature(ident="nh-1", geometry=None, **properties) -> dict:
    return {
        "type": "Feature",
        "id": ident,
        "geometry": {"type": "Polygon", "coordinates": [[list(p) for p in RING]]}
        if geometry is None
        else geometry,
        "properties": {"priceArea": "NO1", **properties},
    }


def collection(*features) -> dict:
    return {"type": "FeatureCollection", "features": list(features)}


def problems_of(data) -> list[str]:
    with pytest.raises(CollectionError) as caught:
        parse_collection(data)
    return caught.value.problems


def test_a_full_feature_and_the_defaults_of_its_price_area():
    full = feature(
        "oslo-t1",
        name="Sagene T1",
        timeZone="Europe/Oslo",
        currency="NOK",
        capacityKw=800,
        meterPointIds=["707057500012345678"],
        params={"solarKwp": 120, "households": 300},
    )
    bare = feature("hel-7", priceArea="FI")
    bare["geometry"]["coordinates"][0][0] = [10, 59, 12.5]  # an altitude is dropped
    bare["geometry"]["coordinates"][0][-1] = [10, 59, 12.5]
    one, two = parse_collection(collection(full, bare))
    assert one.id == "oslo-t1" and one.name == "Sagene T1" and one.capacity_kw == 800.0
    assert one.meter_point_ids == ("707057500012345678",)
    assert one.params == {"solarKwp": 120, "households": 300}
    assert one.geometry == {"type": "Polygon", "coordinates": [RING]}
    assert (two.name, two.time_zone, two.currency) == ("hel-7", "Europe/Helsinki", "EUR")
    assert two.capacity_kw is None and two.meter_point_ids == () and two.params == {}
    assert two.geometry["coordinates"][0][0] == [10.0, 59.0]
    assert one.feature()["properties"]["priceArea"] == "NO1"
    assert parse_collection(collection(one.feature())) == [one]  # a feature reads back as itself


def test_meters_only_and_numeric_ids():
    (spec,) = parse_collection(
        collection(
            {
                "type": "Feature",
                "id": 17,
                "geometry": None,
                "properties": {"priceArea": "SE3", "meterPointIds": ["m1", "m2"]},
            }
        )
    )
    assert spec.id == "17" and spec.geometry is None and spec.currency == "SEK"
    assert spec.time_zone == "Europe/Stockholm"


def test_every_problem_is_named_by_its_feature():
    problems = problems_of(
        collection(
            feature("ok"),
            feature("a", priceArea="NO9"),
            feature("b", currency="USD", timeZone="Mars/Olympus", capacityKw=-5),
            feature("c", colour="red"),
            feature("d", geometry={"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]}),
            feature("", meterPointIds=["x", "x", 7]),
            feature("ok"),
            {"type": "Feature", "id": "e", "geometry": None, "properties": {"priceArea": "NO2"}},
            "not a feature",
            feature("f/g"),
            feature("h", params={"kwp": float("nan")}),
        )
    )
    text = "\n".join(problems)
    for expected in (
        "features[1].properties.priceArea: must be one of NO1",
        "features[2].properties.currency: must be one of NOK, EUR, SEK, DKK",
        "features[2].properties.timeZone: 'Mars/Olympus' is not an IANA time zone name",
        "features[2].properties.capacityKw: must be a positive finite number",
        "features[3].properties.colour: is not a known property",
        "features[4].geometry.coordinates[0]: a linear ring has at least four positions",
        "features[5].id: must not be empty",
        "features[5].properties.meterPointIds[1]: 'x' is listed twice",
        "features[5].properties.meterPointIds[2]: must be text",
        "features[6].id: 'ok' is also the id of features[0]",
        "features[7].geometry: a neighbourhood needs an area (geometry) or meterPointIds",
        "features[8]: must be a GeoJSON Feature object",
        "features[9].id: must not contain '/'",
        "features[10].properties.params.kwp: must be a finite number",
    ):
        assert expected in text, (expected, problems)


def test_a_meter_point_belongs_to_one_neighbourhood():
    problems = problems_of(
        collection(feature("a", meterPointIds=["m"]), feature("b", meterPointIds=["m"]))
    )
    assert problems == [
        "features[1].properties.meterPointIds: 'm' is already in features[0] "
        "(a meter point is behind one transformer)"
    ]


@pytest.mark.parametrize(
    "data",
    [
        [],
        {"type": "Feature"},
        {"type": "FeatureCollection"},
        {"type": "FeatureCollection", "features": {}},
    ],
)
def test_not_a_feature_collection(data):
    assert len(problems_of(data)) == 1


def test_an_empty_collection_is_no_neighbourhoods():
    assert parse_collection(collection()) == []


def test_older_rows_with_only_a_ring_read_as_polygons():
    row = Neighbourhood(
        id="old",
        name="Old",
        price_area="NO2",
        currency="NOK",
        polygon=RING[:-1],  # open ring
        meter_point_ids=["m9"],
        geometry=None,
        time_zone="Europe/Oslo",
        params={},
    )
    spec = spec_of_row(row)
    assert spec.geometry["type"] == "Polygon"
    assert sorted(map(tuple, spec.geometry["coordinates"][0][:-1])) == sorted(map(tuple, RING[:-1]))
    p = Placement([AreaInput(spec.id, spec.shape(), spec.meter_point_ids)])
    assert p.place(59.5, 10.5) == "old" and p.place(58, 10.5) is None


def test_sandbox_areas_are_squares_around_their_centres_and_can_be_overridden():
    specs = sandbox_specs()
    assert [s.id for s in specs] == [a[0] for a in SANDBOX_AREAS]
    p = Placement([AreaInput(s.id, s.shape()) for s in specs])
    for area_id, _, lat, lon in SANDBOX_AREAS:
        assert p.place(lat, lon) == area_id
        assert p.place(lat + 0.049, lon - 0.049) == area_id
        assert p.place(lat + 0.051, lon) is None
    assert specs[0].geometry["coordinates"] == [square(*SANDBOX_AREAS[0][2:4], 0.05)]
    assert all(s.price_area == "NO4" and s.currency == "NOK" for s in specs)
    (mine,) = parse_collection(collection(feature("sandbox-test-area-1")))
    merged = with_sandbox([mine])
    assert [s.id for s in merged] == ["sandbox-test-area-1", "sandbox-test-area-2"]
    assert merged[0] is mine
