"""Flex Market webhooks: keys, subscriptions, publishing and signed delivery, the delivery log.

Events are published with the real ``publish`` (as the dispatch and obligation services do)
through a test-side session; the platform's own worker delivers them to a loopback receiver.
"""

from __future__ import annotations

import asyncio
import time

import httpx
import jwt
import pytest
from sqlalchemy import func, select

from flexhub.platform.delivery.outbox import enqueue
from flexhub.platform.flexmarket.events import create_event as publish
from flexhub.store.delivery import OutboxRow
from flexhub.store.flexmarket_webhooks import FmEvent
from flexhub.wire.flexmarket.webhooks import EVENT_TYPES

SUBS = "/webhook/v1/subscriptions/"
CREATED = "dispatch_instruction.created"


async def provider(make_partner):
    return await make_partner(role="provider", api="")


async def subscribe(partner, url, events=(CREATED,), active=True) -> dict:
    r = await partner.client.post(SUBS, json={"url": url, "events": list(events), "active": active})
    assert r.status_code == 201, r.text
    return r.json()


async def emit(test_db, tenant_id, event_type=CREATED, data=None) -> FmEvent:
    async with test_db.session() as session:
        event = await publish(session, tenant_id, event_type, data or {"id": "di-1"})
        await session.commit()
    return event


def verify(token: bytes | str, jwks: dict) -> dict:
    """A receiver's check: the key named by kid, the algorithm taken from the key."""
    keyset = jwt.PyJWKSet.from_dict(jwks)
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(k for k in keyset.keys if k.key_id == kid)
    return jwt.decode(token, key.key, algorithms=[key.algorithm_name])


async def wait_until(predicate, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while True:
        value = await predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.1)


# --- keys -----------------------------------------------------------------------------------


async def test_public_key_and_jwks_need_no_token(platform):
    async with httpx.AsyncClient(base_url=platform.base_url) as http:
        pk = (await http.get("/webhook/v1/public-key/")).json()
        keys = (await http.get("/webhook/v1/jwks/")).json()["keys"]
    assert set(pk) == {"kid", "algorithm", "public_key"}
    assert pk["algorithm"] == "EdDSA" and pk["public_key"].startswith("-----BEGIN PUBLIC KEY-----")
    assert pk["kid"] == platform.ctx.keys.current.kid
    (jwk,) = [k for k in keys if k["kid"] == pk["kid"]]
    assert jwk["kty"] == "OKP" and jwk["crv"] == "Ed25519" and jwk["alg"] == "EdDSA"
    assert "d" not in jwk  # never the private part
    # the PEM and the JWK are the same key
    token = platform.ctx.keys.sign({"x": 1, "iat": int(time.time()), "exp": int(time.time()) + 60})
    assert jwt.decode(token, pk["public_key"], algorithms=["EdDSA"])["x"] == 1
    assert verify(token, {"keys": keys})["x"] == 1


# --- subscriptions --------------------------------------------------------------------------


