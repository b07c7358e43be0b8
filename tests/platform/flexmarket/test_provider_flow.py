"""The dispatch flow end to end, as a flex provider integrates it (Piclo's dispatch tutorial):
token → obligations → competition → assets → webhook subscription → a signed dispatch
instruction arrives → verified with nothing but the published PEM → accepted → stopped.

The provider side uses only HTTP, PyJWT and cryptography, never flexhub's own verifier, so that
the test shows what any receiver needs. The system operator signs its instructions with a real
Ed25519 key of its own.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from datetime import timedelta

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ed25519

from support.clients import until
from support.fm import asset_body, competition_body, now, obligation_body, ok, today, z

SIGNED = (
    "so_reference",
    "obligation_id",
    "start",
    "end",
    "capacity",
    "need_direction",
    "instruction_type",
)


def canonical(instruction: dict) -> bytes:
    """The SO-signed document: the signed fields, keys sorted, no spaces, UTF-8."""
    fields = {name: instruction[name] for name in SIGNED}
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


async def provider_session(base_url: str, client_id: str, api_key: str) -> httpx.AsyncClient:
    """What a provider's integration does first: ``POST /authtoken/v1/`` for a bearer token."""
    async with httpx.AsyncClient(base_url=base_url) as anonymous:
        r = await anonymous.post(
            "/authtoken/v1/", json={"client_id": client_id, "api_key": api_key}
        )
    token = (await ok(r))["token"]
    return httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {token}"})


class Operator:
    """A system operator with its own Ed25519 signing key."""

    def __init__(self, partner) -> None:
        self.partner = partner
        self.key = ed25519.Ed25519PrivateKey.generate()

    def signed(self, body: dict) -> dict:
        signature = b64url(self.key.sign(canonical(body)))
        return {**body, "signature": signature, "signature_algorithm": "Ed25519"}


async def seed(make_partner):
    """Through the APIs: the provider's two assets, the SO's competition and an obligation."""
    so = Operator(await make_partner(role="system_operator", api=""))
    fsp = await make_partner(role="provider", api="")
    assets = [
        await ok(await fsp.client.post("/assets/v1/", json=asset_body(name=name)), 201)
        for name in ("Battery north", "Battery south")
    ]
    comp = await ok(
        await so.partner.client.post("/so/v1/competitions/", json=competition_body()), 201
    )
    body = obligation_body(comp, fsp.id, [a["id"] for a in assets])
    obligation = await ok(await so.partner.client.post("/so/v1/obligations/", json=body), 201)
    return so, fsp, comp, obligation, assets


def dispatch_body(obligation: dict) -> dict:
    start = now().replace(microsecond=0) + timedelta(hours=1)
    return {
        "so_reference": f"Trøndelag-{uuid.uuid4().hex[:10]}",
        "obligation_id": obligation["id"],
        "start": z(start),
        "end": z(start + timedelta(minutes=90)),
        "capacity": "1.250",
        "need_direction": obligation["need_direction"],
        "instruction_type": "dispatch",
    }


def check_claims(claims: dict, issuer: str, event: str) -> None:
    assert set(claims) == {"iss", "iat", "exp", "jti", "event", "data"}
    assert claims["iss"] == issuer and claims["event"] == event
    assert claims["exp"] == claims["iat"] + 300 and abs(claims["iat"] - time.time()) < 60
    uuid.UUID(claims["jti"])


