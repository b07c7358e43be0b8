"""Stopping instructions: a ``stop`` instruction is created and published; the original is
cancelled (not started) or ends at the stop time (running)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from flexhub.platform.flexmarket.services.sweeper import sweep
from flexhub.store.flexmarket import FmDispatchInstruction
from flexhub.store.flexmarket_webhooks import FmEvent
from support.fm import market, now, ok, z


async def test_stopping_a_future_instruction_cancels_it(make_partner, test_db):
    m = await market(make_partner)
    d = await ok(await m.dispatch(capacity="1.250"), 201)
    stop = await ok(await m.so.client.post(f"/so/v1/dispatches/{d['id']}/stop/"), 201)
    assert stop["instruction_type"] == "stop" and stop["stops"] == d["id"]
    assert stop["so_reference"] == d["so_reference"] + ":stop"
    assert stop["start"] == d["start"]  # not started yet: the whole instruction is stopped
    assert (stop["end"], stop["capacity"]) == (d["end"], d["capacity"])
    assert stop["status"] == "accepted" and stop["respond_by"] is None
    assert stop["mwh"] == "1.250"
    original = await ok(await m.fsp.client.get(f"/dispatches/v1/{d['id']}/"))
    assert original["status"] == "cancelled" and original["stopped_by"] == stop["id"]
    assert original["end"] == d["end"]
    assert await ok(await m.fsp.client.get(f"/dispatches/v1/{stop['id']}/")) == stop
    # a repeat returns the same stop
    again = await ok(await m.so.client.post(f"/so/v1/dispatches/{d['id']}/stop/", json={}))
    assert again == stop
    async with test_db.session() as session:
        rows = (
            await session.scalars(
                select(FmEvent).where(
                    FmEvent.tenant_id == m.fsp.id,
                    FmEvent.event_type == "dispatch_instruction.stopped",
                )
            )
        ).all()
    assert [r.data for r in rows] == [stop]
    # a stop needs no answer, and cannot be stopped
    for path, body in (("accept", {}), ("reject", {"reason": "no"})):
        r = await m.fsp.client.post(f"/dispatches/v1/{stop['id']}/{path}/", json=body)
        assert r.status_code == 409
    r = await m.so.client.post(f"/so/v1/dispatches/{stop['id']}/stop/")
    assert r.status_code == 409 and list(r.json()) == ["detail"]
    listed = await ok(await m.fsp.client.get("/dispatches/v1/", params={"status": "cancelled"}))
    assert [x["id"] for x in listed["results"]] == [d["id"]]


async def test_stopping_a_running_instruction_ends_it_at_the_stop_time(make_partner):
    m = await market(make_partner)
    start = now().replace(microsecond=0) - timedelta(minutes=10)
    d = await ok(await m.dispatch(start=z(start), end=z(start + timedelta(hours=1))), 201)
    await ok(await m.fsp.client.post(f"/dispatches/v1/{d['id']}/accept/"))
    stop_at = now().replace(microsecond=0) + timedelta(minutes=5)
    body = {"so_reference": "my-stop-1", "start": z(stop_at)}
    stop = await ok(await m.so.client.post(f"/so/v1/dispatches/{d['id']}/stop/", json=body), 201)
    assert stop["so_reference"] == "my-stop-1" and stop["start"] == z(stop_at)
    assert stop["hours"] == "0.750"  # 45 of the 60 minutes will not be delivered
    original = await ok(await m.so.client.get(f"/so/v1/dispatches/{d['id']}/"))
    assert original["status"] == "accepted" and original["stopped_by"] == stop["id"]
    assert original["end"] == d["end"]  # the signed end stays as the SO sent it


async def test_running_stopped_instruction_completes_at_the_stop_time(make_partner, test_db):
    m = await market(make_partner)
    start = now().replace(microsecond=0) - timedelta(minutes=10)
    d = await ok(await m.dispatch(start=z(start), end=z(start + timedelta(hours=1))), 201)
    await ok(await m.fsp.client.post(f"/dispatches/v1/{d['id']}/accept/"))
    stop = await ok(await m.so.client.post(f"/so/v1/dispatches/{d['id']}/stop/"), 201)
    async with test_db.session() as session:
        await sweep(session, now() + timedelta(minutes=1))
    original = await ok(await m.fsp.client.get(f"/dispatches/v1/{d['id']}/"))
    assert original["status"] == "completed"
    assert (await ok(await m.fsp.client.get(f"/dispatches/v1/{stop['id']}/")))[
        "status"
    ] == "accepted"


async def test_stopping_a_pending_running_instruction_cancels_it(make_partner):
    m = await market(make_partner)
    start = now().replace(microsecond=0) - timedelta(minutes=10)
    d = await ok(await m.dispatch(start=z(start), end=z(start + timedelta(hours=1))), 201)
    await ok(await m.so.client.post(f"/so/v1/dispatches/{d['id']}/stop/"), 201)
    original = await ok(await m.fsp.client.get(f"/dispatches/v1/{d['id']}/"))
    assert original["status"] == "cancelled"
    r = await m.fsp.client.post(f"/dispatches/v1/{d['id']}/accept/")
    assert r.status_code == 409 and "cancelled" in r.json()["detail"]


async def test_stop_refusals(make_partner):
    m = await market(make_partner)
    d = await ok(await m.dispatch(), 201)
    url = f"/so/v1/dispatches/{d['id']}/stop/"
    taken = await ok(await m.dispatch(), 201)
    cases = [
        ({"start": d["end"]}, "start"),
        ({"start": z(now() - timedelta(hours=1))}, "start"),
        ({"start": "now"}, "start"),
        ({"signature": "abc", "signature_algorithm": "Ed25519"}, "start"),
        ({"start": d["start"], "signature": "abc"}, "signature_algorithm"),
        ({"so_reference": taken["so_reference"]}, "so_reference"),
        ({"so_reference": ""}, "so_reference"),
        ({"when": "now"}, "when"),
    ]
    for body, field in cases:
        r = await m.so.client.post(url, json=body)
        assert r.status_code == 400 and field in r.json(), (field, r.text)
    assert (await ok(await m.fsp.client.get(f"/dispatches/v1/{d['id']}/")))["status"] == "pending"
    rejected = await ok(await m.dispatch(), 201)
    await ok(
        await m.fsp.client.post(f"/dispatches/v1/{rejected['id']}/reject/", json={"reason": "x"})
    )
    r = await m.so.client.post(f"/so/v1/dispatches/{rejected['id']}/stop/")
    assert r.status_code == 409 and "rejected" in r.json()["detail"]
    assert (await m.so.client.post("/so/v1/dispatches/nope/stop/")).status_code == 404


async def test_a_stop_cannot_take_effect_before_the_instruction_starts(make_partner):
    """Its hours and MWh would count time the original never asked for."""
    m = await market(make_partner)
    d = await ok(await m.dispatch(), 201)  # starts in an hour
    early = z(now() + timedelta(minutes=5))
    r = await m.so.client.post(f"/so/v1/dispatches/{d['id']}/stop/", json={"start": early})
    assert r.status_code == 400 and "before the start" in r.json()["start"][0], r.text
    assert (await ok(await m.fsp.client.get(f"/dispatches/v1/{d['id']}/")))["status"] == "pending"
    stop = await ok(
        await m.so.client.post(f"/so/v1/dispatches/{d['id']}/stop/", json={"start": d["start"]}),
        201,
    )
    assert stop["hours"] == d["hours"] and stop["mwh"] == d["mwh"]


async def test_stopping_again_returns_the_stop_unless_it_asks_for_another(make_partner):
    m = await market(make_partner)
    start = now().replace(microsecond=0) - timedelta(minutes=10)
    d = await ok(await m.dispatch(start=z(start), end=z(start + timedelta(hours=1))), 201)
    await ok(await m.fsp.client.post(f"/dispatches/v1/{d['id']}/accept/"))
    url = f"/so/v1/dispatches/{d['id']}/stop/"
    at = z(now() + timedelta(minutes=5))
    stop = await ok(await m.so.client.post(url, json={"so_reference": "halt-1", "start": at}), 201)
    for same in (
        {},
        {"so_reference": "halt-1"},
        {"start": at},
        {"so_reference": "halt-1", "start": at},
    ):
        assert await ok(await m.so.client.post(url, json=same)) == stop
    for other, named in (
        ({"so_reference": "halt-2"}, "so_reference"),
        ({"start": z(now() + timedelta(minutes=20))}, "start"),
        ({"start": at, "signature": "c2ln", "signature_algorithm": "Ed25519"}, "signature"),
    ):
        r = await m.so.client.post(url, json=other)
        assert r.status_code == 409 and f"different {named}" in r.json()["detail"], r.text
        assert stop["id"] in r.json()["detail"]
    assert (await ok(await m.so.client.get("/so/v1/dispatches/")))["count"] == 2


async def test_concurrent_stops_make_one_stop(make_partner, test_db):
    m = await market(make_partner)
    for bodies in (
        [{} for _ in range(5)],
        [{"so_reference": f"stop-{i}"} for i in range(5)],
    ):
        d = await ok(await m.dispatch(), 201)
        url = f"/so/v1/dispatches/{d['id']}/stop/"
        answers = await asyncio.gather(*(m.so.client.post(url, json=b) for b in bodies))
        codes = sorted(r.status_code for r in answers)
        assert codes.count(201) == 1, [r.text for r in answers]
        (stop,) = [r.json() for r in answers if r.status_code == 201]
        # a repeat of the same stop gets it (200); another so_reference is told it differs
        assert all(r.status_code in (200, 409) for r in answers if r.status_code != 201), [
            (r.status_code, r.text) for r in answers
        ]
        assert all(r.json()["id"] == stop["id"] for r in answers if r.status_code == 200)
        async with test_db.session() as session:
            stops = (
                await session.scalars(
                    select(FmDispatchInstruction.id).where(FmDispatchInstruction.stops == d["id"])
                )
            ).all()
        assert stops == [stop["id"]]
        original = await ok(await m.fsp.client.get(f"/dispatches/v1/{d['id']}/"))
        assert original["stopped_by"] == stop["id"] and original["status"] == "cancelled"


async def test_expired_and_completed_instructions_do_not_stop(make_partner, test_db):
    m = await market(make_partner)
    pending = await ok(await m.dispatch(), 201)
    start = now().replace(microsecond=0) - timedelta(minutes=1)
    running = await ok(await m.dispatch(start=z(start), end=z(start + timedelta(minutes=30))), 201)
    await ok(await m.fsp.client.post(f"/dispatches/v1/{running['id']}/accept/"))
    async with test_db.session() as session:
        await sweep(session, now() + timedelta(minutes=61))
    for d, status in ((pending, "expired"), (running, "completed")):
        r = await m.so.client.post(f"/so/v1/dispatches/{d['id']}/stop/")
        assert r.status_code == 409 and status in r.json()["detail"], r.text


async def test_a_default_stop_reference_too_long_asks_for_one(make_partner):
    m = await market(make_partner)
    d = await ok(await m.dispatch(so_reference="r" * 200), 201)
    r = await m.so.client.post(f"/so/v1/dispatches/{d['id']}/stop/")
    assert r.status_code == 400 and "is required here" in r.json()["so_reference"][0], r.text
    await ok(
        await m.so.client.post(f"/so/v1/dispatches/{d['id']}/stop/", json={"so_reference": "s"}),
        201,
    )
