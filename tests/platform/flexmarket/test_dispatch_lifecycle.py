"""Dispatch instructions from issue to answer, expiry, stop and completion; idempotent
``so_reference``; the events each change publishes."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from flexhub.platform.errors import ApiError
from flexhub.platform.flexmarket.services import dispatch_answer
from flexhub.platform.flexmarket.services.sweeper import sweep
from flexhub.store.flexmarket import FmDispatchInstruction
from flexhub.store.flexmarket_webhooks import FmEvent
from support.fm import competition_body, market, now, ok, z


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def events_for(test_db, tenant_id: str, instruction_id: str) -> list[tuple[str, dict]]:
    async with test_db.session() as session:
        rows = await session.scalars(
            select(FmEvent).where(FmEvent.tenant_id == tenant_id).order_by(FmEvent.created)
        )
        return [(r.event_type, r.data) for r in rows if r.data.get("id") == instruction_id]


async def test_issue_and_read(make_partner, test_db):
    m = await market(make_partner)
    body = m.dispatch_body(capacity="1.5")
    created = await ok(await m.so.client.post("/so/v1/dispatches/", json=body), 201)
    for key in ("so_reference", "obligation_id", "start", "end", "capacity", "need_direction"):
        assert created[key] == body[key], key
    assert created["instruction_type"] == "dispatch" and created["status"] == "pending"
    assert created["flex_provider_id"] == m.fsp.id
    assert created["competition_id"] == m.competition["id"]
    assert created["asset_ids"] == [m.asset["id"]] and created["power_type"] == "active"
    assert created["hours"] == "1.000" and created["mwh"] == "1.500"
    assert at(created["respond_by"]) - at(created["created"]) == timedelta(hours=1)
    assert created["exceeds_declared_availability"] is False
    assert created["signature"] is None and created["stops"] is None
    assert await ok(await m.fsp.client.get(f"/dispatches/v1/{created['id']}/")) == created
    so_view = await ok(await m.so.client.get(f"/so/v1/dispatches/{created['id']}/"))
    assert so_view.pop("webhook_deliveries") == []  # the provider subscribed to nothing
    assert so_view == created
    listed = await ok(await m.fsp.client.get("/dispatches/v1/"))
    assert listed["results"] == [created]
    assert await events_for(test_db, m.fsp.id, created["id"]) == [
        ("dispatch_instruction.created", created)
    ]


async def test_so_reference_is_idempotent_per_so(make_partner, test_db):
    m = await market(make_partner)
    body = m.dispatch_body()
    first = await ok(await m.so.client.post("/so/v1/dispatches/", json=body), 201)
    again = await ok(await m.so.client.post("/so/v1/dispatches/", json=body), 200)
    assert again == first
    assert (await ok(await m.fsp.client.get("/dispatches/v1/")))["count"] == 1
    assert len(await events_for(test_db, m.fsp.id, first["id"])) == 1
    other = await market(make_partner)
    mine = await ok(
        await other.so.client.post(
            "/so/v1/dispatches/", json=other.dispatch_body(so_reference=body["so_reference"])
        ),
        201,
    )
    assert mine["id"] != first["id"]


async def test_so_reference_reused_with_other_fields_is_a_conflict(make_partner, test_db):
    """A repeat must be the same request: a reused so_reference with any signed field or the
    signature changed is refused with a 409 naming what differs, and nothing is issued."""
    m = await market(make_partner)
    body = m.dispatch_body()
    first = await ok(await m.so.client.post("/so/v1/dispatches/", json=body), 201)
    later = z(at(body["start"]) + timedelta(minutes=30))
    for change, named in (
        ({"capacity": "0.5"}, "capacity"),
        ({"capacity": "1.0"}, "capacity"),  # the same amount, but not what was signed
        ({"start": later, "end": z(at(later) + timedelta(hours=1))}, "start, end"),
        ({"signature": "c2ln", "signature_algorithm": "Ed25519"}, "signature"),
    ):
        r = await m.so.client.post("/so/v1/dispatches/", json={**body, **change})
        assert r.status_code == 409, (change, r.text)
        assert list(r.json()) == ["detail"] and f"different {named}" in r.json()["detail"]
        assert first["id"] in r.json()["detail"]
    stop = await ok(await m.so.client.post(f"/so/v1/dispatches/{first['id']}/stop/"), 201)
    r = await m.so.client.post(
        "/so/v1/dispatches/", json=m.dispatch_body(so_reference=stop["so_reference"])
    )
    assert r.status_code == 409 and "instruction_type" in r.json()["detail"]
    assert (await ok(await m.so.client.get("/so/v1/dispatches/")))["count"] == 2
    assert len(await events_for(test_db, m.fsp.id, first["id"])) == 1
    # the same request again still gets the first instruction, now cancelled
    again = await ok(await m.so.client.post("/so/v1/dispatches/", json=body), 200)
    assert again["id"] == first["id"] and again["status"] == "cancelled"


async def test_concurrent_repeats_make_one_instruction(make_partner):
    m = await market(make_partner)
    body = m.dispatch_body()
    answers = await asyncio.gather(
        *(m.so.client.post("/so/v1/dispatches/", json=body) for _ in range(5))
    )
    assert sorted(r.status_code for r in answers) == [200, 200, 200, 200, 201]
    assert len({r.json()["id"] for r in answers}) == 1


async def test_accept_then_answers_conflict(make_partner):
    m = await market(make_partner)
    d = await ok(await m.dispatch(), 201)
    url = f"/dispatches/v1/{d['id']}"
    accepted = await ok(await m.fsp.client.post(f"{url}/accept/"))
    assert accepted["status"] == "accepted" and accepted["responded_at"]
    for path, body in (("accept", {}), ("reject", {"reason": "changed my mind"})):
        r = await m.fsp.client.post(f"{url}/{path}/", json=body)
        assert r.status_code == 409 and "accepted" in r.json()["detail"]
    so_view = await ok(await m.so.client.get(f"/so/v1/dispatches/{d['id']}/"))
    assert so_view["status"] == "accepted" and so_view["responded_at"] == accepted["responded_at"]
    r = await m.fsp.client.post(f"{url}/accept/", json={"reason": "x"})
    assert r.status_code == 400 and "reason" in r.json()


async def test_reject_needs_a_reason_and_the_so_sees_it(make_partner):
    m = await market(make_partner)
    d = await ok(await m.dispatch(), 201)
    url = f"/dispatches/v1/{d['id']}/reject/"
    for body, field in (({}, "reason"), ({"reason": " "}, "reason"), (None, "body")):
        r = await m.fsp.client.post(url, json=body)
        assert r.status_code == 400 and field in r.json(), r.text
    rejected = await ok(await m.fsp.client.post(url, json={"reason": "battery offline"}))
    assert rejected["status"] == "rejected" and rejected["reason"] == "battery offline"
    so_view = await ok(await m.so.client.get(f"/so/v1/dispatches/{d['id']}/"))
    assert so_view["status"] == "rejected" and so_view["reason"] == "battery offline"
    r = await m.fsp.client.post(f"/dispatches/v1/{d['id']}/accept/")
    assert r.status_code == 409


async def test_unanswered_instructions_expire(make_partner, test_db):
    m = await market(make_partner, competition=competition_body(respond_within="00:00:01"))
    d = await ok(await m.dispatch(), 201)
    assert at(d["respond_by"]) - at(d["created"]) == timedelta(seconds=1)
    await asyncio.sleep(1.2)
    got = await ok(await m.fsp.client.get(f"/dispatches/v1/{d['id']}/"))
    assert got["status"] == "expired"
    for path, body in (("accept", None), ("reject", {"reason": "late"})):
        r = await m.fsp.client.post(f"/dispatches/v1/{d['id']}/{path}/", json=body)
        assert r.status_code == 409 and "expired" in r.json()["detail"]
    kinds = [kind for kind, _ in await events_for(test_db, m.fsp.id, d["id"])]
    assert kinds == ["dispatch_instruction.created", "dispatch_instruction.expired"]
    expired = (await events_for(test_db, m.fsp.id, d["id"]))[1][1]
    assert expired == got
    filtered = await ok(await m.fsp.client.get("/dispatches/v1/", params={"status": "expired"}))
    assert [x["id"] for x in filtered["results"]] == [d["id"]]


async def test_sweep_expires_and_completes(make_partner, test_db):
    m = await market(make_partner)
    pending = await ok(await m.dispatch(), 201)
    start = now().replace(microsecond=0) - timedelta(minutes=1)
    running = await ok(await m.dispatch(start=z(start), end=z(start + timedelta(minutes=30))), 201)
    await ok(await m.fsp.client.post(f"/dispatches/v1/{running['id']}/accept/"))
    async with test_db.session() as session:
        assert await sweep(session, now() + timedelta(minutes=61)) >= 2
    async with test_db.session() as session:
        rows = {
            r.id: r.status
            for r in await session.scalars(
                select(FmDispatchInstruction).where(
                    FmDispatchInstruction.id.in_([pending["id"], running["id"]])
                )
            )
        }
    assert rows == {pending["id"]: "expired", running["id"]: "completed"}
    kinds = [k for k, _ in await events_for(test_db, m.fsp.id, pending["id"])]
    assert kinds == ["dispatch_instruction.created", "dispatch_instruction.expired"]
    async with test_db.session() as session:  # nothing is due twice
        await sweep(session, now() + timedelta(minutes=70))
    assert len(await events_for(test_db, m.fsp.id, pending["id"])) == 2


async def test_accepted_instructions_complete_after_their_end(make_partner):
    m = await market(make_partner)
    start = now().replace(microsecond=0) - timedelta(minutes=1)
    end = now() + timedelta(seconds=2)
    d = await ok(await m.dispatch(start=z(start), end=z(end)), 201)
    await ok(await m.fsp.client.post(f"/dispatches/v1/{d['id']}/accept/"))
    await asyncio.sleep(max(0.0, (end - now()).total_seconds()) + 1.1)
    got = await ok(await m.so.client.get(f"/so/v1/dispatches/{d['id']}/"))
    assert got["status"] == "completed"


async def test_the_platform_sweeper_expires_without_any_read(make_partner, test_db):
    m = await market(make_partner, competition=competition_body(respond_within="00:00:01"))
    d = await ok(await m.dispatch(), 201)
    deadline = asyncio.get_running_loop().time() + 20
    status = "pending"
    while status == "pending" and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.5)
        async with test_db.session() as session:
            status = await session.scalar(
                select(FmDispatchInstruction.status).where(FmDispatchInstruction.id == d["id"])
            )
    assert status == "expired"
    kinds = [k for k, _ in await events_for(test_db, m.fsp.id, d["id"])]
    assert kinds == ["dispatch_instruction.created", "dispatch_instruction.expired"]


async def test_provider_list_filters(make_partner):
    m = await market(make_partner)
    base = now().replace(microsecond=0) + timedelta(hours=1)
    a = await ok(await m.dispatch(start=z(base), end=z(base + timedelta(hours=1))), 201)
    later = base + timedelta(hours=3)
    b = await ok(await m.dispatch(start=z(later), end=z(later + timedelta(hours=1))), 201)
    await ok(await m.fsp.client.post(f"/dispatches/v1/{b['id']}/accept/"))
    m2 = await market(make_partner)
    other_ob = await ok(
        await m.so.client.post(
            "/so/v1/obligations/",
            json={**_award_like(m), "bid_id": "second"},
        ),
        201,
    )
    c = await ok(
        await m.dispatch(
            obligation_id=other_ob["id"], start=z(base), end=z(base + timedelta(minutes=30))
        ),
        201,
    )
    assert m2.fsp.id != m.fsp.id

    async def ids(client, path="/dispatches/v1/", **params):
        body = await ok(await client.get(path, params=params))
        return [x["id"] for x in body["results"]]

    assert await ids(m.fsp.client) == [a["id"], b["id"], c["id"]]
    assert await ids(m.fsp.client, status="accepted") == [b["id"]]
    assert await ids(m.fsp.client, status="pending") == [a["id"], c["id"]]
    assert await ids(m.fsp.client, obligation_id=other_ob["id"]) == [c["id"]]
    assert await ids(m.fsp.client, start_since=b["start"]) == [b["id"]]
    assert await ids(m.fsp.client, start_to=a["start"]) == [a["id"], c["id"]]
    assert await ids(m.fsp.client, start_since=a["start"], start_to=a["start"]) == [
        a["id"],
        c["id"],
    ]
    days = {"start_since": a["start"][:10], "start_to": b["start"][:10]}  # whole UTC days
    assert await ids(m.fsp.client, **days) == [a["id"], b["id"], c["id"]]
    assert await ids(m.so.client, "/so/v1/dispatches/", status="accepted") == [b["id"]]
    assert await ids(m2.fsp.client) == []
    for params, field in (
        ({"status": "done"}, "status"),
        ({"start_since": "soon"}, "start_since"),
        ({"start_to": "2026-02-30"}, "start_to"),
    ):
        r = await m.fsp.client.get("/dispatches/v1/", params=params)
        assert r.status_code == 400 and list(r.json()) == [field], r.text
    page = await ok(await m.fsp.client.get("/dispatches/v1/", params={"limit": 1}))
    assert page["count"] == 3 and "offset=1" in page["next"]


def _award_like(m) -> dict:
    ob = m.obligation
    return {
        "competition_id": ob["competition_id"],
        "provider": ob["provider"],
        "bid_id": ob["bid_id"],
        "service_window_id": ob["service_window_id"],
        "start": ob["start"],
        "end": ob["end"],
        "capacity": ob["capacity"],
        "need_direction": ob["need_direction"],
        "rates": ob["rates"],
        "assets": ob["assets"],
    }


async def test_answers_are_taken_until_just_before_respond_by(make_partner, test_db):
    """``respond_by`` is the first instant at which answers are refused (409, expired): the
    same rule for accept and reject, for the lazy check and the sweeper (times given to the
    services; no clock is mocked)."""
    m = await market(make_partner)
    late = await ok(await m.dispatch(), 201)
    on_time = await ok(await m.dispatch(), 201)
    rejected = await ok(await m.dispatch(), 201)
    deadline = at(late["respond_by"])
    async with test_db.session() as session:
        with pytest.raises(ApiError) as refused:
            await dispatch_answer.answer(session, m.fsp.id, late["id"], deadline, accept=True)
        assert refused.value.status == 409 and "expired" in refused.value.message
    async with test_db.session() as session:
        with pytest.raises(ApiError) as refused:
            await dispatch_answer.answer(
                session,
                m.fsp.id,
                rejected["id"],
                at(rejected["respond_by"]),
                accept=False,
                reason="too late",
            )
        assert refused.value.status == 409
    async with test_db.session() as session:
        just_before = at(on_time["respond_by"]) - timedelta(microseconds=1)
        view = await dispatch_answer.answer(
            session, m.fsp.id, on_time["id"], just_before, accept=True
        )
        assert view.status == "accepted"
    got = await ok(await m.fsp.client.get(f"/dispatches/v1/{late['id']}/"))
    assert got["status"] == "expired"


async def test_concurrent_answers_take_exactly_one(make_partner):
    m = await market(make_partner)
    d = await ok(await m.dispatch(), 201)
    url = f"/dispatches/v1/{d['id']}"
    answers = await asyncio.gather(
        *(m.fsp.client.post(f"{url}/accept/") for _ in range(3)),
        *(m.fsp.client.post(f"{url}/reject/", json={"reason": "busy"}) for _ in range(3)),
    )
    assert sorted(r.status_code for r in answers) == [200] + [409] * 5, [r.text for r in answers]
    (winner,) = [r.json() for r in answers if r.status_code == 200]
    assert (await ok(await m.fsp.client.get(f"{url}/")))["status"] == winner["status"]
