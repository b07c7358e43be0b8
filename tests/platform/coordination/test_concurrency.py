"""The same request several times at once (``asyncio.gather``): one wins, the others get the
documented 4xx, never a 500; eligibility changes are published once, not once per racer."""

from __future__ import annotations

import asyncio

from flexhub.store.coordination import EcLocation, EcResource, EcUser
from support.ec_assets import OSLO, SANDBOX_1, eligibility_events, new_user, uid
from support.ec_assets import stored_count as count

RACERS = 6


async def race(make) -> list:
    return list(await asyncio.gather(*(make() for _ in range(RACERS))))


def statuses(responses) -> list[int]:
    return sorted(r.status_code for r in responses)


async def test_concurrent_creates_store_one(ec, test_db):
    user_id = uid()
    rs = await race(lambda: ec.client.post("/users", json={"userId": user_id}))
    assert statuses(rs) == [201] + [400] * (RACERS - 1), [r.text for r in rs]
    batch = {"users": [{"userId": uid()}, {"userId": uid()}]}
    rs = await race(lambda: ec.client.post("/users/batch", json=batch))
    assert statuses(rs) == [201] + [400] * (RACERS - 1), [r.text for r in rs]
    assert await count(test_db, EcUser, ec.id) == 3
    location = {"locationId": uid(), "meterPointIds": [uid("m")]}
    rs = await race(lambda: ec.client.post(f"/users/{user_id}/locations", json=location))
    assert statuses(rs) == [201] + [409] * (RACERS - 1), [r.text for r in rs]
    rs = await race(
        lambda: ec.client.post(
            f"/users/{user_id}/locations/{location['locationId']}/resources",
            json={"resourceId": "r", "resourceType": "HVAC"},
        )
    )
    assert statuses(rs) == [201] + [400] * (RACERS - 1), [r.text for r in rs]
    rs = await race(
        lambda: ec.client.post(
            f"/users/{user_id}/vehicles", json={"resourceId": "car", "resourceType": "Vehicle"}
        )
    )
    assert statuses(rs) == [201] + [400] * (RACERS - 1), [r.text for r in rs]
    assert await count(test_db, EcLocation, ec.id) == 1
    assert await count(test_db, EcResource, ec.id) == 2


async def test_concurrent_deletes_answer_204_once(ec, test_db):
    user_id = await new_user(ec)
    location = {"locationId": "home", "coordinates": SANDBOX_1}
    assert (await ec.client.post(f"/users/{user_id}/locations", json=location)).status_code == 201
    r = await ec.client.post(
        f"/users/{user_id}/vehicles", json={"resourceId": "car", "resourceType": "Vehicle"}
    )
    assert r.status_code == 201
    assert (await ec.client.post(f"/users/{user_id}/enrollment")).status_code == 200
    hook = (await ec.client.post("/webhooks", json={"webhookUrl": "https://example.com/"})).json()
    for path in (
        f"/users/{user_id}/enrollment",
        "/resources/car",
        f"/webhooks/{hook['webhookId']}",
        f"/users/{user_id}/locations/home",
    ):
        rs = await race(lambda path=path: ec.client.delete(path))
        assert statuses(rs) == [204] + [404] * (RACERS - 1), (path, [r.text for r in rs])
    # an eligible user deleted by several requests at once leaves in exactly one event
    other = await new_user(ec)
    r = await ec.client.post(
        f"/users/{other}/locations", json={"locationId": "x", "coordinates": SANDBOX_1}
    )
    assert r.status_code == 201
    before = len(await eligibility_events(test_db, ec.id))
    rs = await race(lambda: ec.client.delete(f"/users/{other}"))
    assert statuses(rs) == [204] + [404] * (RACERS - 1), [r.text for r in rs]
    events = (await eligibility_events(test_db, ec.id))[before:]
    assert [(e["addedUsers"], e["removedUsers"]) for e in events] == [([], [other])]


async def test_concurrent_moves_publish_each_eligibility_change_once(ec, test_db):
    user_id = await new_user(ec)
    for i in range(RACERS):
        body = {"locationId": f"l{i}", "coordinates": OSLO}
        assert (await ec.client.post(f"/users/{user_id}/locations", json=body)).status_code == 201
    for where, change in ((SANDBOX_1, ([user_id], [])), (OSLO, ([], [user_id]))):
        before = len(await eligibility_events(test_db, ec.id))
        rs = await asyncio.gather(
            *(
                ec.client.patch(f"/users/{user_id}/locations/l{i}", json={"coordinates": where})
                for i in range(RACERS)
            )
        )
        assert statuses(rs) == [200] * RACERS, [r.text for r in rs]
        events = (await eligibility_events(test_db, ec.id))[before:]
        assert [(e["addedUsers"], e["removedUsers"]) for e in events] == [change]


async def test_concurrent_enrollment_gives_one_enrollment(ec):
    user_id = await new_user(ec)
    body = {"locationId": "l", "coordinates": SANDBOX_1}
    assert (await ec.client.post(f"/users/{user_id}/locations", json=body)).status_code == 201
    rs = await race(lambda: ec.client.post(f"/users/{user_id}/enrollment"))
    assert statuses(rs) == [200] * RACERS
    assert len({r.json()["enrollmentId"] for r in rs}) == 1


async def test_writes_racing_a_delete_are_404_never_500(ec, test_db):
    for _ in range(5):
        user_id = await new_user(ec)
        base = f"/users/{user_id}/locations"
        location = {"locationId": uid("l"), "coordinates": OSLO, "meterPointIds": [uid("m")]}
        assert (await ec.client.post(base, json=location)).status_code == 201
        path = f"{base}/{location['locationId']}"
        rs = await asyncio.gather(
            ec.client.delete(path),
            ec.client.put(path, json={**location, "coordinates": SANDBOX_1}),
            ec.client.patch(path, json={"coordinates": SANDBOX_1}),
            ec.client.post(f"{path}/resources", json={"resourceId": uid(), "resourceType": "HVAC"}),
            ec.client.delete(f"/users/{user_id}"),
            ec.client.post(base, json={"locationId": uid("l"), "coordinates": SANDBOX_1}),
            ec.client.post(
                f"/users/{user_id}/vehicles", json={"resourceId": uid(), "resourceType": "Vehicle"}
            ),
        )
        codes = [r.status_code for r in rs]
        assert all(c < 500 for c in codes), [r.text for r in rs]
        assert codes[4] == 204, rs[4].text  # the user delete always finds the user
        assert set(codes[1:4] + codes[5:]) <= {200, 201, 400, 404}, [r.text for r in rs]
        for r in rs:
            if r.status_code == 400:  # the vehicle route's documented answer to no such user
                assert "was not found" in r.text, r.text
    assert await count(test_db, EcUser, ec.id) == 0
    assert await count(test_db, EcLocation, ec.id) == 0
    assert await count(test_db, EcResource, ec.id) == 0
