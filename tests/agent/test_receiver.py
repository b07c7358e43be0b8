"""The agent's receiver over real HTTP on loopback, against the running platform: every
forged, tampered, unsigned, expired or wrongly signed delivery is refused and leaves nothing in
the inbox and no action; a duplicate delivery is stored and acted on once."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from datetime import timedelta

import aiohttp
import pytest

from flexhub.signing import (
    PAYLOAD_SIGNATURE_HEADER,
    generate_private_key,
    jws_sign,
    payload_signature,
)
from support.agent import WEBHOOK_SECRET, agent_config, metric, start_agent
from support.fm import now, z

pytestmark = pytest.mark.asyncio(loop_scope="session")


def notification(event_id: str | None = None) -> bytes:
    start = (now() + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    body = {
        "notificationId": str(uuid.uuid4()),
        "eventId": event_id or str(uuid.uuid4()),
        "eventCreatedAtUtc": z(now()),
        "notificationSentUtc": z(now()),
        "notificationType": "PriceCurveCreated",
        "payload": {
            "payloadType": "PriceCurve",
            "targets": [{"resourceId": "not-ours", "locationId": "nowhere"}],
            "priceCurveDelta": {
                "points": [{"price": -0.5, "timestamp": z(start)}],
                "resolution": "01:00:00",
                "currency": "NOK",
                "energyUnit": "kWh",
            },
            "priceArea": "NO1",
        },
    }
    return json.dumps(body).encode()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned_token(header: dict, claims: dict, signature: bytes = b"") -> str:
    head = b64url(json.dumps(header).encode())
    body = b64url(json.dumps(claims).encode())
    return f"{head}.{body}.{b64url(signature)}"


@pytest.fixture
async def agent(platform, make_partner, tmp_path, agent_db):
    partner = await make_partner(api="")
    config = agent_config(platform, partner, tmp_path / "agent", database_url=agent_db)
    agent, _ = await start_agent(config)
    yield agent
    await agent.stop()


async def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    async with aiohttp.ClientSession() as http, http.post(url, data=body, headers=headers) as r:
        return r.status


async def metrics(agent) -> str:
    async with aiohttp.ClientSession() as http, http.get(agent.receiver_url + "/metrics") as r:
        assert r.status == 200
        return await r.text()


async def test_energy_coordination_signatures(agent):
    url = agent.receiver_url + "/notify"
    body = notification()
    good = payload_signature(WEBHOOK_SECRET, body)
    json_type = {"Content-Type": "application/json"}

    assert await post(url, body, json_type) == 400  # no header
    wrong = payload_signature("another secret", body)
    assert await post(url, body, {**json_type, PAYLOAD_SIGNATURE_HEADER: wrong}) == 400
    tampered = body.replace(b"-0.5", b"-9.5")
    assert await post(url, tampered, {**json_type, PAYLOAD_SIGNATURE_HEADER: good}) == 400
    assert await post(url, body, {**json_type, PAYLOAD_SIGNATURE_HEADER: "not base64!"}) == 400
    assert await agent.store.messages() == []
    text = await metrics(agent)
    assert metric(text, "agent_rejected_total", source="ec", reason="missing_signature") == 1
    assert metric(text, "agent_rejected_total", source="ec", reason="bad_signature") == 3

    # the genuine one is stored once, however often it comes
    for _ in range(3):
        assert await post(url, body, {**json_type, PAYLOAD_SIGNATURE_HEADER: good}) == 200
    stored = await agent.store.messages("ec")
    assert len(stored) == 1 and stored[0]["subject"] == json.loads(body)["eventId"]
    text = await metrics(agent)
    assert metric(text, "agent_received_total", source="ec") == 1
    assert metric(text, "agent_duplicates_total", source="ec") == 2


async def test_flex_market_tokens(agent, platform):
    url = agent.receiver_url + "/flex/webhook"
    jwt_type = {"Content-Type": "application/jwt"}
    keys = platform.ctx.keys
    kid = keys.current.kid
    issued = int(time.time())
    claims = {
        "iss": platform.base_url,
        "iat": issued,
        "exp": issued + 300,
        "jti": str(uuid.uuid4()),
        "event": "obligation.updated",
        "data": {"id": "ob-1", "modified": z(now())},
    }
    # a key that is not the platform's, under the platform's kid
    forged = jws_sign(claims, generate_private_key(), kid)
    assert await post(url, forged.encode(), jwt_type) == 400
    # alg none
    none = unsigned_token({"alg": "none", "typ": "JWT", "kid": kid}, claims)
    assert await post(url, none.encode(), jwt_type) == 400
    # HS256 with the public key as the secret
    header = {"alg": "HS256", "typ": "JWT", "kid": kid}
    signing_input = unsigned_token(header, claims).rsplit(".", 1)[0].encode()
    mac = hmac.new(keys.current.public_pem.encode(), signing_input, hashlib.sha256).digest()
    assert await post(url, f"{signing_input.decode()}.{b64url(mac)}".encode(), jwt_type) == 400
    # the platform's own key, but expired / not yet valid / another issuer
    expired = keys.sign({**claims, "iat": issued - 900, "exp": issued - 600})
    assert await post(url, expired.encode(), jwt_type) == 400
    early = keys.sign({**claims, "nbf": issued + 600})
    assert await post(url, early.encode(), jwt_type) == 400
    other = keys.sign({**claims, "iss": "https://elsewhere.example"})
    assert await post(url, other.encode(), jwt_type) == 400
    # a genuine token whose payload was changed after signing
    good = keys.sign(claims)
    head, body, sig = good.split(".")
    changed = b64url(json.dumps({**claims, "event": "obligation.created"}).encode())
    assert await post(url, f"{head}.{changed}.{sig}".encode(), jwt_type) == 400
    assert await agent.store.messages() == []
    text = await metrics(agent)
    assert metric(text, "agent_rejected_total", source="fm", reason="bad_token") == 6
    assert metric(text, "agent_rejected_total", source="fm", reason="expired") == 1
    # and the genuine one is taken, once
    assert await post(url, good.encode(), jwt_type) == 200
    assert await post(url, good.encode(), jwt_type) == 200
    assert len(await agent.store.messages("fm")) == 1


async def test_health(agent):
    async with aiohttp.ClientSession() as http, http.get(agent.receiver_url + "/healthz") as r:
        assert r.status == 200 and (await r.json())["status"] == "ok"
