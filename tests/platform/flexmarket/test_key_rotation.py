"""Rotating the platform's signing key with ``flexhub keys rotate`` in another process while the
platform runs: the keys it publishes and the key its deliveries carry follow at once, and what
was signed before the rotation still verifies against the published JWKS."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
import jwt
import pytest

from flexhub.platform.flexmarket.events import create_event as publish

CREATED = "dispatch_instruction.created"


def rotate_in_another_process(data_dir) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "flexhub.cli", "keys", "rotate"],
        env=dict(os.environ, FLEXHUB_DATA_DIR=str(data_dir)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


def verify_with_jwks(token: bytes, jwks: dict) -> dict:
    keyset = jwt.PyJWKSet.from_dict(jwks)
    kid = jwt.get_unverified_header(token)["kid"]
    (key,) = [k for k in keyset.keys if k.key_id == kid]
    return jwt.decode(token, key.key, algorithms=[key.algorithm_name])


async def test_rotation_by_another_process(platform, test_db, make_partner, receiver):
    p = await make_partner(role="provider", api="")
    r = await p.client.post(
        "/webhook/v1/subscriptions/", json={"url": receiver.url, "events": [CREATED]}
    )
    assert r.status_code == 201

    async def deliver(ident: str) -> bytes:
        count = len(receiver.requests)
        async with test_db.session() as session:
            await publish(session, p.id, CREATED, {"id": ident})
            await session.commit()
        return (await receiver.wait_for(count + 1))[count].body

    anonymous = httpx.AsyncClient(base_url=platform.base_url)  # key routes need no token
    old_kid = (await anonymous.get("/webhook/v1/public-key/")).json()["kid"]
    before = await deliver("before")
    assert jwt.get_unverified_header(before)["kid"] == old_kid

    # Each step below is the first thing the platform does after a rotation, so each of them
    # must notice it by itself: the delivery, the JWKS and the public-key routes.
    rotate_in_another_process(platform.settings.data_dir)
    after = await deliver("after")
    new_kid = jwt.get_unverified_header(after)["kid"]
    assert new_kid != old_kid

    rotate_in_another_process(platform.settings.data_dir)
    jwks = (await anonymous.get("/webhook/v1/jwks/")).json()
    kids = [k["kid"] for k in jwks["keys"]]
    assert kids[1:] == [new_kid, old_kid] and kids[0] not in (new_kid, old_kid)

    rotate_in_another_process(platform.settings.data_dir)
    public = (await anonymous.get("/webhook/v1/public-key/")).json()
    assert public["kid"] not in kids
    jwks = (await anonymous.get("/webhook/v1/jwks/")).json()
    assert [k["kid"] for k in jwks["keys"]] == [public["kid"], *kids]
    await anonymous.aclose()

    latest = await deliver("latest")
    assert jwt.get_unverified_header(latest)["kid"] == public["kid"]
    assert jwt.decode(latest, public["public_key"], algorithms=["EdDSA"])["data"] == {
        "id": "latest"
    }
    # signed before the rotations, still good against what is published now
    assert verify_with_jwks(before, jwks)["data"] == {"id": "before"}
    assert verify_with_jwks(after, jwks)["data"] == {"id": "after"}
    # ... but not against the current key alone: the kid matters
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(before, public["public_key"], algorithms=["EdDSA"])

    # tokens have keys of their own (issue 11): rotating the webhook keys leaves them alone
    assert (await p.client.get("/webhook/v1/subscriptions/")).status_code == 200
    fresh = await make_partner(role="provider", api="")
    kid = jwt.get_unverified_header(fresh.token)["kid"]
    assert kid == jwt.get_unverified_header(p.token)["kid"]
    assert kid not in [public["kid"], *kids]
