"""Finding 3 (issue 11): tokens are trusted no further than the database. A disabled partner's
tokens stop working (``flexhub partner disable``), a validly signed token for a partner that
does not exist is a 401 (the simulation endpoints answered 500), the role comes from the
partner, ``typ``/``iss``/``aud`` are checked, the token key signs nothing else (webhooks have
their own), each is rotatable, and secrets can be rotated and tokens revoked."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx
import jwt
from sqlalchemy import update
from typer.testing import CliRunner

from flexhub import signing
from flexhub.cli import app as cli
from flexhub.store.partners import Partner
from support.platform import EC, fetch_token


def _cli(platform, *args: str):
    env = {
        "FLEXHUB_DATABASE_URL": platform.settings.database_url,
        "FLEXHUB_DATA_DIR": str(platform.settings.data_dir),
        "FLEXHUB_PARTNER_CACHE_SECONDS": "0.5",
    }
    return CliRunner().invoke(cli, list(args), env=env)


async def run_cli(platform, *args: str):
    result = await asyncio.to_thread(_cli, platform, *args)
    assert result.exit_code == 0, result.output
    return result


async def eventually_status(client: httpx.AsyncClient, path: str, status: int) -> httpx.Response:
    """The answer once it has the status (the partner cache expires within a second)."""
    deadline = time.monotonic() + 10
    while True:
        r = await client.get(path)
        if r.status_code == status or time.monotonic() > deadline:
            return r
        await asyncio.sleep(0.1)


def _claims(partner) -> dict:
    return jwt.decode(partner.token, options={"verify_signature": False})


def _sign(platform, claims: dict, typ: str = "at+jwt", key=None) -> str:
    key = key or platform.ctx.token_keys.current
    return signing.jws_sign(claims, key.private, key.kid, typ=typ)


async def test_a_disabled_partners_token_stops_working(platform, make_partner):
    partner = await make_partner()
    assert (await partner.client.get("/users")).status_code == 200
    await run_cli(platform, "partner", "disable", partner.client_id)
    r = await eventually_status(partner.client, "/users", 401)
    assert r.status_code == 401 and "disabled" in r.json()
    async with httpx.AsyncClient(base_url=platform.base_url) as http:
        r = await http.post(
            "/authtoken/v1/",
            json={"client_id": partner.client_id, "api_key": partner.client_secret},
        )
        assert r.status_code == 401
    # enabling again accepts the credentials, not the tokens issued before
    await run_cli(platform, "partner", "enable", partner.name)
    fresh = await fetch_token(platform.base_url, partner.client_id, partner.client_secret)
    r = await eventually_status(partner.client, "/users", 200)
    assert r.status_code == 401  # the old token stays revoked
    r = await partner.client.get("/users", headers={"Authorization": f"Bearer {fresh}"})
    assert r.status_code == 200


async def test_a_signed_token_for_an_unknown_partner_is_a_401(platform, make_partner):
    partner = await make_partner()
    claims = {**_claims(partner), "sub": str(uuid.uuid4()), "jti": str(uuid.uuid4())}
    token = _sign(platform, claims)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=platform.base_url) as http:
        for path, body in (
            (EC + "/simulation/events/usereligibility", None),
            (EC + "/simulation/partner", None),
            (EC + "/simulation/events/pricecurve", {}),
            ("/webhook/v1/subscriptions/", None),
        ):
            r = await http.post(path, json=body, headers=headers)
            assert r.status_code == 401, (path, r.status_code, r.text)
            assert "does not exist" in r.text


async def test_the_role_comes_from_the_partner_not_the_token(platform, make_partner, test_db):
    partner = await make_partner(api="")
    forged = _sign(platform, {**_claims(partner), "role": "admin", "jti": str(uuid.uuid4())})
    r = await partner.client.post(
        "/so/v1/competitions/", json={}, headers={"Authorization": f"Bearer {forged}"}
    )
    assert r.status_code == 403  # still a provider, whatever the token says
    async with test_db.session() as session:
        await session.execute(
            update(Partner).where(Partner.id == partner.id).values(role="system_operator")
        )
        await session.commit()
    r = await eventually_status(partner.client, "/webhook/v1/subscriptions/", 403)
    assert r.status_code == 403  # the same token, now a system operator's


async def test_typ_iss_aud_and_the_webhook_key_are_refused(platform, make_partner):
    partner = await make_partner()
    good = {**_claims(partner), "jti": str(uuid.uuid4())}
    now = int(time.time())
    candidates = {
        "typ JWT": _sign(platform, good, typ="JWT"),
        "other issuer": _sign(platform, {**good, "iss": "https://evil.example"}),
        "other audience": _sign(platform, {**good, "aud": "someone-else"}),
        "no version": _sign(platform, {k: v for k, v in good.items() if k != "ver"}),
        "not yet valid": _sign(platform, {**good, "nbf": now + 600}),
        "webhook key": _sign(platform, good, key=platform.ctx.keys.current),
    }
    assert (await partner.client.get("/users")).status_code == 200
    for name, token in candidates.items():
        r = await partner.client.get("/users", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401, name
    # the token key is not published with the webhook keys
    async with httpx.AsyncClient(base_url=platform.base_url) as http:
        kids = {k["kid"] for k in (await http.get("/webhook/v1/jwks/")).json()["keys"]}
    assert platform.ctx.token_keys.current.kid not in kids
    assert jwt.get_unverified_header(partner.token)["kid"] not in kids


async def test_revoke_tokens_and_rotate_secret(platform, make_partner):
    partner = await make_partner()
    await run_cli(platform, "partner", "revoke-tokens", partner.id)
    r = await eventually_status(partner.client, "/users", 401)
    assert r.status_code == 401 and "revoked" in r.json()
    result = await run_cli(platform, "partner", "rotate-secret", partner.client_id)
    secret = result.output.split("client secret:")[1].split()[0]
    async with httpx.AsyncClient(base_url=platform.base_url) as http:
        form = {"grant_type": "client_credentials", "client_id": partner.client_id}
        r = await http.post("/connect/token", data={**form, "client_secret": partner.client_secret})
        assert r.status_code == 401
        r = await http.post("/connect/token", data={**form, "client_secret": secret})
        assert r.status_code == 200
    token = r.json()["access_token"]
    r = await partner.client.get("/users", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200


async def test_token_keys_rotate_apart_from_webhook_keys(platform, make_partner):
    partner = await make_partner()
    webhook_kid = platform.ctx.keys.current.kid
    before = platform.ctx.token_keys.current.kid
    result = await asyncio.to_thread(_cli, platform, "keys", "rotate", "--for", "tokens")
    assert result.exit_code == 0, result.output
    async with httpx.AsyncClient(base_url=platform.base_url) as http:
        assert (await http.get("/webhook/v1/public-key/")).json()["kid"] == webhook_kid
    token = await fetch_token(platform.base_url, partner.client_id, partner.client_secret)
    assert jwt.get_unverified_header(token)["kid"] not in (before, webhook_kid)
    # tokens signed with the retired key stay valid for as long as they live
    assert (await partner.client.get("/users")).status_code == 200
    r = await partner.client.get("/users", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
