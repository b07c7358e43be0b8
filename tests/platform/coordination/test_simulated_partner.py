"""Sandbox partner data: created eligible (one UserEligibility event), usable by the event
simulations, removed completely (one event, also when removed by several requests at once),
and scoped to the partner like everything else."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from flexhub.store.coordination import EcEvent, EcLocation, EcLocationMeter, EcResource, EcUser
from support.ec_assets import SANDBOX_1, run_eligibility_cycle
from support.ec_simulation import household, refused, simulate


async def rows(test_db, table, tenant_id: str) -> list:
    async with test_db.session() as session:
        return list(
            (await session.scalars(select(table).where(table.tenant_id == tenant_id))).all()
        )


async def test_simulated_partner_data_is_eligible_and_removable(ec, test_db):
    mine = await household(ec)
    r = await ec.client.post("/simulation/partner")
    assert r.status_code == 201 and r.content == b""
    users = [u for u in await rows(test_db, EcUser, ec.id) if u.simulated]
    assert 2 <= len(users) <= 4 and all(u.eligible for u in users)
    locations = [loc for loc in await rows(test_db, EcLocation, ec.id) if loc.simulated]
    assert len(locations) == len(users)
    for loc in locations:
        assert abs(loc.latitude - SANDBOX_1["latitude"]) < 0.05
        assert abs(loc.longitude - SANDBOX_1["longitude"]) < 0.05
    meters = {m.location_id: m.meter_point_id for m in await rows(test_db, EcLocationMeter, ec.id)}
    assert all(len(meters[loc.location_id]) == 18 for loc in locations)
    resources = [res for res in await rows(test_db, EcResource, ec.id) if res.simulated]
    assert len(resources) >= len(users)
    # the new users became eligible in one UserEligibility event (at the next cycle)
    await run_eligibility_cycle(test_db)
    events = [e for e in await rows(test_db, EcEvent, ec.id) if e.payload_type == "UserEligibility"]
    added = sorted(u for e in events for u in e.payload["addedUsers"])
    assert set(u.user_id for u in users) <= set(added)
    # the simulated data is usable by the event simulations
    event = await simulate(ec, "lpc/resources", {})
    targeted = {t["resourceId"] for t in event["payload"]["targets"]}
    assert {res.resource_id for res in resources if res.location_id} <= targeted

    r = await ec.client.delete("/simulation/partner")
    assert r.status_code == 200
    assert [u.user_id for u in await rows(test_db, EcUser, ec.id)] == [mine["user"]]
    assert [loc.location_id for loc in await rows(test_db, EcLocation, ec.id)] == [mine["location"]]
    assert sorted(res.resource_id for res in await rows(test_db, EcResource, ec.id)) == sorted(
        [mine["tank"], mine["car"]]
    )
    assert list(meters.values()) and [
        m.location_id for m in await rows(test_db, EcLocationMeter, ec.id)
    ] == [mine["location"]]
    r = await ec.client.delete("/simulation/partner")
    assert r.status_code == 200  # nothing left to remove is fine


async def test_simulation_is_scoped_to_the_partner(make_partner):
    alice, bob = await make_partner(), await make_partner()
    home = await household(alice)
    event = await simulate(bob, "pricecurve", {})
    assert event["payload"]["targets"] == []
    target = {"resourceId": home["tank"], "locationId": home["location"]}
    refused(
        await bob.client.post("/simulation/events/pricecurve", json={"targets": [target]}),
        "targets[0].resourceId",
    )
    assert (await alice.client.get(f"/events/{event['id']}")).status_code == 404


async def test_removing_at_once_publishes_the_departures_once(ec, test_db):
    r = await ec.client.post("/simulation/partner")
    assert r.status_code == 201
    simulated = sorted(u.user_id for u in await rows(test_db, EcUser, ec.id) if u.simulated)
    await run_eligibility_cycle(test_db)  # their arrival announced
    before = len(await rows(test_db, EcEvent, ec.id))
    rs = await asyncio.gather(*(ec.client.delete("/simulation/partner") for _ in range(5)))
    assert [r.status_code for r in rs] == [200] * 5
    await run_eligibility_cycle(test_db)
    events = sorted((await rows(test_db, EcEvent, ec.id)), key=lambda e: e.created_at)[before:]
    assert [(e.payload["addedUsers"], e.payload["removedUsers"]) for e in events] == [
        ([], simulated)
    ]
    assert await rows(test_db, EcUser, ec.id) == []
