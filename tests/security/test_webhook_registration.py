"""Finding 1 (issue 11) through the APIs, on a platform that refuses private targets: the
audit's spellings of 127.0.0.1 are a 400 in both APIs; a public-looking name that resolves to
loopback (this machine's own host name) registers, and is refused at delivery, with the reason
in the delivery log and nothing received."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest
from sqlalchemy import select

from flexhub.store.delivery import DeliveryAttempt
from support.platform import EC
from support.receiver import Receiver
from support.strict import database_of, partner_on, start_strict

SPELLINGS = [
    "127\u30020\u30020\u30021",
    "\uff11\uff12\uff17.0.0.1",
    "127.0.0.\uff11",
    "[64:ff9b::7f00:1]",
    "[2002:7f00:1::1]",
    "[::7f00:1]",
    "metadata.google.internal",
    "2852039166",
]


@pytest.fixture(scope="module")
def strict(tmp_path_factory):
    platform = start_strict(tmp_path_factory.mktemp("strict"))
    yield platform
    platform.stop()


@pytest.fixture
async def receiver():
    r = await Receiver().start()
    yield r
    await r.stop()


async def test_spellings_of_loopback_are_refused_by_both_apis(strict, receiver):
    port = receiver.url.rsplit(":", 1)[1].split("/")[0]
    fsp = await partner_on(strict, api="")
    ec = await partner_on(strict, api=EC)
    try:
        for host in SPELLINGS:
            url = f"http://{host}:{port}/x"
            r = await fsp.client.post(
                "/webhook/v1/subscriptions/", json={"url": url, "events": ["obligation.created"]}
            )
            assert r.status_code == 400 and "url" in r.json(), (host, r.text)
            r = await ec.client.post("/webhooks", json={"webhookUrl": url})
            assert r.status_code == 400, (host, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")
            assert "webhookUrl" in r.json()["detail"]
    finally:
        await fsp.client.aclose()
        await ec.client.aclose()
    assert receiver.requests == []


def _resolves_inside(name: str) -> bool:
    try:
        infos = socket.getaddrinfo(name, 80)
    except OSError:
        return False
    return all(info[4][0].startswith(("127.", "::1")) for info in infos)


async def test_a_name_resolving_inside_registers_but_is_refused_at_delivery(strict, receiver):
    host = socket.gethostname()
    if not _resolves_inside(host):
        pytest.skip(f"{host} does not resolve to loopback on this machine")
    url = receiver.url.replace("127.0.0.1", host)
    ec = await partner_on(strict, api=EC)
    try:
        r = await ec.client.post("/webhooks", json={"webhookUrl": url})
        assert r.status_code == 201, r.text
        r = await ec.client.post("/simulation/events/usereligibility")
        assert r.status_code == 200, r.text
        deadline = time.monotonic() + 20
        while True:
            logs = (await ec.client.get("/webhooks/logs")).json()["webhookNotificationLogs"]
            if logs or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        assert logs, "no delivery attempt was logged"
        assert logs[0]["responseStatusCode"] is None
        async with database_of(strict) as db, db.session() as session:
            attempt = await session.scalar(
                select(DeliveryAttempt).where(DeliveryAttempt.tenant_id == ec.id)
            )
        assert "not allowed" in attempt.error, attempt.error
    finally:
        await ec.client.aclose()
    assert receiver.requests == []
