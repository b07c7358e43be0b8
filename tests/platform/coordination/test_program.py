"""The SPARK Program: eligibility (and its UserEligibility events), enrollment, eligible users
and meter eligibility, through the real server."""

from __future__ import annotations

import json
import uuid
from datetime import datetime

from flexhub.clock import utcnow
from flexhub.platform.engines.neighbourhoods import square
from flexhub.store.coordination import EcWebhook, Neighbourhood
from support.ec_assets import (
    OSLO,
    SANDBOX_1,
    SANDBOX_2,
    eligibility_events,
    error_string,
    new_location,
    new_user,
    problem,
    run_eligibility_cycle,
    uid,
)
from support.ec_schemas import check


async def add_neighbourhood(test_db, *, polygon=None, meters=()) -> str:
    area_id = f"nh-{uuid.uuid4().hex[:12]}"
    async with test_db.session() as s:
        s.add(
            Neighbourhood(
                id=area_id,
                name=area_id,
                price_area="NO1",
                currency="NOK",
                polygon=polygon,
                meter_point_ids=list(meters),
                created_at=utcnow(),
            )
        )
        await s.commit()
    return area_id


async def eligible(ec, user_id: str) -> bool:
    r = await ec.client.get(f"/users/{user_id}/eligibility")
    assert r.status_code == 200
    body = check("GetUserEligibilityResponse", r.json())
    assert body["userId"] == user_id
    return body["isEligible"]


async def test_user_outside_every_neighbourhood_is_not_eligible(ec, test_db):
    user_id = await new_user(ec)
    assert not await eligible(ec, user_id)
    await new_location(ec, user_id, coordinates=OSLO, meterPointIds=[uid("mp")])
    assert not await eligible(ec, user_id)
    assert await eligibility_events(test_db, ec.id) == []


async def test_moving_a_location_in_and_out_flips_eligibility_with_one_event_each(ec, test_db):
    user_id = await new_user(ec)
    location = await new_location(ec, user_id, coordinates=OSLO)
    path = f"/users/{user_id}/locations/{location['locationId']}"

    assert (await ec.client.patch(path, json={"coordinates": SANDBOX_2})).status_code == 200
    assert await eligible(ec, user_id)
    events = await eligibility_events(test_db, ec.id)
    assert len(events) == 1
    assert events[0]["addedUsers"] == [user_id] and events[0]["removedUsers"] == []
    assert events[0]["payloadType"] == "UserEligibility"
    assert datetime.fromisoformat(events[0]["lastUpdated"]).tzinfo is not None

    # a change that does not flip anything makes no event
    await ec.client.patch(path, json={"locationType": "Commercial"})
    await new_location(ec, user_id, coordinates=SANDBOX_1)
    assert len(await eligibility_events(test_db, ec.id)) == 1

    # still eligible through the second location
    await ec.client.put(path, json={"locationId": location["locationId"], "coordinates": OSLO})
    assert await eligible(ec, user_id)
    assert len(await eligibility_events(test_db, ec.id)) == 1


async def test_deleting_the_eligible_location_removes_eligibility(ec, test_db):
    user_id, brief = await new_user(ec), await new_user(ec)
    location = await new_location(ec, user_id, coordinates=SANDBOX_1)
    assert len(await eligibility_events(test_db, ec.id)) == 1  # a cycle announced it
    r = await ec.client.delete(f"/users/{user_id}/locations/{location['locationId']}")
    assert r.status_code == 204
    assert not await eligible(ec, user_id)
    # eligible and not again within one cycle: the partner is told nothing of it
    short = await new_location(ec, brief, coordinates=SANDBOX_2)
    assert await eligible(ec, brief)
    await ec.client.delete(f"/users/{brief}/locations/{short['locationId']}")
    events = await eligibility_events(test_db, ec.id)
    assert [(e["addedUsers"], e["removedUsers"]) for e in events] == [
        ([user_id], []),
        ([], [user_id]),
    ]


async def test_deleting_an_eligible_user_reports_it_removed(ec, test_db):
    keep, gone, plain = await new_user(ec), await new_user(ec), await new_user(ec)
    await new_location(ec, keep, coordinates=SANDBOX_1)
    await new_location(ec, gone, coordinates=SANDBOX_1)
    await eligibility_events(test_db, ec.id)  # a cycle announces both
    assert (await ec.client.delete(f"/users/{gone}")).status_code == 204
    assert (await ec.client.delete(f"/users/{plain}")).status_code == 204
    events = await eligibility_events(test_db, ec.id)
    assert [(e["addedUsers"], e["removedUsers"]) for e in events] == [
        (sorted([keep, gone]), []),
        ([], [gone]),
    ]


