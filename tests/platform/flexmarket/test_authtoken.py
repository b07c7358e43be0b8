"""``POST /authtoken/v1/`` and the bearer token on Flex Market endpoints: 400/401/403 in the
DRF style."""

from __future__ import annotations

import httpx
import jwt


async def test_api_key_gives_a_working_token(platform, make_partner):
    fsp = await make_partner(role="provider", api="")
    async with httpx.AsyncClient(base_url=platform.base_url) as http:
        r = await http.post(
            "/authtoken/v1/", json={"client_id": fsp.client_id, "api_key": fsp.client_secret}
        )
        assert r.status_code == 200, r.text
        assert list(r.json()) == ["token"]
        token = r.json()["token"]
        claims = jwt.decode(token, options={"verify_signature": False})
        assert claims["sub"] == fsp.id and claims["role"] == "provider"
        assert claims["exp"] > claims["iat"]
        r = await http.get("/obligations/v1/", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200
        assert r.json() == {"count": 0, "next": None, "previous": None, "results": []}


async def test_bad_credentials_are_401_with_detail(platform, make_partner):
    fsp = await make_partner(role="provider", api="")
    async with httpx.AsyncClient(base_url=platform.base_url) as http:
        for body in (
            {"client_id": fsp.client_id, "api_key": fsp.client_secret + "x"},
            {"client_id": "no-such-client", "api_key": fsp.client_secret},
        ):
            r = await http.post("/authtoken/v1/", json=body)
            assert r.status_code == 401
            assert list(r.json()) == ["detail"]


async def test_malformed_requests_are_400_naming_the_field(platform):
    async with httpx.AsyncClient(base_url=platform.base_url) as http:
        r = await http.post("/authtoken/v1/", json={"client_id": "abc"})
        assert r.status_code == 400 and list(r.json()) == ["api_key"]
        r = await http.post("/authtoken/v1/", json={"client_id": "", "api_key": "x"})
        assert r.status_code == 400 and list(r.json()) == ["client_id"]
        r = await http.post("/authtoken/v1/", json={"client_id": 1, "api_key": "x"})
        assert r.status_code == 400 and "client_id" in r.json()
        r = await http.post("/authtoken/v1/", json={"client_id": "a", "api_key": "b", "x": 1})
        assert r.status_code == 400 and r.json() == {"x": ["is not a known field"]}
        r = await http.post(
            "/authtoken/v1/", content=b"{nope", headers={"Content-Type": "application/json"}
        )
        assert r.status_code == 400 and "body" in r.json()


async def test_missing_or_bad_tokens_are_401_and_wrong_roles_403(platform, make_partner):
    so = await make_partner(role="system_operator", api="")
    fsp = await make_partner(role="provider", api="")
    async with httpx.AsyncClient(base_url=platform.base_url) as http:
        r = await http.get("/dispatches/v1/")
        assert r.status_code == 401 and list(r.json()) == ["detail"]
        r = await http.get("/dispatches/v1/", headers={"Authorization": "Bearer not-a-token"})
        assert r.status_code == 401 and list(r.json()) == ["detail"]
    for path in ("/obligations/v1/", "/assets/v1/", "/dispatches/v1/"):
        r = await so.client.get(path)
        assert r.status_code == 403 and list(r.json()) == ["detail"], path
    for path in ("/so/v1/competitions/", "/so/v1/dispatches/", "/so/v1/availability-variations/"):
        r = await fsp.client.get(path)
        assert r.status_code == 403 and list(r.json()) == ["detail"], path
    r = await fsp.client.post("/so/v1/dispatches/", json={})
    assert r.status_code == 403