async def test_provider_dispatch_flow(platform, make_partner, receiver):
    so, fsp, comp, awarded, assets = await seed(make_partner)
    api = await provider_session(platform.base_url, fsp.client_id, fsp.client_secret)

    # 1. the provider finds its obligation by dates, competition and bid
    filters = {
        "start_since": str(today() - timedelta(days=3)),
        "start_to": str(today()),
        "end_since": str(today() + timedelta(days=1)),
        "end_to": str(today() + timedelta(days=60)),
        "competition_id": comp["id"],
        "bid_id": awarded["bid_id"],
    }
    listed = await ok(await api.get("/obligations/v1/", params=filters))
    assert listed["count"] == 1 and listed["next"] is None
    (obligation,) = listed["results"]
    assert obligation["id"] == awarded["id"] and obligation["competition_id"] == comp["id"]
    for miss in ({"bid_id": "someone-elses-bid"}, {"start_since": str(today() + timedelta(1))}):
        assert (await ok(await api.get("/obligations/v1/", params={**filters, **miss})))[
            "count"
        ] == 0

    # 2. its competition, 3. its assets, one by one and as obligated
    competition = await ok(await api.get(f"/competitions/v1/{obligation['competition_id']}/"))
    assert competition["id"] == comp["id"] and competition["service_periods"]
    asset_ids = obligation["assets"]["flex"]
    assert sorted(asset_ids) == sorted(a["id"] for a in assets)
    for asset_id in asset_ids:
        asset = await ok(await api.get(f"/assets/v1/{asset_id}/"))
        assert asset["id"] == asset_id and asset["provider"] == fsp.id
    obligated = await ok(await api.get(f"/assets/v1/obligations/{obligation['id']}/"))
    assert obligated["count"] == 2
    assert sorted(a["id"] for a in obligated["results"]) == sorted(asset_ids)

    # 4. the key to verify webhooks with, and a subscription to a real receiver
    public = await ok(await api.get("/webhook/v1/public-key/"))
    assert public["algorithm"] == "EdDSA"
    events = ["dispatch_instruction.created", "dispatch_instruction.stopped"]
    sub = await ok(
        await api.post("/webhook/v1/subscriptions/", json={"url": receiver.url, "events": events}),
        201,
    )

    # 5. the SO issues a signed dispatch instruction
    body = so.signed(dispatch_body(obligation))
    issued = await ok(await so.partner.client.post("/so/v1/dispatches/", json=body), 201)

    # 6. it arrives as a JWS; verified with nothing but the PEM
    (delivery,) = await receiver.wait_for(1)
    assert delivery.headers["Content-Type"] == "application/jwt"
    claims = jwt.decode(delivery.body, public["public_key"], algorithms=["EdDSA"])
    check_claims(claims, platform.base_url, "dispatch_instruction.created")
    data = claims["data"]
    assert data["id"] == issued["id"] and data["status"] == "pending"
    assert data == await ok(await api.get(f"/dispatches/v1/{issued['id']}/"))
    assert sorted(data["asset_ids"]) == sorted(asset_ids)
    for name in SIGNED:
        assert data[name] == body[name]  # exactly as the SO sent them
    # ... and the SO's own signature over it, with cryptography directly
    assert data["signature_algorithm"] == "Ed25519"
    so.key.public_key().verify(b64url_decode(data["signature"]), canonical(data))

    # 7. the provider accepts; 8. the SO stops the instruction
    accepted = await ok(await api.post(f"/dispatches/v1/{data['id']}/accept/", json={}))
    assert accepted["status"] == "accepted" and accepted["responded_at"]
    stop = await ok(await so.partner.client.post(f"/so/v1/dispatches/{data['id']}/stop/"), 201)

    (_, stopped_delivery) = await receiver.wait_for(2)
    stopped = jwt.decode(stopped_delivery.body, public["public_key"], algorithms=["EdDSA"])
    check_claims(stopped, platform.base_url, "dispatch_instruction.stopped")
    assert stopped["jti"] != claims["jti"]
    assert stopped["data"]["id"] == stop["id"] and stopped["data"]["stops"] == data["id"]
    assert stopped["data"]["instruction_type"] == "stop"
    assert (await ok(await api.get(f"/dispatches/v1/{data['id']}/")))["stopped_by"] == stop["id"]

    # the delivery log shows both, newest first (an attempt is logged just after the receiver
    # answered it)
    async def both() -> dict | None:
        params = {"subscription_id": sub["id"]}
        log = await ok(await api.get("/webhook/v1/deliveries/", params=params))
        return log if log["count"] >= 2 else None

    log = await until(both) or {"results": []}
    assert [e["event"] for e in log["results"]] == list(reversed(events))
    assert [e["event_id"] for e in log["results"]] == [stopped["jti"], claims["jti"]]
    assert all(e["succeeded"] and e["status_code"] == 200 for e in log["results"])
    await api.aclose()


async def test_a_failed_delivery_is_retried_with_the_same_jti(platform, make_partner, receiver):
    so, fsp, _, obligation, _ = await seed(make_partner)
    receiver.statuses = [500]
    api = await provider_session(platform.base_url, fsp.client_id, fsp.client_secret)
    public = await ok(await api.get("/webhook/v1/public-key/"))
    body = {"url": receiver.url, "events": ["dispatch_instruction.created"]}
    sub = await ok(await api.post("/webhook/v1/subscriptions/", json=body), 201)
    issued = await ok(
        await so.partner.client.post("/so/v1/dispatches/", json=dispatch_body(obligation)), 201
    )

    first, second = await receiver.wait_for(2)
    claims = [
        jwt.decode(r.body, public["public_key"], algorithms=["EdDSA"]) for r in (first, second)
    ]
    assert claims[0]["jti"] == claims[1]["jti"]
    assert claims[0]["data"]["id"] == claims[1]["data"]["id"] == issued["id"]
    assert claims[0]["data"]["signature"] is None  # unsigned by this SO: relayed as such

    async def log() -> dict:
        params = {"subscription_id": sub["id"]}
        return await ok(await api.get("/webhook/v1/deliveries/", params=params))

    deadline = time.monotonic() + 10
    while (entries := await log())["count"] < 2 and time.monotonic() < deadline:
        await asyncio.sleep(0.1)  # the attempt is logged just after the receiver answers
    assert [(e["attempt"], e["status_code"], e["succeeded"]) for e in entries["results"]] == [
        (2, 200, True),
        (1, 500, False),
    ]
    assert entries["results"][0]["event_id"] == claims[0]["jti"]
    await api.aclose()


async def test_obligation_award_is_pushed(platform, make_partner, receiver):
    so = await make_partner(role="system_operator", api="")
    fsp = await make_partner(role="provider", api="")
    api = await provider_session(platform.base_url, fsp.client_id, fsp.client_secret)
    body = {"url": receiver.url, "events": ["obligation.created"]}
    await ok(await api.post("/webhook/v1/subscriptions/", json=body), 201)
    asset = await ok(await api.post("/assets/v1/", json=asset_body()), 201)
    comp = await ok(await so.client.post("/so/v1/competitions/", json=competition_body()), 201)
    awarded = await ok(
        await so.client.post(
            "/so/v1/obligations/", json=obligation_body(comp, fsp.id, [asset["id"]])
        ),
        201,
    )
    (got,) = await receiver.wait_for(1)
    pem = (await ok(await api.get("/webhook/v1/public-key/")))["public_key"]
    claims = jwt.decode(got.body, pem, algorithms=["EdDSA"])
    check_claims(claims, platform.base_url, "obligation.created")
    assert claims["data"]["id"] == awarded["id"]
    assert claims["data"] == await ok(await api.get(f"/obligations/v1/{awarded['id']}/"))
    await api.aclose()
