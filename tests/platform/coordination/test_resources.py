"""Resources: location-bound ones, vehicles, listing, reading and deleting."""

from __future__ import annotations

from support.ec_assets import error_string, problem, uid
from support.ec_schemas import check


async def user_with_location(ec, meters: list[str] | None = None) -> tuple[str, str]:
    user_id, location_id = uid("u"), uid("l")
    assert (await ec.client.post("/users", json={"userId": user_id})).status_code == 201
    r = await ec.client.post(
        f"/users/{user_id}/locations",
        json={"locationId": location_id, "meterPointIds": meters or []},
    )
    assert r.status_code == 201
    return user_id, location_id


async def test_location_bound_resource_round_trip(ec):
    meter = uid("mp")
    user_id, location_id = await user_with_location(ec, [meter])
    rid = uid("r")
    r = await ec.client.post(
        f"/users/{user_id}/locations/{location_id}/resources",
        json={"resourceId": rid, "resourceType": "HotWaterTank", "meterPointId": meter},
    )
    assert r.status_code == 201
    expected = {
        "resourceId": rid,
        "resourceType": "HotWaterTank",
        "locationId": location_id,
        "userId": user_id,
        "meterPointId": meter,
    }
    assert check("GetLocationBoundResourceResponse", r.json()) == expected
    r = await ec.client.get(f"/users/{user_id}/locations/{location_id}/resources")
    assert r.status_code == 200
    assert check("GetLocationBoundResourceResponse", r.json(), array=True) == [expected]
    r = await ec.client.get(f"/resources/{rid}")
    assert r.status_code == 200
    assert check("GetResourceResponse", r.json()) == expected


async def test_every_resource_type_and_no_meter(ec):
    user_id, location_id = await user_with_location(ec)
    types = ["Generic", "Vehicle", "Charger", "HotWaterTank", "HVAC", "SolarInverter"]
    for kind in types:
        r = await ec.client.post(
            f"/users/{user_id}/locations/{location_id}/resources",
            json={"resourceId": uid("r"), "resourceType": kind, "meterPointId": None},
        )
        assert r.status_code == 201 and r.json()["meterPointId"] is None
    listed = (await ec.client.get(f"/users/{user_id}/locations/{location_id}/resources")).json()
    assert [x["resourceType"] for x in listed] == types


async def test_location_bound_resource_errors(ec):
    meter = uid("mp")
    user_id, location_id = await user_with_location(ec, [meter])
    other_user, other_location = await user_with_location(ec, [uid("mp")])
    path = f"/users/{user_id}/locations/{location_id}/resources"
    taken = uid("r")
    assert (
        await ec.client.post(path, json={"resourceId": taken, "resourceType": "Generic"})
    ).status_code == 201
    cases = [
        (
            {"resourceId": uid(), "resourceType": "Generic", "meterPointId": uid("mp")},
            "meterPointId",
        ),
        ({"resourceId": taken, "resourceType": "Generic"}, "resourceId"),
        ({"resourceId": uid(), "resourceType": "Toaster"}, "resourceType"),
        ({"resourceId": uid()}, "resourceType"),
        ({"resourceType": "Generic"}, "resourceId"),
        ({"resourceId": "", "resourceType": "Generic"}, "resourceId"),
        ({"resourceId": uid(), "resourceType": "Generic", "extra": 1}, "extra"),
    ]
    for body, field in cases:
        assert field in error_string(await ec.client.post(path, json=body), 400), body
    body = {"resourceId": uid(), "resourceType": "Generic"}
    for bad in (
        f"/users/{uid()}/locations/{location_id}/resources",
        f"/users/{user_id}/locations/{uid()}/resources",
        f"/users/{user_id}/locations/{other_location}/resources",
        f"/users/{other_user}/locations/{location_id}/resources",
    ):
        error_string(await ec.client.post(bad, json=body), 404)
        error_string(await ec.client.get(bad), 404)
    listed = (await ec.client.get(path)).json()
    assert [x["resourceId"] for x in listed] == [taken]


