"""Locations: create, read, PUT, PATCH, delete, batch; meters, conflicts and validation."""

from __future__ import annotations

from sqlalchemy import func, select

from flexhub.store.coordination import EcLocation, EcLocationMeter
from support.ec_assets import (
    BERGEN,
    OSLO,
    error_string,
    new_location,
    new_user,
    stored_count,
    uid,
)
from support.ec_schemas import check


async def stored_locations(test_db, tenant_id: str) -> int:
    return await stored_count(test_db, EcLocation, tenant_id)


async def test_create_location_answers_the_documented_shape(ec):
    user_id = await new_user(ec)
    location_id, meters = uid("l"), [uid("mp"), uid("mp")]
    r = await ec.client.post(
        f"/users/{user_id}/locations",
        json={
            "locationId": location_id,
            "locationType": "Residential",
            "coordinates": OSLO,
            "meterPointIds": meters,
        },
    )
    assert r.status_code == 201
    assert check("GetLocationResponse", r.json()) == {
        "locationId": location_id,
        "locationType": "Residential",
        "coordinates": OSLO,
        "meterPointId": meters[0],
        "meterPointIds": meters,
        "userId": user_id,
    }
    r = await ec.client.get(f"/users/{user_id}/locations/{location_id}")
    assert (
        r.status_code == 200 and check("GetLocationResponse", r.json())["meterPointIds"] == meters
    )


async def test_defaults_and_omitted_coordinates(ec):
    user_id = await new_user(ec)
    body = await new_location(ec, user_id)
    assert body["locationType"] == "Unknown"
    assert "coordinates" not in body
    assert body["meterPointId"] is None and body["meterPointIds"] == []
    # explicit nulls (as generated clients send them) mean "not given"
    body = await new_location(
        ec, user_id, locationType=None, coordinates=None, meterPointId=None, meterPointIds=None
    )
    assert body["locationType"] == "Unknown" and "coordinates" not in body


async def test_deprecated_meter_point_id_is_folded_in_first(ec):
    user_id = await new_user(ec)
    a, b = uid("mp"), uid("mp")
    body = await new_location(ec, user_id, meterPointId=a, meterPointIds=[b])
    assert body["meterPointIds"] == [a, b] and body["meterPointId"] == a
    c = uid("mp")
    body = await new_location(ec, user_id, meterPointId=c, meterPointIds=[c])
    assert body["meterPointIds"] == [c]
    d = uid("mp")
    body = await new_location(ec, user_id, meterPointId=d)
    assert body["meterPointIds"] == [d] and body["meterPointId"] == d


async def test_list_locations_of_a_user(ec):
    user_id, other = await new_user(ec), await new_user(ec)
    first = await new_location(ec, user_id, coordinates=OSLO)
    second = await new_location(ec, user_id, meterPointIds=[uid("mp")])
    await new_location(ec, other)
    r = await ec.client.get(f"/users/{user_id}/locations")
    assert r.status_code == 200
    assert check("GetLocationResponse", r.json(), array=True) == [first, second]
    r = await ec.client.get(f"/users/{await new_user(ec)}/locations")
    assert r.status_code == 200 and r.json() == []


async def test_unknown_user_or_location_is_a_404(ec):
    user_id, other = await new_user(ec), await new_user(ec)
    location = await new_location(ec, user_id)
    lid = location["locationId"]
    # the document lists no 404 for listing a user's locations: an unknown user is its 400
    assert "was not found" in error_string(await ec.client.get(f"/users/{uid()}/locations"), 400)
    r = await ec.client.post(f"/users/{uid()}/locations", json={"locationId": uid()})
    error_string(r, 404)
    error_string(await ec.client.get(f"/users/{user_id}/locations/{uid()}"), 404)
    # a location is reached only through its own user
    error_string(await ec.client.get(f"/users/{other}/locations/{lid}"), 404)
    error_string(
        await ec.client.put(f"/users/{other}/locations/{lid}", json={"locationId": lid}), 404
    )
    error_string(await ec.client.patch(f"/users/{other}/locations/{lid}", json={}), 404)
    error_string(await ec.client.delete(f"/users/{other}/locations/{lid}"), 404)
    error_string(await ec.client.get(f"/users/{user_id}/locations/{'q' * 250}"), 404)
    assert (await ec.client.get(f"/users/{user_id}/locations/{lid}")).status_code == 200


async def test_duplicate_location_id_is_a_409(ec, test_db):
    user_id, other = await new_user(ec), await new_user(ec)
    location = await new_location(ec, user_id)
    for owner in (user_id, other):
        r = await ec.client.post(
            f"/users/{owner}/locations", json={"locationId": location["locationId"]}
        )
        assert r.status_code == 409
    assert await stored_locations(test_db, ec.id) == 1


