"""Tenant isolation for users, locations, resources and the program: another partner's ids are
404s, its data never shows up in lists, and the same ids can be used by both independently."""

from __future__ import annotations

from support.ec_assets import SANDBOX_1, error_string, new_location, new_user, uid


async def setup_partner(partner, user_id: str, location_id: str, meter: str, rid: str, vid: str):
    await new_user(partner, user_id)
    await new_location(
        partner, user_id, locationId=location_id, coordinates=SANDBOX_1, meterPointIds=[meter]
    )
    r = await partner.client.post(
        f"/users/{user_id}/locations/{location_id}/resources",
        json={"resourceId": rid, "resourceType": "Charger", "meterPointId": meter},
    )
    assert r.status_code == 201
    r = await partner.client.post(
        f"/users/{user_id}/vehicles", json={"resourceId": vid, "resourceType": "Vehicle"}
    )
    assert r.status_code == 201
    assert (await partner.client.post(f"/users/{user_id}/enrollment")).status_code == 200


async def snapshot(partner, user_id: str, location_id: str) -> list:
    paths = [
        "/users",
        "/users/eligible",
        f"/users/{user_id}",
        f"/users/{user_id}/locations",
        f"/users/{user_id}/locations/{location_id}",
        f"/users/{user_id}/locations/{location_id}/resources",
        f"/users/{user_id}/resources",
        f"/users/{user_id}/eligibility",
    ]
    return [(await partner.client.get(p)).json() for p in paths]


async def test_another_partners_ids_are_404_and_lists_stay_apart(make_partner):
    a, b = await make_partner(), await make_partner()
    user_id, location_id, meter, rid, vid = uid("u"), uid("l"), uid("mp"), uid("r"), uid("v")
    await setup_partner(a, user_id, location_id, meter, rid, vid)
    before = await snapshot(a, user_id, location_id)

    for method, path, body in [
        ("GET", f"/users/{user_id}", None),
        ("DELETE", f"/users/{user_id}", None),
        ("POST", f"/users/{user_id}/locations", {"locationId": uid()}),
        ("GET", f"/users/{user_id}/locations/{location_id}", None),
        ("PUT", f"/users/{user_id}/locations/{location_id}", {"locationId": location_id}),
        ("PATCH", f"/users/{user_id}/locations/{location_id}", {"locationType": "Other"}),
        ("DELETE", f"/users/{user_id}/locations/{location_id}", None),
        ("GET", f"/users/{user_id}/locations/{location_id}/resources", None),
        (
            "POST",
            f"/users/{user_id}/locations/{location_id}/resources",
            {"resourceId": uid(), "resourceType": "Generic"},
        ),
        ("GET", f"/users/{user_id}/resources", None),
        ("GET", f"/resources/{rid}", None),
        ("GET", f"/resources/{vid}", None),
        ("DELETE", f"/resources/{rid}", None),
        ("GET", f"/users/{user_id}/enrollment", None),
        ("POST", f"/users/{user_id}/enrollment", None),
        ("DELETE", f"/users/{user_id}/enrollment", None),
        ("GET", f"/users/{user_id}/eligibility", None),
        ("GET", f"/users/{user_id}/compensation", None),
    ]:
        r = await b.client.request(method, path, json=body)
        error_string(r, 404)
    # operations whose document lists 400 but no 404 answer "not found" with that 400
    r = await b.client.get(f"/users/{user_id}/locations")
    assert "was not found" in error_string(r, 400)
    r = await b.client.post(
        f"/users/{user_id}/vehicles", json={"resourceId": uid(), "resourceType": "Vehicle"}
    )
    assert r.status_code == 400 and "was not found" in r.json()["detail"]
    r = await b.client.post(
        "/users/locations/batch", json={"locations": [{"userId": user_id, "locationId": uid()}]}
    )
    assert "locations[0].userId" in error_string(r, 400)

    assert (await b.client.get("/users")).json()["users"] == []
    assert (await b.client.get("/users/eligible")).json()["users"] == []
    # partner A's meter is not B's: only neighbourhood membership would make it eligible
    assert (await b.client.get(f"/meters/{meter}/eligible")).json()["isEligible"] is False
    assert (await a.client.get(f"/meters/{meter}/eligible")).json()["isEligible"] is True
    assert await snapshot(a, user_id, location_id) == before


async def test_the_same_ids_live_independently_in_two_partners(make_partner):
    a, b = await make_partner(), await make_partner()
    user_id, location_id, meter, rid, vid = uid("u"), uid("l"), uid("mp"), uid("r"), uid("v")
    await setup_partner(a, user_id, location_id, meter, rid, vid)
    await setup_partner(b, user_id, location_id, meter, rid, vid)
    a_enrollment = (await a.client.get(f"/users/{user_id}/enrollment")).json()
    b_enrollment = (await b.client.get(f"/users/{user_id}/enrollment")).json()
    assert a_enrollment["enrollmentId"] != b_enrollment["enrollmentId"]

    before = await snapshot(a, user_id, location_id)
    assert (await b.client.delete(f"/resources/{rid}")).status_code == 204
    assert (await b.client.delete(f"/users/{user_id}")).status_code == 204
    assert await snapshot(a, user_id, location_id) == before
    assert (await a.client.get(f"/resources/{rid}")).status_code == 200
    error_string(await b.client.get(f"/users/{user_id}"), 404)
