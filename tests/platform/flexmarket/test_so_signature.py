"""The SO's Ed25519 signature travels untouched, and the signed fields reach the provider as
the very strings the SO sent, so the provider can verify what it received."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from sqlalchemy import select

from flexhub import signing
from flexhub.store.flexmarket_webhooks import FmEvent
from support.fm import MON, london_market, market, ok


async def test_provider_verifies_the_so_signature(make_partner, test_db):
    m = await london_market(make_partner)
    key = ed25519.Ed25519PrivateKey.generate()
    body = m.dispatch_body(
        start=f"{MON}T15:00:00.000+00:00",  # unusual but valid spellings stay as sent
        end=f"{MON}T16:30:00Z",
        capacity="1.50",
    )
    body["signature"] = signing.so_sign(body, key)
    body["signature_algorithm"] = "Ed25519"
    sent = await ok(await m.so.client.post("/so/v1/dispatches/", json=body), 201)
    got = await ok(await m.fsp.client.get(f"/dispatches/v1/{sent['id']}/"))
    for field in signing.SO_SIGNED_FIELDS:
        assert got[field] == body[field], field
    assert got["signature"] == body["signature"] and got["signature_algorithm"] == "Ed25519"
    signing.so_verify(got, got["signature"], got["signature_algorithm"], [key.public_key()])
    listed = (await ok(await m.fsp.client.get("/dispatches/v1/")))["results"][0]
    signing.so_verify(listed, listed["signature"], "Ed25519", [key.public_key()])
    async with test_db.session() as session:
        event = await session.scalar(
            select(FmEvent).where(
                FmEvent.tenant_id == m.fsp.id, FmEvent.event_type == "dispatch_instruction.created"
            )
        )
    signing.so_verify(event.data, event.data["signature"], "Ed25519", [key.public_key()])
    # any change to a signed field, another key or another algorithm fails
    for field, value in (
        ("capacity", "1.5"),
        ("start", f"{MON}T15:00:00Z"),
        ("need_direction", "excess"),
        ("so_reference", "other"),
        ("instruction_type", "stop"),
    ):
        with pytest.raises(signing.SignatureError):
            signing.so_verify(
                {**got, field: value}, got["signature"], "Ed25519", [key.public_key()]
            )
    other = ed25519.Ed25519PrivateKey.generate().public_key()
    with pytest.raises(signing.SignatureError):
        signing.so_verify(got, got["signature"], "Ed25519", [other])
    with pytest.raises(signing.SignatureError):
        signing.so_verify(got, got["signature"], "RS256", [key.public_key()])


async def test_a_signed_stop_verifies_too(make_partner):
    m = await market(make_partner)
    key = ed25519.Ed25519PrivateKey.generate()
    d = await ok(await m.dispatch(), 201)
    stop = {
        "so_reference": "stop-" + d["so_reference"],
        "obligation_id": d["obligation_id"],
        "start": d["start"],
        "end": d["end"],
        "capacity": d["capacity"],
        "need_direction": d["need_direction"],
        "instruction_type": "stop",
    }
    body = {
        "so_reference": stop["so_reference"],
        "start": stop["start"],
        "signature": signing.so_sign(stop, key),
        "signature_algorithm": "Ed25519",
    }
    r = await m.so.client.post(f"/so/v1/dispatches/{d['id']}/stop/", json=body)
    created = await ok(r, 201)
    got = await ok(await m.fsp.client.get(f"/dispatches/v1/{created['id']}/"))
    signing.so_verify(got, got["signature"], "Ed25519", [key.public_key()])
    assert d["signature"] is None  # unsigned instructions carry no signature
