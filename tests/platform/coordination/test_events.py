"""Events: newest first, paged with ApiPagination, 400 problem+json for bad paging, 404 for
unknown ids and for other partners' events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flexhub.platform.coordination.events import create_event
from support.ec_schemas import check
from support.ec_schemas import check as check_event_schema

PROBLEM = "application/problem+json"


async def store_events(test_db, tenant_id: str, count: int) -> list[str]:
    """Events with distinct, increasing creation times (oldest first)."""
    base = datetime(2026, 3, 3, 12, tzinfo=UTC)
    ids = []
    async with test_db.session() as session:
        for i in range(count):
            event = await create_event(
                session,
                tenant_id,
                {
                    "lastUpdated": base.isoformat(),
                    "addedUsers": [f"user-{i}"],
                    "removedUsers": [],
                    "payloadType": "UserEligibility",
                },
                created_at=base + timedelta(minutes=i),
            )
            ids.append(event.id)
        await session.commit()
    return ids


async def test_events_are_listed_newest_first_in_pages(ec, test_db):
    ids = await store_events(test_db, ec.id, 5)
    r = await ec.client.get("/events")
    assert r.status_code == 200
    body = check_event_schema("GetEventsResponse", r.json())
    assert [e["id"] for e in body["events"]] == ids[::-1]
    assert body["pagination"] == {
        "totalRecords": 5,
        "pageSize": 100,
        "currentPage": 1,
        "totalPages": 1,
        "nextPage": None,
        "previousPage": None,
    }
    first = body["events"][0]
    assert first["createdAt"] == "2026-03-03T12:04:00+00:00"
    assert first["payload"]["addedUsers"] == ["user-4"]

    pages = []
    for page in (1, 2, 3):
        r = await ec.client.get("/events", params={"page": page, "pageSize": 2})
        pages.append(r.json())
    assert [[e["id"] for e in p["events"]] for p in pages] == [ids[4:2:-1], ids[2:0:-1], ids[:1]]
    assert pages[0]["pagination"]["nextPage"] == 2 and pages[0]["pagination"]["totalPages"] == 3
    assert pages[1]["pagination"]["previousPage"] == 1
    assert pages[2]["pagination"]["nextPage"] is None
    r = await ec.client.get("/events", params={"page": 9, "pageSize": 2})
    assert r.json()["events"] == [] and r.json()["pagination"]["totalRecords"] == 5


async def test_simulated_events_come_back_newest_first(ec):
    made = []
    for _ in range(3):
        r = await ec.client.post("/simulation/events/usereligibility")
        assert r.status_code == 200, r.text
        made.append(r.json()["simulatedEvent"]["id"])
    listed = (await ec.client.get("/events")).json()["events"]
    assert [e["id"] for e in listed] == made[::-1]


async def test_bad_paging_is_a_problem_naming_the_field(ec):
    for params, field in [
        ({"pageSize": 0}, "pageSize"),
        ({"pageSize": 1001}, "pageSize"),
        ({"page": 0}, "page"),
        ({"page": "two"}, "page"),
        ({"pageSize": "1.5"}, "pageSize"),
    ]:
        r = await ec.client.get("/events", params=params)
        assert r.status_code == 400, (params, r.text)
        assert r.headers["content-type"].startswith(PROBLEM)
        body = check("HttpValidationProblemDetails", r.json())
        assert field in body["errors"], body
    r = await ec.client.get("/events", params={"pageSize": 1000})
    assert r.status_code == 200 and r.json()["pagination"]["pageSize"] == 1000


async def test_one_event_by_id(ec, test_db):
    (event_id,) = await store_events(test_db, ec.id, 1)
    r = await ec.client.get(f"/events/{event_id}")
    assert r.status_code == 200
    body = check_event_schema("GetEventResponse", r.json())
    assert set(body) == {"id", "createdAt", "payload"}
    assert body["id"] == event_id and body["payload"]["payloadType"] == "UserEligibility"
    assert datetime.fromisoformat(body["createdAt"]) == datetime(2026, 3, 3, 12, tzinfo=UTC)
    assert (await ec.client.get("/events/no-such-event")).status_code == 404


async def test_events_are_private_to_their_partner(make_partner, test_db):
    alice, bob = await make_partner(), await make_partner()
    (event_id,) = await store_events(test_db, alice.id, 1)
    assert (await bob.client.get(f"/events/{event_id}")).status_code == 404
    body = (await bob.client.get("/events")).json()
    assert body["events"] == [] and body["pagination"]["totalRecords"] == 0
    assert (await alice.client.get(f"/events/{event_id}")).status_code == 200


async def test_events_need_a_token(platform):
    import httpx

    async with httpx.AsyncClient(base_url=platform.base_url) as http:
        r = await http.get("/energy-coordination/v1/events")
    assert r.status_code == 401
