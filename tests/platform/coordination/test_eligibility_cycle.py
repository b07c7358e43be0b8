"""The eligibility cycle, on each database, with a platform whose own cycle never comes (the
test runs each cycle): 500 changes inside one cycle become ONE UserEligibility event per
partner, added and removed netted out, with its outbox row; the eligibility endpoints tell the
truth before the cycle; a cycle runs once; a reload that removes an area is announced."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from flexhub.clock import utcnow
from flexhub.platform.coordination.services.eligibility_cycle import cycle_start, run_cycle
from flexhub.store.coordination import EcEvent, EcWebhook, EligibilityCycle
from flexhub.store.database import Database
from flexhub.store.delivery import OutboxRow
from support.ec_assets import uid
from support.geo import collection, own_platform, square_feature
from support.platform import new_partner

NEVER = 10**9  # seconds: the platform's own next cycle is years away
INSIDE = {"latitude": 62.05, "longitude": 8.05}
OUTSIDE = {"latitude": 62.05, "longitude": 9.05}
AREA = square_feature("cycle-area", 8.0, 62.0, size=0.1)


@pytest.fixture(scope="module")
def geo(backend, tmp_path_factory):
    yield from own_platform(backend.name, tmp_path_factory, eligibility_cycle_seconds=NEVER)


@pytest.fixture(scope="module")
async def geo_db(geo):
    db = Database(geo.settings.database_url)
    yield db
    await db.dispose()


@pytest.fixture
async def partners(geo, geo_db):
    made = []

    async def make(role: str = "provider"):
        partner = await new_partner(geo.base_url, geo_db, role)
        made.append(partner)
        return partner

    yield make
    for p in made:
        await p.client.aclose()


_LAST = [utcnow()]


def next_start():
    """A cycle start of the test's own, later than every earlier one."""
    _LAST[0] = max(utcnow(), _LAST[0] + timedelta(microseconds=1))
    return _LAST[0]


async def events_of(db, tenant_id: str) -> list[EcEvent]:
    async with db.session() as s:
        rows = await s.scalars(
            select(EcEvent)
            .where(EcEvent.tenant_id == tenant_id, EcEvent.payload_type == "UserEligibility")
            .order_by(EcEvent.created_at)
        )
        return list(rows.all())


async def users_with_locations(ec, where: list[dict]) -> list[str]:
    """One new user per entry, each with one location at those coordinates (two batches)."""
    ids = [uid("u") for _ in where]
    r = await ec.client.post("/users/batch", json={"users": [{"userId": u} for u in ids]})
    assert r.status_code == 201, r.text
    items = [
        {"userId": u, "locationId": f"l-{u}", "coordinates": c}
        for u, c in zip(ids, where, strict=True)
    ]
    r = await ec.client.post("/users/locations/batch", json={"locations": items})
    assert r.status_code == 201, r.text
    return ids


async def move(ec, user_id: str, coordinates: dict) -> None:
    r = await ec.client.patch(
        f"/users/{user_id}/locations/l-{user_id}", json={"coordinates": coordinates}
    )
    assert r.status_code == 200, r.text


async def eligible(ec, user_id: str) -> bool:
    return (await ec.client.get(f"/users/{user_id}/eligibility")).json()["isEligible"]


async def test_500_changes_in_one_cycle_make_one_netted_event_per_partner(partners, geo_db):
    operator = await partners("system_operator")
    assert (await operator.client.put("/operator/neighbourhoods", json=collection(AREA))).is_success
    a, b = await partners(), await partners()
    async with geo_db.session() as s:  # partner a subscribes: its event gets an outbox row
        s.add(
            EcWebhook(
                id=uid("wh"),
                tenant_id=a.id,
                url="http://127.0.0.1:9/hook",
                notification_types=["UserEligibilityUpdated"],
                enabled=True,
                status="New",
            )
        )
        await s.commit()
    # before the cycle: 40 of a's users eligible and announced
    announced = await users_with_locations(a, [INSIDE] * 40)
    assert (await run_cycle(geo_db, next_start())).events == 1
    flips = 0

    # a: 200 become eligible, 100 stay outside; of the 200, 50 move out again, 30 are deleted
    fresh = await users_with_locations(a, [INSIDE] * 200 + [OUTSIDE] * 100)
    came, stayed_out = fresh[:200], fresh[200:]
    flips += 200
    for u in came[:50]:
        await move(a, u, OUTSIDE)
    for u in came[50:80]:
        assert (await a.client.delete(f"/users/{u}")).status_code == 204
    flips += 80
    # of the 40 announced: 20 move out, 10 of them back in; 10 are deleted
    for u in announced[:20]:
        await move(a, u, OUTSIDE)
    for u in announced[:10]:
        await move(a, u, INSIDE)
    for u in announced[20:30]:
        assert (await a.client.delete(f"/users/{u}")).status_code == 204
    flips += 20 + 10 + 10
    # b: 150 become eligible, 20 of them move out and back in
    b_users = await users_with_locations(b, [INSIDE] * 150)
    for u in b_users[:20]:
        await move(b, u, OUTSIDE)
        await move(b, u, INSIDE)
    flips += 150 + 40
    assert flips >= 500

    # the endpoints tell the truth before any event
    assert await eligible(a, came[60 + 30]) and not await eligible(a, came[0])
    assert not await eligible(a, announced[15]) and await eligible(a, announced[5])
    assert not await eligible(a, stayed_out[0])
    assert (await a.client.get(f"/users/{came[60]}/eligibility")).status_code == 404
    before_a, before_b = len(await events_of(geo_db, a.id)), len(await events_of(geo_db, b.id))
    assert (before_a, before_b) == (1, 0)

    start = next_start()
    done = await run_cycle(geo_db, start)
    assert (done.events, done.users) == (2, 120 + 20 + 150)
    (event_a,) = (await events_of(geo_db, a.id))[1:]
    (event_b,) = await events_of(geo_db, b.id)
    assert event_a.payload["addedUsers"] == sorted(came[80:])
    assert event_a.payload["removedUsers"] == sorted(announced[10:30])
    assert (
        event_b.payload["addedUsers"] == sorted(b_users) and event_b.payload["removedUsers"] == []
    )
    async with geo_db.session() as s:
        outbox = (await s.scalars(select(OutboxRow).where(OutboxRow.event_id == event_a.id))).all()
        claim = await s.get(EligibilityCycle, start)
    assert [(o.tenant_id, o.event_type) for o in outbox] == [(a.id, "UserEligibilityUpdated")]
    assert (claim.events, claim.users) == (2, 290)

    # the same cycle never runs twice; the next one has nothing to say
    assert await run_cycle(geo_db, start) is None
    assert (await run_cycle(geo_db, next_start())).events == 0
    assert len(await events_of(geo_db, a.id)) == 2