async def test_subscription_crud(make_partner):
    p = await provider(make_partner)
    sub = await subscribe(p, "https://example.com/hooks", [CREATED, "obligation.created", CREATED])
    assert sub["events"] == [CREATED, "obligation.created"]  # de-duplicated, order kept
    assert sub["active"] is True and sub["created"].endswith("Z")
    r = await p.client.get(f"{SUBS}{sub['id']}/")
    assert r.status_code == 200 and r.json() == sub

    r = await p.client.patch(f"{SUBS}{sub['id']}/", json={"active": False})
    assert r.status_code == 200
    patched = r.json()
    assert patched["active"] is False and patched["url"] == sub["url"]
    assert patched["events"] == sub["events"] and patched["modified"] >= sub["modified"]
    r = await p.client.patch(
        f"{SUBS}{sub['id']}/", json={"url": "http://example.org/x", "events": list(EVENT_TYPES)}
    )
    assert r.json()["url"] == "http://example.org/x" and r.json()["events"] == list(EVENT_TYPES)

    r = await p.client.delete(f"{SUBS}{sub['id']}/")
    assert r.status_code == 204 and r.content == b""
    r = await p.client.get(f"{SUBS}{sub['id']}/")
    assert r.status_code == 404 and "detail" in r.json()
    assert (await p.client.delete(f"{SUBS}{sub['id']}/")).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "https://x.example/h", "events": ["dispatch.created"]}, "events"),
        ({"url": "https://x.example/h", "events": []}, "events"),
        ({"url": "https://x.example/h", "events": "dispatch_instruction.created"}, "events"),
        ({"url": "https://x.example/h", "events": [CREATED, 7]}, "events[1]"),
        ({"url": "ftp://x.example/h", "events": [CREATED]}, "url"),
        ({"url": "https:///nohost", "events": [CREATED]}, "url"),
        ({"url": "", "events": [CREATED]}, "url"),
        ({"url": "https://x.example:99999/", "events": [CREATED]}, "url"),
        ({"url": "https://x.example/" + "a" * 2000, "events": [CREATED]}, "url"),
        ({"url": "https://exa mple.com/h", "events": [CREATED]}, "url"),
        ({"url": "https://example.com/a\nb", "events": [CREATED]}, "url"),
        ({"url": "https://example.com/\u0000", "events": [CREATED]}, "url"),
        ({"events": [CREATED]}, "url"),
        ({"url": "https://x.example/h"}, "events"),
        ({"url": "https://x.example/h", "events": [CREATED], "active": "yes"}, "active"),
        ({"url": "https://x.example/h", "events": [CREATED], "secret": "s"}, "secret"),
    ],
)
async def test_bad_subscription_is_a_400_naming_the_field(make_partner, body, field):
    p = await provider(make_partner)
    r = await p.client.post(SUBS, json=body)
    assert r.status_code == 400, r.text
    errors = r.json()
    assert field in errors and isinstance(errors[field], list) and errors[field], errors
    assert (await p.client.get(SUBS)).json()["count"] == 0  # nothing half-written


async def test_unknown_event_message_names_the_bad_names(make_partner):
    p = await provider(make_partner)
    r = await p.client.post(
        SUBS, json={"url": "https://x.example/h", "events": [CREATED, "nope.never"]}
    )
    assert r.status_code == 400
    assert "'nope.never'" in r.json()["events"][0]


async def test_bad_patch_changes_nothing(make_partner):
    p = await provider(make_partner)
    sub = await subscribe(p, "https://x.example/h")
    for body, field in [
        ({"url": None}, "url"),
        ({"events": None}, "events"),
        ({"active": None}, "active"),
        ({"active": False, "events": ["bogus"]}, "events"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"id": "other"}, "id"),
    ]:
        r = await p.client.patch(f"{SUBS}{sub['id']}/", json=body)
        assert r.status_code == 400 and field in r.json(), (body, r.text)
    assert (await p.client.get(f"{SUBS}{sub['id']}/")).json() == sub
    r = await p.client.patch(f"{SUBS}{sub['id']}/", content=b"{not json")
    assert r.status_code == 400 and "body" in r.json()


async def test_subscriptions_are_private_to_their_provider(make_partner):
    owner, other = await provider(make_partner), await provider(make_partner)
    sub = await subscribe(owner, "https://x.example/h")
    url = f"{SUBS}{sub['id']}/"
    assert (await other.client.get(url)).status_code == 404
    assert (await other.client.patch(url, json={"active": False})).status_code == 404
    assert (await other.client.delete(url)).status_code == 404
    assert (await other.client.get(SUBS)).json()["count"] == 0
    assert (await owner.client.get(url)).json()["active"] is True

    so = await make_partner(role="system_operator", api="")
    r = await so.client.get(SUBS)
    assert r.status_code == 403 and "detail" in r.json()
    async with httpx.AsyncClient(base_url=str(owner.client.base_url)) as anonymous:
        r = await anonymous.get(SUBS)
        assert r.status_code == 401 and "detail" in r.json()
        assert (await anonymous.post(SUBS, json={})).status_code == 401