async def test_meter_on_another_location_is_a_409(ec, test_db):
    user_id, other = await new_user(ec), await new_user(ec)
    meter = uid("mp")
    await new_location(ec, user_id, meterPointIds=[meter])
    for owner in (user_id, other):
        r = await ec.client.post(
            f"/users/{owner}/locations",
            json={"locationId": uid(), "meterPointIds": [uid("mp"), meter]},
        )
        assert r.status_code == 409
        r = await ec.client.post(
            f"/users/{owner}/locations", json={"locationId": uid(), "meterPointId": meter}
        )
        assert r.status_code == 409
    assert await stored_locations(test_db, ec.id) == 1


async def test_bad_location_bodies_are_400_strings(ec, test_db):
    user_id = await new_user(ec)
    cases = [
        ({}, "locationId"),
        ({"locationId": ""}, "locationId"),
        ({"locationId": "a", "locationType": "House"}, "locationType"),
        ({"locationId": "a", "coordinates": {"latitude": 91, "longitude": 0}}, "latitude"),
        ({"locationId": "a", "coordinates": {"latitude": -90.5, "longitude": 0}}, "latitude"),
        ({"locationId": "a", "coordinates": {"latitude": 0, "longitude": 180.01}}, "longitude"),
        ({"locationId": "a", "coordinates": {"latitude": 0, "longitude": -181}}, "longitude"),
        ({"locationId": "a", "coordinates": {"latitude": 10}}, "coordinates"),
        ({"locationId": "a", "coordinates": {}}, "coordinates"),
        ({"locationId": "a", "coordinates": {"latitude": "10", "longitude": 1}}, "latitude"),
        ({"locationId": "a", "coordinates": {"latitude": True, "longitude": 1}}, "latitude"),
        ({"locationId": "a", "coordinates": {"latitude": 1, "longitude": 1, "z": 1}}, "z"),
        ({"locationId": "a", "meterPointIds": ["m", "m"]}, "meterPointIds"),
        ({"locationId": "a", "meterPointIds": [""]}, "meterPointIds[0]"),
        ({"locationId": "a", "meterPointIds": "m1"}, "meterPointIds"),
        ({"locationId": "a", "meterPointId": 7}, "meterPointId"),
        ({"locationId": "a", "userId": user_id}, "userId"),
    ]
    for body, field in cases:
        r = await ec.client.post(f"/users/{user_id}/locations", json=body)
        assert field in error_string(r, 400), body
    for raw in (
        b'{"locationId":"a","coordinates":{"latitude":NaN,"longitude":1}}',
        b'{"locationId":"a","coordinates":{"latitude":1,"longitude":Infinity}}',
    ):
        r = await ec.client.post(
            f"/users/{user_id}/locations", content=raw, headers={"content-type": "application/json"}
        )
        error_string(r, 400)
    assert await stored_locations(test_db, ec.id) == 0
    # the edges are valid
    body = await new_location(ec, user_id, coordinates={"latitude": -90, "longitude": 180})
    assert body["coordinates"] == {"latitude": -90, "longitude": 180}


async def test_put_replaces_everything(ec):
    user_id = await new_user(ec)
    a, b = uid("mp"), uid("mp")
    location = await new_location(
        ec, user_id, locationType="Commercial", coordinates=OSLO, meterPointIds=[a]
    )
    lid = location["locationId"]
    r = await ec.client.put(
        f"/users/{user_id}/locations/{lid}", json={"locationId": lid, "meterPointIds": [b]}
    )
    assert r.status_code == 200
    assert check("GetLocationResponse", r.json()) == {
        "locationId": lid,
        "locationType": "Unknown",
        "meterPointId": b,
        "meterPointIds": [b],
        "userId": user_id,
    }
    assert (await ec.client.get(f"/users/{user_id}/locations/{lid}")).json() == r.json()
    # the released meter can be used elsewhere
    await new_location(ec, user_id, meterPointIds=[a])
    # PUT keeps a meter the location already holds
    r = await ec.client.put(
        f"/users/{user_id}/locations/{lid}",
        json={"locationId": lid, "locationType": "Other", "coordinates": BERGEN, "meterPointId": b},
    )
    assert r.status_code == 200 and r.json()["coordinates"] == BERGEN
    assert r.json()["meterPointIds"] == [b]