async def test_a_batch_makes_one_event_for_every_user_it_flips(ec, test_db):
    a, b, c = await new_user(ec), await new_user(ec), await new_user(ec)
    items = [
        {"userId": b, "locationId": uid(), "coordinates": SANDBOX_1},
        {"userId": a, "locationId": uid(), "coordinates": SANDBOX_2},
        {"userId": c, "locationId": uid(), "coordinates": OSLO},
        {"userId": a, "locationId": uid(), "coordinates": SANDBOX_1},
    ]
    r = await ec.client.post("/users/locations/batch", json={"locations": items})
    assert r.status_code == 201
    events = await eligibility_events(test_db, ec.id)
    assert len(events) == 1
    assert events[0]["addedUsers"] == sorted([a, b]) and events[0]["removedUsers"] == []
    # a failing batch makes no event
    bad = [
        {"userId": c, "locationId": uid(), "coordinates": SANDBOX_1},
        {"userId": uid(), "locationId": uid()},
    ]
    error_string(await ec.client.post("/users/locations/batch", json={"locations": bad}), 400)
    assert len(await eligibility_events(test_db, ec.id)) == 1 and not await eligible(ec, c)


async def test_meter_point_neighbourhoods(ec, test_db):
    listed, elsewhere = uid("mp"), uid("mp")
    await add_neighbourhood(test_db, meters=[listed])
    r = await ec.client.get(f"/meters/{listed}/eligible")
    assert r.status_code == 200
    assert check("GetMpidEligibilityResponse", r.json()) == {
        "meterPointId": listed,
        "isEligible": True,
    }
    for unknown in (uid("mp"), "m" * 300):
        r = await ec.client.get(f"/meters/{unknown}/eligible")
        assert r.status_code == 200
        assert r.json() == {"meterPointId": unknown, "isEligible": False}
    user_id = await new_user(ec)
    location = await new_location(ec, user_id, coordinates=OSLO, meterPointIds=[elsewhere])
    assert not await eligible(ec, user_id)
    assert (await ec.client.get(f"/meters/{elsewhere}/eligible")).json()["isEligible"] is False
    r = await ec.client.patch(
        f"/users/{user_id}/locations/{location['locationId']}",
        json={"meterPointIds": [elsewhere, listed]},
    )
    assert r.status_code == 200
    assert await eligible(ec, user_id)
    # a meter on a location inside a polygon is eligible too
    inside = uid("mp")
    await new_location(ec, await new_user(ec), coordinates=SANDBOX_1, meterPointIds=[inside])
    assert (await ec.client.get(f"/meters/{inside}/eligible")).json()["isEligible"] is True


async def test_polygon_neighbourhood_with_a_hole_shape(ec, test_db):
    # a "C" shaped (concave) area around (-40, -60) in [lon, lat] order
    lat, lon = -40.0, -60.0
    ring = [
        [lon - 1, lat - 1],
        [lon + 1, lat - 1],
        [lon + 1, lat - 0.5],
        [lon - 0.5, lat - 0.5],
        [lon - 0.5, lat + 0.5],
        [lon + 1, lat + 0.5],
        [lon + 1, lat + 1],
        [lon - 1, lat + 1],
    ]
    await add_neighbourhood(test_db, polygon=ring)
    inside, notch = await new_user(ec), await new_user(ec)
    await new_location(ec, inside, coordinates={"latitude": lat, "longitude": lon - 0.8})
    await new_location(ec, notch, coordinates={"latitude": lat, "longitude": lon + 0.5})
    assert await eligible(ec, inside)
    assert not await eligible(ec, notch)


async def test_sandbox_test_areas_exist(test_db):
    async with test_db.session() as s:
        one = await s.get(Neighbourhood, "sandbox-test-area-1")
        two = await s.get(Neighbourhood, "sandbox-test-area-2")
    assert one.name == "Sandbox test area 1" and two.name == "Sandbox test area 2"
    assert one.currency == "NOK" and one.price_area == "NO4"
    ring = square(SANDBOX_1["latitude"], SANDBOX_1["longitude"], 0.05)
    assert one.geometry == {"type": "Polygon", "coordinates": [ring]} and one.polygon is None