async def test_a_reload_that_removes_an_area_is_announced_at_the_next_cycle(partners, geo_db):
    operator = await partners("system_operator")
    other = square_feature("cycle-other", 20.0, 63.0, size=0.1)
    r = await operator.client.put("/operator/neighbourhoods", json=collection(AREA, other))
    assert r.status_code == 200, r.text
    ec = await partners()
    here, there = await users_with_locations(ec, [INSIDE, {"latitude": 63.05, "longitude": 20.05}])
    await run_cycle(geo_db, next_start())
    (first,) = await events_of(geo_db, ec.id)
    assert first.payload["addedUsers"] == sorted([here, there])

    r = await operator.client.put("/operator/neighbourhoods", json=collection(other))
    assert r.json()["removed"] == ["cycle-area"] and r.json()["usersRemoved"] >= 1
    assert not await eligible(ec, here) and await eligible(ec, there)
    await run_cycle(geo_db, next_start())
    second = (await events_of(geo_db, ec.id))[1]
    assert second.payload["addedUsers"] == [] and second.payload["removedUsers"] == [here]
    r = await operator.client.put("/operator/neighbourhoods", json=collection(AREA, other))
    assert r.json()["added"] == ["cycle-area"]


def test_cycles_start_at_whole_multiples_of_their_length():
    now = utcnow().replace(hour=10, minute=17, second=42, microsecond=5)
    assert cycle_start(now, 600) == now.replace(minute=10, second=0, microsecond=0)
    assert cycle_start(now.replace(minute=10, second=0, microsecond=0), 600).minute == 10
    assert cycle_start(now, 3600) == now.replace(minute=0, second=0, microsecond=0)


async def test_locations_written_during_a_reload_are_placed_with_the_new_areas(partners, geo_db):
    """Writes racing a reload: each location is placed with the areas the reload commits, or
    the reload sees it; nobody ends up with a stale answer (the placement guard)."""
    import asyncio

    operator = await partners("system_operator")
    ec = await partners()
    assert (await operator.client.put("/operator/neighbourhoods", json=collection(AREA))).is_success
    ids = [uid("u") for _ in range(60)]
    r = await ec.client.post("/users/batch", json={"users": [{"userId": u} for u in ids]})
    assert r.status_code == 201
    later = square_feature("cycle-later", 12.0, 62.0, size=0.1)  # where the users will live
    where = {"latitude": 62.05, "longitude": 12.05}

    async def add(user_id: str) -> None:
        body = {"locationId": f"l-{user_id}", "coordinates": where}
        r = await ec.client.post(f"/users/{user_id}/locations", json=body)
        assert r.status_code == 201, r.text

    async def reload() -> None:
        await asyncio.sleep(0.05)
        r = await operator.client.put("/operator/neighbourhoods", json=collection(AREA, later))
        assert r.status_code == 200, r.text

    await asyncio.gather(reload(), *(add(u) for u in ids))
    assert [await eligible(ec, u) for u in ids] == [True] * len(ids)
    await run_cycle(geo_db, next_start())
    announced = [u for e in await events_of(geo_db, ec.id) for u in e.payload["addedUsers"]]
    assert sorted(announced) == sorted(ids)


async def test_claims_older_than_a_week_are_pruned(geo_db):
    first = next_start() + timedelta(days=30)  # after every other test's cycles
    assert (await run_cycle(geo_db, first)) is not None
    assert (await run_cycle(geo_db, first + timedelta(days=6))) is not None
    async with geo_db.session() as s:
        assert await s.get(EligibilityCycle, first) is not None
    assert (await run_cycle(geo_db, first + timedelta(days=8))) is not None
    async with geo_db.session() as s:
        assert await s.get(EligibilityCycle, first) is None
        assert await s.get(EligibilityCycle, first + timedelta(days=6)) is not None
    _LAST[0] = first + timedelta(days=8)