async def test_put_errors(ec):
    user_id = await new_user(ec)
    taken = uid("mp")
    await new_location(ec, user_id, meterPointIds=[taken])
    location = await new_location(ec, user_id, coordinates=OSLO)
    lid = location["locationId"]
    r = await ec.client.put(f"/users/{user_id}/locations/{lid}", json={"locationId": "other"})
    assert "locationId" in error_string(r, 400)
    r = await ec.client.put(
        f"/users/{user_id}/locations/{lid}", json={"locationId": lid, "meterPointIds": [taken]}
    )
    assert taken in error_string(r, 400)
    r = await ec.client.put(f"/users/{user_id}/locations/{lid}", json={"meterPointIds": []})
    assert "locationId" in error_string(r, 400)
    error_string(
        await ec.client.put(f"/users/{user_id}/locations/{uid()}", json={"locationId": "z"}), 400
    )
    nowhere = uid()
    r = await ec.client.put(f"/users/{user_id}/locations/{nowhere}", json={"locationId": nowhere})
    error_string(r, 404)
    # nothing changed
    assert (await ec.client.get(f"/users/{user_id}/locations/{lid}")).json() == location


async def test_patch_changes_only_given_fields(ec):
    user_id = await new_user(ec)
    a, b = uid("mp"), uid("mp")
    location = await new_location(
        ec, user_id, locationType="Residential", coordinates=OSLO, meterPointIds=[a]
    )
    path = f"/users/{user_id}/locations/{location['locationId']}"
    r = await ec.client.patch(path, json={"locationType": "Commercial"})
    assert r.status_code == 200
    assert check("GetLocationResponse", r.json()) == {**location, "locationType": "Commercial"}
    r = await ec.client.patch(
        path, json={"locationType": None, "coordinates": BERGEN, "meterPointIds": None}
    )
    assert r.json() == {**location, "locationType": "Commercial", "coordinates": BERGEN}
    r = await ec.client.patch(path, json={"meterPointIds": [b, a]})
    assert r.json()["meterPointIds"] == [b, a] and r.json()["meterPointId"] == b
    r = await ec.client.patch(path, json={"meterPointIds": []})
    assert r.json()["meterPointIds"] == [] and r.json()["meterPointId"] is None
    r = await ec.client.patch(path, json={})
    assert r.status_code == 200 and r.json()["coordinates"] == BERGEN
    assert (await ec.client.get(path)).json() == r.json()


async def test_patch_errors(ec):
    user_id = await new_user(ec)
    taken = uid("mp")
    await new_location(ec, user_id, meterPointIds=[taken])
    location = await new_location(ec, user_id, coordinates=OSLO)
    path = f"/users/{user_id}/locations/{location['locationId']}"
    r = await ec.client.patch(path, json={"meterPointIds": [uid("mp"), taken]})
    assert r.status_code == 409
    for body in (
        {"locationId": "new"},
        {"meterPointId": "m"},
        {"coordinates": {"latitude": 100, "longitude": 0}},
        {"locationType": "Castle"},
    ):
        error_string(await ec.client.patch(path, json=body), 400)
    error_string(await ec.client.patch(f"/users/{user_id}/locations/{uid()}", json={}), 404)
    assert (await ec.client.get(path)).json() == location


async def test_delete_location_removes_meters_and_its_resources(ec, test_db):
    user_id = await new_user(ec)
    meter = uid("mp")
    location = await new_location(ec, user_id, meterPointIds=[meter])
    lid = location["locationId"]
    rid = uid("r")
    r = await ec.client.post(
        f"/users/{user_id}/locations/{lid}/resources",
        json={"resourceId": rid, "resourceType": "Charger"},
    )
    assert r.status_code == 201
    vehicle = uid("v")
    await ec.client.post(
        f"/users/{user_id}/vehicles", json={"resourceId": vehicle, "resourceType": "Vehicle"}
    )
    r = await ec.client.delete(f"/users/{user_id}/locations/{lid}")
    assert r.status_code == 204 and r.content == b""
    error_string(await ec.client.get(f"/users/{user_id}/locations/{lid}"), 404)
    error_string(await ec.client.get(f"/resources/{rid}"), 404)
    assert (await ec.client.get(f"/resources/{vehicle}")).status_code == 200
    async with test_db.session() as s:
        meters = await s.scalar(
            select(func.count())
            .select_from(EcLocationMeter)
            .where(EcLocationMeter.tenant_id == ec.id)
        )
    assert meters == 0
    error_string(await ec.client.delete(f"/users/{user_id}/locations/{lid}"), 404)
    # id and meter can be used again
    await new_location(ec, user_id, locationId=lid, meterPointIds=[meter])


async def test_resource_loses_a_meter_its_location_drops(ec):
    user_id = await new_user(ec)
    a, b = uid("mp"), uid("mp")
    location = await new_location(ec, user_id, meterPointIds=[a, b])
    lid = location["locationId"]
    kept, dropped = uid("r"), uid("r")
    for rid, meter in ((kept, b), (dropped, a)):
        r = await ec.client.post(
            f"/users/{user_id}/locations/{lid}/resources",
            json={"resourceId": rid, "resourceType": "HVAC", "meterPointId": meter},
        )
        assert r.status_code == 201
    r = await ec.client.patch(f"/users/{user_id}/locations/{lid}", json={"meterPointIds": [b]})
    assert r.status_code == 200
    assert (await ec.client.get(f"/resources/{kept}")).json()["meterPointId"] == b
    assert (await ec.client.get(f"/resources/{dropped}")).json()["meterPointId"] is None