async def test_enrollment_rules(ec):
    user_id = await new_user(ec)
    r = await ec.client.get(f"/users/{user_id}/enrollment")
    assert r.status_code == 200
    assert check("GetUserEnrollmentResponse", r.json()) == {
        "isEnrolled": False,
        "userId": user_id,
        "enrollmentId": None,
        "enrollmentDate": None,
    }
    message = error_string(await ec.client.post(f"/users/{user_id}/enrollment"), 400)
    assert "not eligible" in message
    error_string(await ec.client.delete(f"/users/{user_id}/enrollment"), 404)

    location = await new_location(ec, user_id, coordinates=SANDBOX_1)
    r = await ec.client.post(f"/users/{user_id}/enrollment")
    assert r.status_code == 200
    first = check("GetUserEnrollmentResponse", r.json())
    assert first["isEnrolled"] is True and first["userId"] == user_id
    assert uuid.UUID(first["enrollmentId"])
    assert datetime.fromisoformat(first["enrollmentDate"]).tzinfo is not None
    again = await ec.client.post(f"/users/{user_id}/enrollment")
    assert again.status_code == 200 and again.json() == first
    assert (await ec.client.get(f"/users/{user_id}/enrollment")).json() == first

    # losing eligibility keeps the enrollment on record
    await ec.client.patch(
        f"/users/{user_id}/locations/{location['locationId']}", json={"coordinates": OSLO}
    )
    assert not await eligible(ec, user_id)
    assert (await ec.client.get(f"/users/{user_id}/enrollment")).json() == first

    r = await ec.client.delete(f"/users/{user_id}/enrollment")
    assert r.status_code == 204 and r.content == b""
    assert (await ec.client.get(f"/users/{user_id}/enrollment")).json()["isEnrolled"] is False
    error_string(await ec.client.post(f"/users/{user_id}/enrollment"), 400)


async def test_program_endpoints_404_for_unknown_users(ec):
    ghost = uid("u")
    for method, path in (
        ("GET", f"/users/{ghost}/enrollment"),
        ("POST", f"/users/{ghost}/enrollment"),
        ("DELETE", f"/users/{ghost}/enrollment"),
        ("GET", f"/users/{ghost}/eligibility"),
        ("GET", f"/users/{ghost}/compensation"),
        ("GET", f"/users/{'g' * 201}/eligibility"),
    ):
        error_string(await ec.client.request(method, path), 404)


async def test_eligible_users_are_paged(ec):
    eligible_ids = []
    for i in range(3):
        user_id = await new_user(ec)
        await new_user(ec)
        await new_location(ec, user_id, coordinates=SANDBOX_1 if i % 2 else SANDBOX_2)
        eligible_ids.append(user_id)
    r = await ec.client.get("/users/eligible", params={"pageSize": 2})
    assert r.status_code == 200
    body = check("GetEligibleUsersResponse", r.json())
    assert [u["userId"] for u in body["users"]] == eligible_ids[:2]
    assert body["pagination"]["totalRecords"] == 3 and body["pagination"]["nextPage"] == 2
    body = (await ec.client.get("/users/eligible", params={"page": 2, "pageSize": 2})).json()
    assert [u["userId"] for u in body["users"]] == eligible_ids[2:]
    for params in ({"page": 0}, {"pageSize": 5000}, {"pageSize": "many"}, {"page": 10**18}):
        problem(await ec.client.get("/users/eligible", params=params), 400)


async def test_eligibility_change_is_delivered_to_a_subscribed_webhook(ec, test_db, receiver):
    async with test_db.session() as s:
        s.add(
            EcWebhook(
                id=str(uuid.uuid4()),
                tenant_id=ec.id,
                url=receiver.url,
                name="eligibility",
                secret=None,
                notification_types=["UserEligibilityUpdated"],
                enabled=True,
                status="New",
            )
        )
        await s.commit()
    user_id = await new_user(ec)
    await new_location(ec, user_id, coordinates=SANDBOX_1)
    await run_eligibility_cycle(test_db)  # the platform's next cycle
    received = await receiver.wait_for(1)
    body = json.loads(received[0].body)
    assert body["notificationType"] == "UserEligibilityUpdated"
    assert body["payload"]["addedUsers"] == [user_id]
