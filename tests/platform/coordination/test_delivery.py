"""Energy Coordination webhook delivery end to end: the real platform and its in-process worker
POST to real loopback receivers. Signatures are recomputed here with the standard library; the
body is checked against the document's EventNotification; retries, failures, timeouts, disabled
and deleted subscriptions, type filtering and the delivery logs are observed through the API."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from datetime import datetime

from sqlalchemy import select

from flexhub.store.delivery import OutboxRow
from support.ec_schemas import check
from support.ec_schemas import check as check_event_schema
from support.receiver import Receiver

SECRET = "Secret123%"
NOTIFICATION_FIELDS = {
    "notificationId",
    "eventId",
    "eventCreatedAtUtc",
    "notificationSentUtc",
    "notificationType",
    "payload",
}


async def subscribe(client, url: str, secret: str | None = SECRET, types=("PriceCurveCreated",)):
    body = {"webhookUrl": url, "notificationTypes": list(types), "name": "test"}
    if secret is not None:
        body["webhookSecret"] = secret
    r = await client.post("/webhooks", json=body)
    assert r.status_code == 201, r.text
    return r.json()


async def price_curve(client) -> dict:
    r = await client.post("/simulation/events/pricecurve", json={})
    assert r.status_code == 200, r.text
    return r.json()["simulatedEvent"]


def signature(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


async def wait_until(probe, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


async def logs_of(client, count: int, **params) -> list[dict]:
    """The delivery log once it holds ``count`` entries."""

    async def probe():
        r = await client.get("/webhooks/logs", params=params)
        assert r.status_code == 200, r.text
        body = check("GetWebhookNotificationLogsResponse", r.json())
        entries = body["webhookNotificationLogs"]
        return entries if len(entries) >= count else None

    return await wait_until(probe)


async def outbox(test_db, tenant_id: str) -> list[OutboxRow]:
    async with test_db.session() as session:
        rows = await session.scalars(select(OutboxRow).where(OutboxRow.tenant_id == tenant_id))
        return list(rows.all())


async def outbox_status(test_db, tenant_id: str, wanted: str) -> OutboxRow:
    async def probe():
        rows = await outbox(test_db, tenant_id)
        return rows[0] if len(rows) == 1 and rows[0].status == wanted else None

    return await wait_until(probe)


async def hook_status(client, hook_id: str) -> str:
    return (await client.get(f"/webhooks/{hook_id}")).json()["status"]


async def test_price_curve_arrives_signed_and_matches_the_event(ec, receiver):
    hook = await subscribe(ec.client, receiver.url)
    event = await price_curve(ec.client)
    (req,) = await receiver.wait_for(1)
    assert req.path == "/hook"
    assert req.headers["Content-Type"].startswith("application/json")
    assert req.headers["X-Payload-Signature"] == signature(SECRET, req.body)
    assert req.headers["X-Payload-Signature"] != signature(SECRET, req.body + b" ")
    body = json.loads(req.body)
    assert set(body) == NOTIFICATION_FIELDS
    check_event_schema("EventNotification", body)
    assert body["eventId"] == event["id"]
    assert body["notificationType"] == "PriceCurveCreated"
    assert body["eventCreatedAtUtc"] == event["createdAt"]
    sent = datetime.fromisoformat(body["notificationSentUtc"])
    assert sent.utcoffset().total_seconds() == 0
    assert sent >= datetime.fromisoformat(body["eventCreatedAtUtc"])
    polled = (await ec.client.get(f"/events/{event['id']}")).json()
    assert body["payload"] == polled["payload"] == event["payload"]

    (entry,) = await logs_of(ec.client, 1)
    assert entry == {
        "webhookId": hook["webhookId"],
        "tenantId": ec.id,
        "partnerEventId": event["id"],
        "notificationId": body["notificationId"],
        "notificationType": "PriceCurveCreated",
        "notificationSent": entry["notificationSent"],
        "sparkSignature": req.headers["X-Payload-Signature"],
        "webhookUrl": receiver.url,
        "requestTimeout": False,
        "responseStatusCode": 200,
        "requestDurationMs": entry["requestDurationMs"],
    }
    assert isinstance(entry["requestDurationMs"], int) and entry["requestDurationMs"] >= 0
    r = await ec.client.get(f"/webhooks/logs/{body['notificationId']}")
    assert r.status_code == 200
    one = check("GetWebhookNotificationLogByIdResponse", r.json())
    assert one["webhookNotificationLog"] == entry
    assert one["notificationContent"].encode() == req.body  # the raw body sent
    assert await hook_status(ec.client, hook["webhookId"]) == "Healthy"


async def test_failed_deliveries_are_retried_until_accepted(ec, receiver, test_db):
    receiver.statuses = [500, 500]
    hook = await subscribe(ec.client, receiver.url)
    event = await price_curve(ec.client)
    requests = await receiver.wait_for(3)
    row = await outbox_status(test_db, ec.id, "delivered")
    assert row.attempts == 3 and len(receiver.requests) == 3
    ids = {json.loads(r.body)["notificationId"] for r in requests}
    assert ids == {row.id}  # the same notification each time
    assert all(r.headers["X-Payload-Signature"] == signature(SECRET, r.body) for r in requests)
    entries = await logs_of(ec.client, 3)
    assert [e["responseStatusCode"] for e in entries] == [200, 500, 500]  # newest first
    assert {e["notificationId"] for e in entries} == {row.id}
    assert {e["partnerEventId"] for e in entries} == {event["id"]}
    assert await hook_status(ec.client, hook["webhookId"]) == "Healthy"
    # the log pages like every list
    r = await ec.client.get("/webhooks/logs", params={"page": 2, "pageSize": 2})
    body = r.json()
    assert [e["responseStatusCode"] for e in body["webhookNotificationLogs"]] == [500]
    assert body["pagination"]["totalRecords"] == 3 and body["pagination"]["previousPage"] == 1
    # the single-notification view shows the latest attempt
    r = await ec.client.get(f"/webhooks/logs/{row.id}")
    assert r.json()["webhookNotificationLog"]["responseStatusCode"] == 200


async def test_a_receiver_that_always_fails_gets_four_attempts(ec, receiver, test_db):
    receiver.default = 500
    hook = await subscribe(ec.client, receiver.url)
    await price_curve(ec.client)
    await receiver.wait_for(4)
    row = await outbox_status(test_db, ec.id, "failed")
    assert row.attempts == 4
    assert len(receiver.requests) == 4  # final: nothing more is sent
    entries = await logs_of(ec.client, 4)
    assert len(entries) == 4 and all(e["responseStatusCode"] == 500 for e in entries)
    assert await hook_status(ec.client, hook["webhookId"]) == "Unhealthy"


async def test_a_slow_receiver_times_out(ec, receiver, platform, test_db):
    """A timed-out attempt that will be retried leaves the status alone (issue 11: a webhook
    is not flagged after one failed attempt); the last one of a notification sets TimeOut."""
    assert platform.settings.delivery_timeout_seconds < 3
    receiver.delay = 3
    hook = await subscribe(ec.client, receiver.url)
    await price_curve(ec.client)
    (entry,) = await logs_of(ec.client, 1)
    assert entry["requestTimeout"] is True and entry["responseStatusCode"] is None
    assert await hook_status(ec.client, hook["webhookId"]) == "New"
    await outbox_status(test_db, ec.id, "failed")
    entries = await logs_of(ec.client, 4)
    assert all(e["requestTimeout"] for e in entries)
    assert await hook_status(ec.client, hook["webhookId"]) == "TimeOut"


async def test_disabled_webhook_gets_nothing(ec, receiver, test_db):
    other = await Receiver().start()
    try:
        live = await subscribe(ec.client, receiver.url)
        off = await subscribe(ec.client, other.url)
        r = await ec.client.put(
            f"/webhooks/{off['webhookId']}/enabled", params={"enabled": "false"}
        )
        assert r.status_code == 204
        await price_curve(ec.client)
        await receiver.wait_for(1)
        await logs_of(ec.client, 1)
        assert other.requests == []
        assert {row.subscription_id for row in await outbox(test_db, ec.id)} == {live["webhookId"]}
        r = await ec.client.get("/webhooks/logs", params={"webhookId": off["webhookId"]})
        assert r.json()["webhookNotificationLogs"] == []
    finally:
        await other.stop()


async def test_webhook_without_secret_is_unsigned(ec, receiver):
    await subscribe(ec.client, receiver.url, secret=None)
    await price_curve(ec.client)
    (req,) = await receiver.wait_for(1)
    assert "X-Payload-Signature" not in req.headers
    assert json.loads(req.body)["notificationType"] == "PriceCurveCreated"
    (entry,) = await logs_of(ec.client, 1)
    assert entry["sparkSignature"] is None


async def test_webhooks_get_only_the_types_they_subscribe_to(ec, receiver, test_db):
    prices = await Receiver().start()
    try:
        eligibility = await subscribe(ec.client, receiver.url, types=["UserEligibilityUpdated"])
        await subscribe(ec.client, prices.url, types=["PriceCurveCreated"])
        await price_curve(ec.client)
        await prices.wait_for(1)
        # the price curve was never queued for the eligibility-only webhook
        queued = [r for r in await outbox(test_db, ec.id)]
        assert eligibility["webhookId"] not in {r.subscription_id for r in queued}
        r = await ec.client.post("/simulation/events/usereligibility")
        assert r.status_code == 200
        (req,) = await receiver.wait_for(1)
        assert json.loads(req.body)["notificationType"] == "UserEligibilityUpdated"
        assert json.loads(req.body)["payload"]["payloadType"] == "UserEligibility"
        await logs_of(ec.client, 2)
        assert len(prices.requests) == 1 and len(receiver.requests) == 1
    finally:
        await prices.stop()


async def _drop_pending_after_first_attempt(ec, receiver, test_db, drop) -> None:
    """The first attempt fails slowly; while it is in flight the subscription goes away; the
    retry that follows is cancelled, not sent."""
    receiver.statuses = [500]
    receiver.delay = 1.0
    hook = await subscribe(ec.client, receiver.url)
    await price_curve(ec.client)
    await receiver.wait_for(1)
    await drop(hook["webhookId"])
    row = await outbox_status(test_db, ec.id, "cancelled")
    assert row.attempts == 1
    assert len(receiver.requests) == 1
    (entry,) = await logs_of(ec.client, 1)
    assert entry["responseStatusCode"] == 500


async def test_disabling_drops_pending_notifications(ec, receiver, test_db):
    async def disable(hook_id):
        r = await ec.client.put(f"/webhooks/{hook_id}/enabled", params={"enabled": "false"})
        assert r.status_code == 204

    await _drop_pending_after_first_attempt(ec, receiver, test_db, disable)


async def test_deleting_drops_pending_notifications(ec, receiver, test_db):
    async def delete(hook_id):
        assert (await ec.client.delete(f"/webhooks/{hook_id}")).status_code == 204

    await _drop_pending_after_first_attempt(ec, receiver, test_db, delete)


async def test_delivery_logs_are_private_to_their_partner(make_partner, receiver):
    alice, bob = await make_partner(), await make_partner()
    hook = await subscribe(alice.client, receiver.url)
    first = await price_curve(alice.client)
    (entry,) = await logs_of(alice.client, 1)
    r = await bob.client.get("/webhooks/logs")
    assert r.json()["webhookNotificationLogs"] == []
    r = await bob.client.get("/webhooks/logs", params={"webhookId": hook["webhookId"]})
    assert r.json()["webhookNotificationLogs"] == []
    r = await bob.client.get(f"/webhooks/logs/{entry['notificationId']}")
    assert r.status_code == 400  # not found; the document lists 400 but no 404 here
    assert "not found" in r.json()["detail"]
    assert r.headers["content-type"].startswith("application/problem+json")
    # and bob's events never reach alice's webhook
    await price_curve(bob.client)
    second = await price_curve(alice.client)
    await receiver.wait_for(2)
    entries = await logs_of(alice.client, 2)
    assert len(receiver.requests) == 2 and len(entries) == 2
    received = {json.loads(r.body)["eventId"] for r in receiver.requests}
    assert received == {e["partnerEventId"] for e in entries} == {first["id"], second["id"]}


async def test_the_write_only_secret_survives_a_put_that_leaves_it_out(ec, receiver):
    """The secret is never returned, so a PUT built from a GET cannot carry it: leaving it out
    (or null) keeps it; an empty string removes it."""
    hook = await subscribe(ec.client, receiver.url)
    url = f"/webhooks/{hook['webhookId']}"
    read = (await ec.client.get(url)).json()
    replacement = {k: read[k] for k in ("webhookUrl", "notificationTypes", "enabled", "name")}
    r = await ec.client.put(url, json={**replacement, "name": "renamed"})
    assert r.status_code == 200 and r.json()["name"] == "renamed"
    await price_curve(ec.client)
    (req,) = await receiver.wait_for(1)
    assert req.headers["X-Payload-Signature"] == signature(SECRET, req.body)
    r = await ec.client.put(url, json={**replacement, "webhookSecret": None})
    assert r.status_code == 200
    r = await ec.client.put(url, json={**replacement, "webhookSecret": "rotated"})
    assert r.status_code == 200
    await price_curve(ec.client)
    second = (await receiver.wait_for(2))[1]
    assert second.headers["X-Payload-Signature"] == signature("rotated", second.body)
    r = await ec.client.put(url, json={**replacement, "webhookSecret": ""})
    assert r.status_code == 200
    await price_curve(ec.client)
    third = (await receiver.wait_for(3))[2]
    assert "X-Payload-Signature" not in third.headers


async def test_a_notification_never_crosses_partners(make_partner, receiver, test_db):
    """Defence in depth: an outbox row of one partner naming another partner's webhook or
    event (which no code path writes) is dropped, not delivered."""
    from flexhub.platform.delivery.outbox import enqueue

    alice, bob = await make_partner(), await make_partner()
    hook = await subscribe(alice.client, receiver.url)
    event = await price_curve(bob.client)
    mine = await price_curve(alice.client)
    await receiver.wait_for(1)  # alice's own event reaches her
    async with test_db.session() as session:
        for tenant, event_id in ((bob.id, event["id"]), (alice.id, event["id"])):
            await enqueue(
                session,
                tenant_id=tenant,
                channel="coordination",
                event_id=event_id,
                event_type="PriceCurveCreated",
                subscription_ids=[hook["webhookId"]],
            )
        await session.commit()

    async def settled():
        async with test_db.session() as session:
            rows = await session.scalars(
                select(OutboxRow).where(OutboxRow.tenant_id.in_([alice.id, bob.id]))
            )
            statuses = sorted(r.status for r in rows.all())
            return statuses if "pending" not in statuses else None

    assert await wait_until(settled) == ["cancelled", "cancelled", "delivered"]
    assert [json.loads(r.body)["eventId"] for r in receiver.requests] == [mine["id"]]