async def test_list_pages_like_drf(make_partner):
    p = await provider(make_partner)
    made = [(await subscribe(p, f"https://x.example/{i}"))["id"] for i in range(5)]
    first = (await p.client.get(SUBS, params={"limit": 2})).json()
    assert first["count"] == 5 and first["previous"] is None
    assert [s["id"] for s in first["results"]] == made[:2]
    second = (await p.client.get(first["next"])).json()
    assert [s["id"] for s in second["results"]] == made[2:4]
    assert "offset=2" in first["next"] and "limit=2" in first["next"]
    back = (await p.client.get(second["previous"])).json()
    assert back["results"] == first["results"] and "offset" not in second["previous"]
    last = (await p.client.get(second["next"])).json()
    assert [s["id"] for s in last["results"]] == made[4:] and last["next"] is None
    assert (await p.client.get(SUBS)).json()["count"] == 5  # default limit covers all
    for params, field in [
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"offset": -1}, "offset"),
    ]:
        r = await p.client.get(SUBS, params=params)
        assert r.status_code == 400 and field in r.json(), (params, r.text)


# --- publish and delivery -------------------------------------------------------------------


async def test_publish_delivers_a_signed_jws_to_matching_active_subscriptions(
    platform, test_db, make_partner, receiver
):
    p = await provider(make_partner)
    wanted = await subscribe(p, receiver.url, [CREATED, "dispatch_instruction.stopped"])
    await subscribe(p, receiver.url + "/other-type", ["obligation.created"])
    await subscribe(p, receiver.url + "/inactive", [CREATED], active=False)
    other = await provider(make_partner)
    await subscribe(other, receiver.url + "/other-tenant", [CREATED])

    data = {"id": "di-42", "capacity": "1.500", "start": "2026-06-02T16:00:00Z"}
    event = await emit(test_db, p.id, CREATED, data)
    (got,) = await receiver.wait_for(1)
    await asyncio.sleep(0.5)
    assert len(receiver.requests) == 1 and got.path == "/hook"
    assert got.headers["Content-Type"] == "application/jwt"

    jwks = (await p.client.get("/webhook/v1/jwks/")).json()
    claims = verify(got.body, jwks)
    assert set(claims) == {"iss", "iat", "exp", "jti", "event", "data"}
    assert claims["iss"] == platform.settings.base_url
    assert claims["exp"] - claims["iat"] == 300 and abs(claims["iat"] - time.time()) < 60
    assert claims["jti"] == event.id and claims["event"] == CREATED and claims["data"] == data
    header = jwt.get_unverified_header(got.body)
    assert header["alg"] == "EdDSA" and header["kid"] == platform.ctx.keys.current.kid

    log = (await p.client.get("/webhook/v1/deliveries/")).json()
    assert log["count"] == 1
    (entry,) = log["results"]
    assert entry["subscription_id"] == wanted["id"] and entry["event_id"] == event.id
    assert entry["event"] == CREATED and entry["status_code"] == 200 and entry["succeeded"]
    assert entry["attempt"] == 1 and entry["error"] is None and entry["url"] == receiver.url
    assert (await other.client.get("/webhook/v1/deliveries/")).json()["count"] == 0


async def test_retry_keeps_the_jti_and_logs_every_attempt(test_db, make_partner, receiver):
    receiver.statuses = [500, 503]
    p = await provider(make_partner)
    sub = await subscribe(p, receiver.url)
    event = await emit(test_db, p.id)
    requests = await receiver.wait_for(3)
    jwks = (await p.client.get("/webhook/v1/jwks/")).json()
    claims = [verify(r.body, jwks) for r in requests]
    assert {c["jti"] for c in claims} == {event.id}

    async def logged():
        r = await p.client.get("/webhook/v1/deliveries/", params={"subscription_id": sub["id"]})
        body = r.json()
        return body if body["count"] == 3 else None

    log = await wait_until(logged)
    assert [e["attempt"] for e in log["results"]] == [3, 2, 1]  # newest first
    assert [e["status_code"] for e in log["results"]] == [200, 503, 500]
    assert [e["succeeded"] for e in log["results"]] == [True, False, False]
    assert len({e["notification_id"] for e in log["results"]}) == 1
    r = await p.client.get("/webhook/v1/deliveries/", params={"subscription_id": "nope"})
    assert r.json()["count"] == 0
    r = await p.client.get("/webhook/v1/deliveries/", params={"limit": 1})
    assert len(r.json()["results"]) == 1 and r.json()["next"] is not None