async def test_vehicle_round_trip(ec):
    user_id, _ = await user_with_location(ec)
    vid = uid("v")
    r = await ec.client.post(
        f"/users/{user_id}/vehicles", json={"resourceId": vid, "resourceType": "Vehicle"}
    )
    assert r.status_code == 201
    expected = {
        "resourceId": vid,
        "resourceType": "Vehicle",
        "userId": user_id,
        "locationId": None,
        "meterPointId": None,
    }
    assert check("GetResourceResponse", r.json()) == expected
    assert (await ec.client.get(f"/resources/{vid}")).json() == expected


async def test_vehicle_errors_are_problem_details(ec):
    user_id, location_id = await user_with_location(ec)
    taken = uid("r")
    await ec.client.post(
        f"/users/{user_id}/locations/{location_id}/resources",
        json={"resourceId": taken, "resourceType": "Charger"},
    )
    path = f"/users/{user_id}/vehicles"
    body = problem(
        await ec.client.post(path, json={"resourceId": uid(), "resourceType": "Charger"}), 400
    )
    assert body["status"] == 400 and "resourceType" in body["errors"]
    body = problem(
        await ec.client.post(path, json={"resourceId": taken, "resourceType": "Vehicle"}), 400
    )
    assert "resourceId" in body["errors"]
    body = problem(await ec.client.post(path, json={"resourceType": "Vehicle"}), 400)
    assert "resourceId" in body["errors"]
    body = problem(
        await ec.client.post(
            path, json={"resourceId": uid(), "resourceType": "Vehicle", "vin": "1"}
        ),
        400,
    )
    assert "vin" in body["errors"]
    body = problem(
        await ec.client.post(path, json={"resourceId": uid(), "resourceType": "Car"}), 400
    )
    assert "resourceType" in body["errors"]
    r = await ec.client.post(
        f"/users/{uid()}/vehicles", json={"resourceId": uid(), "resourceType": "Vehicle"}
    )
    # the document lists 400 but no 404 for this operation: an unknown user is its 400
    assert "was not found" in problem(r, 400)["detail"]
    resources = (await ec.client.get(f"/users/{user_id}/resources")).json()["resources"]
    assert [x["resourceId"] for x in resources] == [taken]


async def test_user_resources_lists_bound_ones_and_vehicles(ec):
    meter = uid("mp")
    user_id, location_id = await user_with_location(ec, [meter])
    other_user, _ = await user_with_location(ec)
    tank, car = uid("r"), uid("v")
    await ec.client.post(
        f"/users/{user_id}/locations/{location_id}/resources",
        json={"resourceId": tank, "resourceType": "HotWaterTank", "meterPointId": meter},
    )
    await ec.client.post(
        f"/users/{user_id}/vehicles", json={"resourceId": car, "resourceType": "Vehicle"}
    )
    await ec.client.post(
        f"/users/{other_user}/vehicles", json={"resourceId": uid(), "resourceType": "Vehicle"}
    )
    r = await ec.client.get(f"/users/{user_id}/resources")
    assert r.status_code == 200
    assert check("GetUserResourcesResponse", r.json()) == {
        "resources": [
            {
                "resourceId": tank,
                "resourceType": "HotWaterTank",
                "userId": user_id,
                "locationId": location_id,
                "meterPointId": meter,
            },
            {
                "resourceId": car,
                "resourceType": "Vehicle",
                "userId": user_id,
                "locationId": None,
                "meterPointId": None,
            },
        ]
    }
    error_string(await ec.client.get(f"/users/{uid()}/resources"), 404)


async def test_delete_resource(ec):
    user_id, location_id = await user_with_location(ec)
    rid = uid("r")
    await ec.client.post(
        f"/users/{user_id}/locations/{location_id}/resources",
        json={"resourceId": rid, "resourceType": "Generic"},
    )
    r = await ec.client.delete(f"/resources/{rid}")
    assert r.status_code == 204 and r.content == b""
    error_string(await ec.client.get(f"/resources/{rid}"), 404)
    error_string(await ec.client.delete(f"/resources/{rid}"), 404)
    assert (await ec.client.get(f"/users/{user_id}/resources")).json() == {"resources": []}
    # the id is free again, now as a vehicle
    r = await ec.client.post(
        f"/users/{user_id}/vehicles", json={"resourceId": rid, "resourceType": "Vehicle"}
    )
    assert r.status_code == 201
    error_string(await ec.client.get(f"/resources/{'r' * 201}"), 404)
    error_string(await ec.client.delete(f"/resources/{'r' * 201}"), 404)
