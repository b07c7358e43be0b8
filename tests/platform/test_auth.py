"""The token endpoint and bearer verification: real keys, real HTTP."""

from __future__ import annotations

import base64
import json
import time

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ed25519

from flexhub import signing


async def test_client_credentials_token_works(platform, make_partner):
    partner = await make_partner()
    r = await partner.client.get("/users")
    assert r.status_code == 200
    async with httpx.AsyncClient(base_url=platform.base_url) as http:
        r = await http.post(
            "/connect/token",
            data={
                "grant_type": "client_credentials",
                "client_id": partner.client_id,
                "client_secret": partner.client_secret,
            },
        )
    body = r.json()
    assert r.status_code == 200
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["sub"] == partner.id and claims["exp"] - claims["iat"] == 3600


async def test_wrong_secret_and_grant_are_refused(platform, make_partner):
    partner = await make_partner()
    async with httpx.AsyncClient(base_url=platform.base_url) as http:
        r = await http.post(
            "/connect/token",
            data={
                "grant_type": "client_credentials",
                "client_id": partner.client_id,
                "client_secret": partner.client_secret + "x",
            },
        )
        assert r.status_code == 401 and r.json()["error"] == "invalid_client"
        r = await http.post("/connect/token", data={"grant_type": "password"})
        assert r.status_code == 400 and r.json()["error"] == "unsupported_grant_type"
        r = await http.post("/connect/token", json={"grant_type": "client_credentials"})
        assert r.status_code == 400


def _forge(header: dict, claims: dict, signature: bytes = b"") -> str:
    enc = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()  # noqa: E731
    return ".".join(
        [enc(json.dumps(header).encode()), enc(json.dumps(claims).encode()), enc(signature)]
    )


async def test_bad_tokens_get_401(platform, make_partner):
    partner = await make_partner()
    good = jwt.decode(partner.token, options={"verify_signature": False})
    kid = jwt.get_unverified_header(partner.token)["kid"]
    now = int(time.time())
    other_key = ed25519.Ed25519PrivateKey.generate()
    token_key = platform.ctx.token_keys.current
    public_pem = token_key.public_pem
    expired = dict(good, iat=now - 7200, exp=now - 3600)
    candidates = {
        "none": _forge({"alg": "none", "kid": kid}, good),
        "forged": signing.jws_sign(good, other_key, kid),
        "hs256-with-public-key": _forge({"alg": "HS256", "kid": kid}, good, b"x" * 32),
        "expired": signing.jws_sign(expired, token_key.private, kid, typ="at+jwt"),
        "unknown-kid": signing.jws_sign(good, token_key.private, "nope", typ="at+jwt"),
        "garbage": "not-a-token",
    }
    # an HS256 token really signed with the public PEM as the HMAC secret
    import hashlib
    import hmac as hmac_mod

    head = _forge({"alg": "HS256", "kid": kid, "typ": "JWT"}, good).rsplit(".", 1)[0]
    mac = hmac_mod.new(public_pem.encode(), head.encode(), hashlib.sha256).digest()
    candidates["hs256-real"] = head + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
    for name, token in candidates.items():
        r = await partner.client.get("/users", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401, name
    r = await partner.client.get("/users", headers={"Authorization": ""})
    assert r.status_code == 401


async def test_client_credentials_in_http_basic(platform, make_partner):
    partner = await make_partner()
    async with httpx.AsyncClient(base_url=platform.base_url) as http:
        r = await http.post(
            "/connect/token",
            data={"grant_type": "client_credentials"},
            auth=(partner.client_id, partner.client_secret),
        )
        assert r.status_code == 200, r.text
        assert r.json()["token_type"] == "Bearer"
        r = await http.post(
            "/connect/token",
            data={"grant_type": "client_credentials"},
            auth=(partner.client_id, "wrong"),
        )
        assert r.status_code == 401 and r.json()["error"] == "invalid_client"
        r = await http.post(
            "/connect/token",
            data={"grant_type": "client_credentials"},
            headers={"Authorization": "Basic !!!"},
        )
        assert r.status_code == 400 and r.json()["error"] == "invalid_request"


async def test_token_form_media_type_ignores_case(platform, make_partner):
    partner = await make_partner()
    form = f"grant_type=client_credentials&client_id={partner.client_id}&client_secret="
    async with httpx.AsyncClient(base_url=platform.base_url) as http:
        for ctype in ("Application/X-WWW-Form-Urlencoded", "application/x-www-form-urlencoded"):
            headers = {"content-type": f"{ctype}; charset=UTF-8"}
            r = await http.post(
                "/connect/token", content=form + partner.client_secret, headers=headers
            )
            assert r.status_code == 200, (ctype, r.text)
            # NUL is refused whatever the spelling of the media type (PostgreSQL cannot take it)
            r = await http.post("/connect/token", content=form + "a%00b", headers=headers)
            assert r.status_code == 400 and "client_secret" in r.json()["error_description"]
