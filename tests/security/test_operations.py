"""Operations (issue 11): request, outbox, delivery and webhook-health metrics; Swagger UI and
ReDoc served from the package; delivery-log retention; a webhook is unhealthy only when a
notification's retries are exhausted, and one failing for days is disabled with a notice."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import httpx
from sqlalchemy import select

from flexhub.clock import utcnow
from flexhub.config import RetryPolicy
from flexhub.platform.delivery.retention import sweep
from flexhub.store.delivery import DeliveryAttempt, OutboxRow
from support.outbox import seed
from support.platform import EC
from support.receiver import Receiver
from support.strict import database_of, partner_on, start_strict


def _value(text: str, name: str, **labels: str) -> float | None:
    for line in text.splitlines():
        if not line.startswith(name + "{") and line.split(" ")[0] != name:
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


async def test_metrics_cover_requests_outbox_deliveries_and_health(platform, make_partner):
    ec = await make_partner()
    assert (await ec.client.get("/users/nobody")).status_code == 404
    r = await ec.client.post("/webhooks", json={"webhookUrl": "http://127.0.0.1:9/never"})
    assert r.status_code == 201
    assert (await ec.client.post("/simulation/events/usereligibility")).status_code == 200
    async with httpx.AsyncClient(base_url=platform.base_url) as http:
        deadline = time.monotonic() + 20
        while True:
            text = (await http.get("/metrics")).text
            if _value(text, "flexhub_webhook_deliveries_total", outcome="retry"):
                break
            assert time.monotonic() < deadline, "no failed attempt counted"
            await asyncio.sleep(0.2)
    route = EC + "/users/{userId}"
    assert _value(text, "flexhub_http_requests_total", route=route, status="404") >= 1
    assert _value(text, "flexhub_http_request_seconds_count", route=route) >= 1
    assert "/users/nobody" not in text  # templates, not paths
    assert _value(text, "flexhub_outbox_pending", channel="coordination") is not None
    assert _value(text, "flexhub_outbox_oldest_due_age_seconds", channel="flexmarket") is not None
    assert _value(text, "flexhub_webhooks", api="coordination", status="New") >= 1
    assert _value(text, "flexhub_webhooks", api="flexmarket", status="active") is not None
    assert _value(text, "flexhub_webhook_request_seconds_count", channel="coordination") >= 1


async def test_docs_are_served_without_a_cdn(platform):
    async with httpx.AsyncClient(base_url=platform.base_url) as http:
        for page, asset in (("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")):
            html = (await http.get(page)).text
            assert f"/docs-static/{asset}" in html and "cdn" not in html.lower(), page
            r = await http.get(f"/docs-static/{asset}")
            assert r.status_code == 200 and len(r.content) > 100_000
        assert (await http.get("/docs-static/swagger-ui.css")).status_code == 200


async def test_retention_deletes_old_attempts_and_finished_rows(tmp_path):
    receiver = await Receiver().start()
    platform = start_strict(tmp_path, webhook_allow_private=True)
    try:
        async with database_of(platform) as db:
            tenant = await seed(db, receiver.url, 2)
            await receiver.wait_for(2)
            deadline = time.monotonic() + 10
            while True:
                async with db.session() as session:
                    done = (
                        await session.scalars(
                            select(OutboxRow).where(
                                OutboxRow.tenant_id == tenant, OutboxRow.status == "delivered"
                            )
                        )
                    ).all()
                if len(done) == 2 or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.1)
            assert await sweep(db, 30) == (0, 0)  # nothing is 30 days old yet
            assert await sweep(db, 30, now=utcnow() + timedelta(days=31)) == (2, 2)
            async with db.session() as session:
                assert (await session.scalars(select(DeliveryAttempt))).all() == []
    finally:
        platform.stop()
        await receiver.stop()


async def test_unhealthy_only_when_retries_are_exhausted_then_disabled(tmp_path):
    """With retries a second apart, the status after the first failure is still New; once
    the notification is given up it is Unhealthy, and (failing longer than the threshold,
    here zero days) the webhook is disabled with a notice in its delivery log."""
    receiver = await Receiver(default=500).start()
    slow = RetryPolicy(max_attempts=2, base_seconds=1.5, factor=1.0, max_seconds=2.0, jitter=0.0)
    platform = start_strict(
        tmp_path, webhook_allow_private=True, ec_retry=slow, webhook_disable_after_days=0.0
    )
    ec = await partner_on(platform, api=EC)
    try:
        hook = (await ec.client.post("/webhooks", json={"webhookUrl": receiver.url})).json()
        assert (await ec.client.post("/simulation/events/usereligibility")).status_code == 200
        await receiver.wait_for(1)
        await asyncio.sleep(0.3)
        status = (await ec.client.get(f"/webhooks/{hook['webhookId']}")).json()
        assert status["status"] == "New" and status["enabled"] is True
        await receiver.wait_for(2)
        deadline = time.monotonic() + 10
        while True:
            status = (await ec.client.get(f"/webhooks/{hook['webhookId']}")).json()
            if status["status"] != "New" or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
        assert status["status"] == "Unhealthy" and status["enabled"] is False
        async with database_of(platform) as db, db.session() as session:
            last = await session.scalar(
                select(DeliveryAttempt)
                .where(DeliveryAttempt.tenant_id == ec.id)
                .order_by(DeliveryAttempt.attempt.desc())
            )
        assert "webhook disabled" in last.error
        # enabled again, it starts afresh
        r = await ec.client.put(
            f"/webhooks/{hook['webhookId']}/enabled", params={"enabled": "true"}
        )
        assert r.status_code == 204
    finally:
        await ec.client.aclose()
        platform.stop()
        await receiver.stop()
