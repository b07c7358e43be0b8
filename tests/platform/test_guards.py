"""NUL characters (which PostgreSQL cannot store or compare) are a 400 naming the parameter, on
every backend and in each API's own error style, wherever they come in."""

from __future__ import annotations

import httpx


async def test_nul_in_flex_market_requests_is_a_drf_400(platform, make_partner):
    fsp = await make_partner(role="provider", api="")
    so = await make_partner(role="system_operator", api="")
    cases = [
        (fsp.client.get("/webhook/v1/subscriptions/a%00b/"), "subscription_id"),
        (fsp.client.get("/webhook/v1/deliveries/", params={"subscription_id": "\x00"}), None),
        (fsp.client.get("/obligations/v1/", params={"bid_id": "x\x00y"}), "bid_id"),
        (
            fsp.client.post(
                "/webhook/v1/subscriptions/",
                json={"url": "https://e.example/\x00", "events": ["obligation.created"]},
            ),
            "url",
        ),
        (
            so.client.post(
                "/so/v1/obligations/",
                json={"competition_id": "c\x00", "assets": {"flex": ["ok", "a\x00"]}},
            ),
            "competition_id",
        ),
        (fsp.client.patch("/assets/v1/x/", json={"name": "\x00"}), "name"),
    ]
    for request, field in cases:
        r = await request
        assert r.status_code == 400, (field, r.status_code, r.text)
        body = r.json()
        if field is None:
            field = "subscription_id"
        assert body == {field: [f"{field} must not contain NUL characters"]}, body
    r = await so.client.post(
        "/so/v1/competitions/", json={"ref": "x", "service_periods": [{"name": "\x00"}]}
    )
    assert r.status_code == 400 and "service_periods[0].name" in r.json()


async def test_a_literal_backslash_u0000_is_just_text(make_partner):
    fsp = await make_partner(role="provider", api="")
    url = "https://e.example/literal\\u0000"  # a backslash, then the letters u0000
    r = await fsp.client.post(
        "/webhook/v1/subscriptions/", json={"url": url, "events": ["obligation.created"]}
    )
    assert r.status_code == 201 and r.json()["url"] == url


async def test_nul_in_the_token_form_and_energy_coordination(platform, make_partner):
    async with httpx.AsyncClient(base_url=platform.base_url) as http:
        r = await http.post(
            "/connect/token",
            data={"grant_type": "client_credentials", "client_id": "a\x00", "client_secret": "s"},
        )
        assert r.status_code == 400 and "client_id" in r.json()["error_description"]
    ec = await make_partner()
    r = await ec.client.get("/users/a%00b")
    assert r.status_code == 400 and "NUL" in r.text
