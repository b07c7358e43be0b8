"""At-least-once delivery meets exactly-once action: the same instruction or event delivered
again (a retry, a second subscription, a copy found by polling) is stored once and acted on
once."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import aiohttp
import pytest

from flexhub.clock import ScaledClock
from flexhub.signing import PAYLOAD_SIGNATURE_HEADER, payload_signature
from flexhub.wire.flexmarket.webhooks import CONTENT_TYPE
from support.agent import (
    WEBHOOK_SECRET,
    agent_config,
    dispatch_body,
    eventually,
    flex_market,
    metric,
    so_status,
    start_agent,
)
from support.ec_simulation import household, simulate
from support.fm import now, ok, z

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    async with aiohttp.ClientSession() as http, http.post(url, data=body, headers=headers) as r:
        return r.status


async def metrics_text(agent) -> str:
    async with aiohttp.ClientSession() as http, http.get(agent.receiver_url + "/metrics") as r:
        return await r.text()


async def test_instruction_delivered_again_is_acted_on_once(
    platform, make_partner, tmp_path, agent_db
):
    so, fsp, obligation, inventory = await flex_market(make_partner, [1000.0])
    agent, _ = await start_agent(
        agent_config(platform, fsp, tmp_path / "a", database_url=agent_db, assets=inventory)
    )
    try:
        body = dispatch_body(obligation, "0.400", start_in=900)
        iid = (await ok(await so.client.post("/so/v1/dispatches/", json=body), 201))["id"]

        async def accepted():
            return (await so_status(so, iid))["status"] == "accepted"

        await eventually(accepted)
        # the same instruction again, as the platform would sign it for another subscription
        data = await ok(await fsp.client.get(f"/dispatches/v1/{iid}/"))
        data["status"] = "pending"
        issued = int(time.time())
        claims = {
            "iss": platform.base_url,
            "iat": issued,
            "exp": issued + 300,
            "jti": str(uuid.uuid4()),
            "event": "dispatch_instruction.created",
            "data": data,
        }
        token = platform.ctx.keys.sign(claims).encode()
        url = agent.receiver_url + "/flex/webhook"
        for _ in range(2):
            assert await post(url, token, {"Content-Type": CONTENT_TYPE}) == 200
        await agent.reconciler.step()  # and polling finds it too
        await asyncio.sleep(0.5)
        text = await metrics_text(agent)
        assert metric(text, "agent_duplicates_total", source="fm") == 2
        assert metric(text, "agent_actions_total", kind="accept") == 1
        assert [m["subject"] for m in await agent.store.messages("fm")].count(iid) == 1
    finally:
        await agent.stop()


async def test_event_delivered_again_is_acted_on_once(platform, ec, tmp_path, agent_db):
    h = await household(ec)
    assets = [
        {
            "asset_id": "tank",
            "kind": "water_heater",
            "max_import_kw": 3.0,
            "location_id": h["location"],
            "resource_id": h["tank"],
        }
    ]
    config = agent_config(
        platform, ec, tmp_path / "a", database_url=agent_db, assets=assets, flex_market=False
    )
    agent, driver = await start_agent(config, clock=ScaledClock(1.0))
    try:
        event = await simulate(
            ec, "pricecurve", {"targets": [{"resourceId": h["tank"], "locationId": h["location"]}]}
        )

        async def scheduled():
            return [c for c in driver.commands if c.kind == "schedule"]

        await eventually(scheduled)
        # another notification of the same event (a second webhook), signed as the platform does
        note = {
            "notificationId": str(uuid.uuid4()),
            "eventId": event["id"],
            "eventCreatedAtUtc": event["createdAt"],
            "notificationSentUtc": z(now()),
            "notificationType": "PriceCurveCreated",
            "payload": event["payload"],
        }
        raw = json.dumps(note).encode()
        headers = {
            "Content-Type": "application/json",
            PAYLOAD_SIGNATURE_HEADER: payload_signature(WEBHOOK_SECRET, raw),
        }
        assert await post(agent.receiver_url + "/notify", raw, headers) == 200
        await agent.reconciler.step()
        await asyncio.sleep(0.5)
        assert len(await scheduled()) == 1
        assert [m["subject"] for m in await agent.store.messages("ec")] == [event["id"]]
        assert metric(await metrics_text(agent), "agent_duplicates_total", source="ec") == 1
    finally:
        await agent.stop()


async def test_events_sent_while_down_are_processed_once(platform, ec, tmp_path, agent_db):
    h = await household(ec)
    assets = [
        {
            "asset_id": "tank",
            "kind": "water_heater",
            "max_import_kw": 3.0,
            "location_id": h["location"],
            "resource_id": h["tank"],
        }
    ]
    config = agent_config(
        platform, ec, tmp_path / "a", database_url=agent_db, assets=assets, flex_market=False
    )
    agent, _ = await start_agent(config)
    await agent.stop()
    target = {"resourceId": h["tank"], "locationId": h["location"]}
    event = await simulate(ec, "pricecurve", {"targets": [target]})
    await asyncio.sleep(5.0)  # the platform gives up its (fast, in tests) retries

    agent, driver = await start_agent(config)
    try:

        async def processed():
            got = await agent.store.messages("ec")
            return got if got and got[0]["processed_at"] else None

        (message,) = await eventually(processed)
        assert message["subject"] == event["id"]
        assert message["outcome"].startswith("scheduled 1 resources")
        await agent.reconciler.step()
        await asyncio.sleep(0.5)
        assert [c.asset_id for c in driver.commands if c.kind == "schedule"] == ["tank"]
        assert metric(await metrics_text(agent), "agent_reconciled_total", source="ec") == 1
    finally:
        await agent.stop()