async def test_an_endpoint_that_keeps_failing_is_marked_failed(test_db, make_partner, receiver):
    receiver.default = 500
    p = await provider(make_partner)
    await subscribe(p, receiver.url)
    event = await emit(test_db, p.id)
    attempts = 4  # the test platform's policy

    async def finished():
        async with test_db.session() as s:
            row = await s.scalar(select(OutboxRow).where(OutboxRow.event_id == event.id))
            return row if row.status != "pending" else None

    row = await wait_until(finished, timeout=20)
    assert row.status == "failed" and row.attempts == attempts
    assert len(receiver.requests) == attempts
    log = (await p.client.get("/webhook/v1/deliveries/")).json()
    assert log["count"] == attempts and not any(e["succeeded"] for e in log["results"])


async def test_deleted_or_deactivated_subscription_gets_nothing_more(
    test_db, make_partner, receiver
):
    p = await provider(make_partner)
    sub = await subscribe(p, receiver.url)
    await p.client.patch(f"{SUBS}{sub['id']}/", json={"active": False})
    await emit(test_db, p.id)
    await p.client.patch(f"{SUBS}{sub['id']}/", json={"active": True})
    await emit(test_db, p.id, data={"id": "second"})
    (got,) = await receiver.wait_for(1)
    jwks = (await p.client.get("/webhook/v1/jwks/")).json()
    assert verify(got.body, jwks)["data"] == {"id": "second"}

    # a row enqueued before the subscription went away is dropped (cancelled), not sent
    receiver.requests.clear()
    assert (await p.client.delete(f"{SUBS}{sub['id']}/")).status_code == 204
    async with test_db.session() as session:
        event = await publish(session, p.id, CREATED, {"id": "third"})
        (row,) = await enqueue(
            session,
            tenant_id=p.id,
            channel="flexmarket",
            event_id=event.id,
            event_type=CREATED,
            subscription_ids=[sub["id"]],
        )
        await session.commit()

    async def settled():
        async with test_db.session() as s:
            status = (await s.get(OutboxRow, row.id)).status
            return status if status != "pending" else None

    assert await wait_until(settled) == "cancelled"
    assert receiver.requests == []


async def test_publish_is_part_of_the_callers_transaction(test_db, make_partner, receiver):
    p = await provider(make_partner)
    await subscribe(p, receiver.url)
    async with test_db.session() as session:
        event = await publish(session, p.id, CREATED, {"id": "rolled-back"})
        await session.rollback()
    async with test_db.session() as session:
        assert await session.get(FmEvent, event.id) is None
        n = await session.scalar(
            select(func.count()).select_from(OutboxRow).where(OutboxRow.event_id == event.id)
        )
        assert n == 0
    with pytest.raises(ValueError):
        async with test_db.session() as session:
            await publish(session, p.id, "dispatch.created", {})


async def test_event_without_subscribers_is_stored(test_db, make_partner):
    from decimal import Decimal

    p = await provider(make_partner)
    event = await emit(
        test_db, p.id, "obligation.updated", {"id": "o", "capacity": Decimal("2.50")}
    )
    async with test_db.session() as session:
        stored = await session.get(FmEvent, event.id)
        assert stored.data == {"id": "o", "capacity": "2.50"}
        assert stored.event_type == "obligation.updated" and stored.tenant_id == p.id