async def test_batch_creates_locations_for_several_users(ec):
    u1, u2 = await new_user(ec), await new_user(ec)
    m1, m2 = uid("mp"), uid("mp")
    items = [
        {"userId": u1, "locationId": uid("l"), "coordinates": OSLO, "meterPointIds": [m1]},
        {"userId": u2, "locationId": uid("l"), "locationType": "Other", "meterPointId": m2},
        {"userId": u1, "locationId": uid("l")},
    ]
    r = await ec.client.post("/users/locations/batch", json={"locations": items})
    assert r.status_code == 201
    body = check("PostLocationsBatchResponse", r.json())
    assert [loc["locationId"] for loc in body["locations"]] == [i["locationId"] for i in items]
    assert [loc["userId"] for loc in body["locations"]] == [u1, u2, u1]
    assert body["locations"][1]["meterPointIds"] == [m2]
    assert body["locations"][1]["locationType"] == "Other"
    listed = (await ec.client.get(f"/users/{u1}/locations")).json()
    assert [loc["locationId"] for loc in listed] == [items[0]["locationId"], items[2]["locationId"]]


async def test_batch_is_all_or_nothing(ec, test_db):
    u1 = await new_user(ec)
    taken_meter = uid("mp")
    existing = await new_location(ec, u1, meterPointIds=[taken_meter])
    ok = {"userId": u1, "locationId": uid("l"), "meterPointIds": [uid("mp")]}
    shared = uid("mp")
    cases = [
        ([ok, {"userId": uid(), "locationId": uid()}], "locations[1].userId"),
        ([ok, {"userId": u1, "locationId": existing["locationId"]}], "locations[1].locationId"),
        ([ok, {"userId": u1, "locationId": ok["locationId"]}], "locations[1].locationId"),
        (
            [ok, {"userId": u1, "locationId": uid(), "meterPointIds": [taken_meter]}],
            "locations[1].meterPointIds",
        ),
        (
            [
                {"userId": u1, "locationId": uid(), "meterPointIds": [shared]},
                ok,
                {"userId": u1, "locationId": uid(), "meterPointId": shared},
            ],
            "locations[2].meterPointIds",
        ),
        ([ok, {"locationId": uid()}], "locations[1].userId"),
        (
            [
                ok,
                {
                    "userId": u1,
                    "locationId": uid(),
                    "coordinates": {"latitude": 99, "longitude": 1},
                },
            ],
            "locations[1].coordinates.latitude",
        ),
    ]
    for items, field in cases:
        r = await ec.client.post("/users/locations/batch", json={"locations": items})
        assert field in error_string(r, 400), items
    assert await stored_locations(test_db, ec.id) == 1
    for body in ({}, {"locations": {}}, {"locations": [], "x": 1}):
        error_string(await ec.client.post("/users/locations/batch", json=body), 400)
    r = await ec.client.post("/users/locations/batch", json={"locations": []})
    assert r.status_code == 201 and r.json() == {"locations": []}


async def test_batch_refuses_more_than_the_ceiling_and_writes_in_bulk(ec, test_db, platform):
    ceiling = platform.settings.max_batch_items
    over = [{"userId": "u0", "locationId": f"l{i}"} for i in range(ceiling + 1)]
    r = await ec.client.post("/users/locations/batch", json={"locations": over})
    message = error_string(r, 400)
    assert "locations" in message and f"at most {ceiling} items" in message
    size = 2000
    users = [{"userId": f"u{i}"} for i in range(size)]
    assert (await ec.client.post("/users/batch", json={"users": users})).status_code == 201
    items = [
        {"userId": f"u{i}", "locationId": f"l{i}", "coordinates": OSLO, "meterPointIds": [f"m{i}"]}
        for i in range(size)
    ]
    bad = [*items[:-1], {**items[-1], "meterPointIds": ["m3"]}]  # the last repeats a meter
    r = await ec.client.post("/users/locations/batch", json={"locations": bad})
    assert f"locations[{size - 1}].meterPointIds" in error_string(r, 400)
    assert await stored_locations(test_db, ec.id) == 0
    r = await ec.client.post("/users/locations/batch", json={"locations": items})
    assert r.status_code == 201 and len(r.json()["locations"]) == size
    assert r.json()["locations"][5]["meterPointIds"] == ["m5"]
    assert await stored_locations(test_db, ec.id) == size
