"""Stopping instructions: a ``stop`` instruction is created and published; the original is
cancelled (not started) or ends at the stop time (running)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from flexhub.platform.engines.dispatch_expiry import sweep
from flexhub.store.flexmarket_webhooks import FmEvent

from .fm_support import market, now, ok, z


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
