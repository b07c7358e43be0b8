"""The operator dashboard over real HTTP: sign-in with real credentials, the pages show the
platform's data (rows and plot data agree with the APIs), scoping by role, and what a page
does with no session or bad input."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import AsyncIterator

import httpx
import pytest

from support.ec_simulation import household, simulate
from support.fm import market, ok


@contextlib.asynccontextmanager
async def signed_in(platform, partner) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=platform.base_url, timeout=30) as client:
        r = await client.post(
            "/dashboard/login",
            data={"client_id": partner.client_id, "client_secret": partner.client_secret},
        )
        assert r.status_code == 303 and r.headers["location"] == "/dashboard/", r.text
        cookie = r.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and "path=/dashboard" in cookie
        yield client


def plot_data(html: str, plot_id: str) -> dict:
    match = re.search(
        rf'<script type="application/json" data-plot="{plot_id}">(.*?)</script>', html, re.S
    )
    assert match, f"no plot {plot_id}"
    return json.loads(match.group(1))


async def test_without_a_session_every_page_sends_you_to_sign_in(platform):
    async with httpx.AsyncClient(base_url=platform.base_url) as client:
        for path in ("/dashboard/", "/dashboard/dispatches", "/dashboard/events/x"):
            r = await client.get(path)
            assert r.status_code == 303 and r.headers["location"] == "/dashboard/login", path
    async with httpx.AsyncClient(
        base_url=platform.base_url, cookies={"flexhub_dashboard": "forged.token.here"}
    ) as client:
        r = await client.get("/dashboard/")
        assert r.status_code == 303
        page = await client.get("/dashboard/login")
        assert page.status_code == 200 and "<form" in page.text


async def test_a_wrong_secret_or_a_provider_cannot_sign_in(platform, make_partner):
    provider = await make_partner(role="provider")
    async with httpx.AsyncClient(base_url=platform.base_url) as client:
        for data in (
            {"client_id": provider.client_id, "client_secret": "wrong"},
            {"client_id": provider.client_id, "client_secret": provider.client_secret},
            {},
        ):
            r = await client.post("/dashboard/login", data=data)
            assert r.status_code == 303 and "error=" in r.headers["location"], data
            assert "set-cookie" not in r.headers


async def test_the_admin_sees_dispatches_events_and_their_deliveries(
    platform, make_partner, receiver
):
    admin = await make_partner(role="admin")
    m = await market(make_partner)
    await ok(
        await m.fsp.client.post(
            "/webhook/v1/subscriptions/",
            json={"url": receiver.url, "events": ["dispatch_instruction.created"]},
        ),
        201,
    )
    issued = await ok(await m.dispatch(), 201)
    await receiver.wait_for(1)
    ec = await make_partner()
    await household(ec)
    event = await simulate(ec, "pricecurve", {"priceArea": "NO1"})

    async with signed_in(platform, admin) as client:
        page = (await client.get("/dashboard/dispatches")).text
        assert issued["so_reference"] in page and f'data-id="{issued["id"]}"' in page
        detail = (await client.get(f"/dashboard/dispatches/{issued['id']}")).text
        assert "dispatch_instruction.created" in detail and "delivered" in detail

        events = (await client.get("/dashboard/events?type=PriceCurve")).text
        assert f'data-id="{event["id"]}"' in events
        shown = (await client.get(f"/dashboard/events/{event['id']}")).text
        figure = plot_data(shown, "plot-price-curve")
        points = event["payload"]["priceCurveDelta"]["points"]
        assert figure["data"][0]["y"] == [p["price"] for p in points]
        assert figure["data"][0]["x"] == [p["timestamp"] for p in points]

        overview = (await client.get("/dashboard/")).text
        counts = plot_data(overview, "plot-instructions")["data"][0]
        assert dict(zip(counts["x"], counts["y"], strict=True)).get("pending", 0) >= 1
        assert "plot-price-curve" in overview

        hooks = (await client.get("/dashboard/webhooks")).text
        assert receiver.url in hooks
        log = (await client.get(f"/dashboard/deliveries?partner={m.fsp.id}")).text
        assert "dispatch_instruction.created" in log and receiver.url in log

        static = await client.get("/dashboard/static/plotly.min.js")
        assert static.status_code == 200 and len(static.content) > 100_000
        assert (await client.get("/dashboard/static/../../pyproject.toml")).status_code == 404


async def test_a_system_operator_sees_only_its_own_market(platform, make_partner):
    mine = await market(make_partner)
    theirs = await market(make_partner)
    own = await ok(await mine.dispatch(), 201)
    other = await ok(await theirs.dispatch(), 201)
    async with signed_in(platform, mine.so) as client:
        page = (await client.get("/dashboard/dispatches")).text
        assert own["so_reference"] in page and other["so_reference"] not in page
        hidden = await client.get(f"/dashboard/dispatches/{other['id']}")
        assert hidden.status_code == 200 and "Not found" in hidden.text
        assert (await client.get("/dashboard/events")).status_code == 303  # admins only
        assert "Events" not in (await client.get("/dashboard/")).text.split("<main>")[0]


@pytest.mark.parametrize("path", ["/dashboard/dispatches?page=0", "/dashboard/events?page=x"])
async def test_bad_paging_is_a_clear_400(platform, make_partner, path):
    admin = await make_partner(role="admin")
    async with signed_in(platform, admin) as client:
        r = await client.get(path)
        assert r.status_code == 400 and "page" in r.text


async def test_pages_hold_thousands_of_rows_in_pages(platform, make_partner, test_db):
    from flexhub.clock import utcnow
    from flexhub.store.coordination import EcEvent

    admin = await make_partner(role="admin")
    ec = await make_partner()
    async with test_db.session() as session:
        for i in range(1200):
            session.add(
                EcEvent(
                    id=f"bulk-{ec.id[:8]}-{i:05d}",
                    tenant_id=ec.id,
                    payload_type="UserEligibility",
                    payload={
                        "payloadType": "UserEligibility",
                        "lastUpdated": "2026-01-01T00:00:00+00:00",
                        "addedUsers": [],
                        "removedUsers": [],
                    },
                    created_at=utcnow(),
                )
            )
        await session.commit()
    async with signed_in(platform, admin) as client:
        first = (await client.get("/dashboard/events?type=UserEligibility")).text
        assert first.count('data-id="') == 50
        total = int(re.search(r'data-total="(\d+)"', first).group(1))
        assert total >= 1200
        last_page = (total + 49) // 50
        last = (await client.get(f"/dashboard/events?type=UserEligibility&page={last_page}")).text
        assert 0 < last.count('data-id="') <= 50
