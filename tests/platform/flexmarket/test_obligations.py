"""Obligations: awarded by an SO, listed (filters, paging) and read by the provider; statuses
follow the dates; ``obligation.created`` / ``obligation.updated`` carry the REST view."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from flexhub.platform.flexmarket.services.sweeper import sweep
from flexhub.store.flexmarket_webhooks import FmEvent
from support.fm import asset_body, competition_body, market, obligation_body, ok, today


async def events(test_db, tenant_id: str, event_type: str) -> list[dict]:
    async with test_db.session() as session:
        rows = await session.scalars(
            select(FmEvent)
            .where(FmEvent.tenant_id == tenant_id, FmEvent.event_type == event_type)
            .order_by(FmEvent.created)
        )
        return [r.data for r in rows]


async def test_award_and_read(make_partner, test_db):
    m = await market(make_partner)
    ob = m.obligation
    window = m.competition["service_periods"][0]["service_windows"][0]
    assert ob["provider"] == m.fsp.id and ob["competition_id"] == m.competition["id"]
    assert ob["status"] == "active"  # started two days ago
    assert (ob["start_time"], ob["end_time"]) == (window["start_time"], window["end_time"])
    assert ob["service_days"] == window["service_days"]
    assert ob["bank_holidays"] == "included" and ob["capacity"] == "2.000"
    assert ob["max_runtime"] == "04:00:00" and ob["assets"] == {
        "flex": [m.asset["id"]],
        "planned": [],
    }
    assert ob["rates"] == [
        {"type": "availability", "value": "12.50"},
        {"type": "utilisation", "value": "300.00"},
    ]
    assert await ok(await m.fsp.client.get(f"/obligations/v1/{ob['id']}/")) == ob
    assert await ok(await m.so.client.get(f"/so/v1/obligations/{ob['id']}/")) == ob
    listed = await ok(await m.fsp.client.get("/obligations/v1/"))
    assert listed == {"count": 1, "next": None, "previous": None, "results": [ob]}
    assert (await ok(await m.so.client.get("/so/v1/obligations/")))["results"] == [ob]
    assert await events(test_db, m.fsp.id, "obligation.created") == [ob]


async def test_status_changes_with_the_dates_and_publishes_updates(make_partner, test_db):
    start = today() + timedelta(days=1)
    m = await market(make_partner, start=str(start), end=str(start + timedelta(days=1)))
    ob_id = m.obligation["id"]
    assert m.obligation["status"] == "awarded"
    noon = datetime.combine(start, time(12), tzinfo=UTC)
    async with test_db.session() as session:
        assert await sweep(session, noon) >= 1
    got = await ok(await m.fsp.client.get(f"/obligations/v1/{ob_id}/"))
    assert got["status"] == "active"
    async with test_db.session() as session:
        await sweep(session, noon + timedelta(days=1))
    got = await ok(await m.fsp.client.get(f"/obligations/v1/{ob_id}/"))
    assert got["status"] == "completed"
    updates = await events(test_db, m.fsp.id, "obligation.updated")
    assert [u["status"] for u in updates] == ["active", "completed"]
    assert updates[-1] == got
    # a completed obligation takes no availability declarations
    r = await m.fsp.client.post(
        f"/obligations/v1/{ob_id}/availability-variations/",
        json={
            "start": "2030-01-01T00:00:00Z",
            "end": "2030-01-02T00:00:00Z",
            "available_capacity": "1.0",
        },
    )
    assert r.status_code == 400 and "obligation_id" in r.json()


async def _three_obligations(make_partner):
    m = await market(make_partner, bid_id="bid-a")
    comp2 = await ok(await m.so.client.post("/so/v1/competitions/", json=competition_body()), 201)
    later = today() + timedelta(days=10)
    bodies = [
        obligation_body(m.competition, m.fsp.id, [], bid_id="bid-b", start=str(later)),
        obligation_body(comp2, m.fsp.id, [], bid_id="bid-c", end=str(today() + timedelta(days=5))),
    ]
    obs = [m.obligation]
    for body in bodies:
        obs.append(await ok(await m.so.client.post("/so/v1/obligations/", json=body), 201))
    return m, obs, comp2


async def test_filters(make_partner):
    m, (a, b, c), comp2 = await _three_obligations(make_partner)

    async def ids(**params):
        body = await ok(await m.fsp.client.get("/obligations/v1/", params=params))
        assert body["count"] == len(body["results"])
        return [o["id"] for o in body["results"]]

    assert await ids() == [a["id"], b["id"], c["id"]]
    assert await ids(bid_id="bid-b") == [b["id"]]
    assert await ids(competition_id=comp2["id"]) == [c["id"]]
    assert await ids(competition_id=m.competition["id"]) == [a["id"], b["id"]]
    assert await ids(start_since=b["start"]) == [b["id"]]
    assert await ids(start_to=a["start"]) == [a["id"], c["id"]]
    assert await ids(end_to=c["end"]) == [c["id"]]
    assert await ids(end_since=a["end"]) == [a["id"], b["id"]]
    assert await ids(start_since=a["start"], end_to=c["end"], bid_id="bid-c") == [c["id"]]
    assert await ids(bid_id="nope") == []
    for name in ("start_since", "start_to", "end_since", "end_to"):
        r = await m.fsp.client.get("/obligations/v1/", params={name: "2026-02-30"})
        assert r.status_code == 400 and list(r.json()) == [name], r.text
        r = await m.fsp.client.get("/obligations/v1/", params={name: "tomorrow"})
        assert r.status_code == 400 and list(r.json()) == [name]


async def test_paging(make_partner):
    m, obs, _ = await _three_obligations(make_partner)
    r = await m.fsp.client.get("/obligations/v1/", params={"limit": 2, "bid_id": "bid-a"})
    assert (await ok(r))["count"] == 1
    first = await ok(await m.fsp.client.get("/obligations/v1/", params={"limit": 2}))
    assert first["count"] == 3 and len(first["results"]) == 2 and first["previous"] is None
    nxt = urlsplit(first["next"])
    assert first["next"].startswith(str(m.fsp.client.base_url).rstrip("/") + "/obligations/v1/")
    assert parse_qs(nxt.query) == {"limit": ["2"], "offset": ["2"]}
    http = m.fsp.client  # absolute URLs are followed as they are
    second = await ok(await http.get(first["next"]))
    assert [o["id"] for o in first["results"] + second["results"]] == [o["id"] for o in obs]
    assert second["next"] is None
    back = await ok(await http.get(second["previous"]))
    assert back == first
    for params, field in (
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"offset": -1}, "offset"),
    ):
        r = await m.so.client.get("/so/v1/obligations/", params=params)
        assert r.status_code == 400 and list(r.json()) == [field]
    big = await ok(await m.so.client.get("/so/v1/obligations/", params={"limit": 1000}))
    assert big["count"] == 3
    beyond = await ok(await m.so.client.get("/so/v1/obligations/", params={"offset": 10}))
    assert beyond["results"] == [] and beyond["next"] is None and beyond["previous"]


async def test_invalid_awards_are_400_naming_the_field_and_write_nothing(make_partner):
    m = await market(make_partner)
    comp, fsp = m.competition, m.fsp
    other_so = await make_partner(role="system_operator", api="")
    other_comp = await ok(
        await other_so.client.post("/so/v1/competitions/", json=competition_body()), 201
    )
    stranger = await make_partner(role="provider", api="")
    foreign_asset = await ok(await stranger.client.post("/assets/v1/", json=asset_body()), 201)
    period = comp["service_periods"][0]
    cases = [
        ({"competition_id": other_comp["id"]}, "competition_id"),
        ({"provider": "nobody"}, "provider"),
        ({"provider": m.so.id}, "provider"),
        (
            {"service_window_id": other_comp["service_periods"][0]["service_windows"][0]["id"]},
            "service_window_id",
        ),
        ({"start": "2026-13-01"}, "start"),
        ({"end": m.obligation["start"]}, "end"),
        ({"start": str(today() - timedelta(days=400))}, "start"),
        ({"end": str(today() + timedelta(days=400))}, "end"),
        ({"capacity": "0"}, "capacity"),
        ({"capacity": "lots"}, "capacity"),
        ({"capacity": 1.5}, "capacity"),
        ({"need_direction": "excess"}, "need_direction"),
        ({"max_runtime": "3h"}, "max_runtime"),
        ({"rates": [{"type": "bonus", "value": "1"}]}, "rates[0].type"),
        ({"rates": [{"type": "availability", "value": "-1"}]}, "rates[0].value"),
        ({"rates": [{"type": "availability", "value": "1"}] * 2}, "rates[1].type"),
        ({"assets": {"flex": [foreign_asset["id"]], "planned": []}}, "assets.flex"),
        ({"assets": {"flex": ["x"], "wished": []}}, "assets.wished"),
        ({"bid_id": ""}, "bid_id"),
    ]
    for changes, field in cases:
        body = obligation_body(comp, fsp.id, [m.asset["id"]], **changes)
        r = await m.so.client.post("/so/v1/obligations/", json=body)
        assert r.status_code == 400, (field, r.text)
        assert field in r.json(), (field, r.json())
    assert period["end"] > m.obligation["end"]
    body = obligation_body(comp, fsp.id, [m.asset["id"]])
    del body["capacity"]
    r = await m.so.client.post("/so/v1/obligations/", json=body)
    assert r.status_code == 400 and "capacity" in r.json()
    assert (await ok(await fsp.client.get("/obligations/v1/")))["count"] == 1
    assert (await ok(await stranger.client.get("/obligations/v1/")))["count"] == 0


async def test_obligated_assets(make_partner):
    m = await market(make_partner)
    second = await ok(await m.fsp.client.post("/assets/v1/", json=asset_body()), 201)
    await ok(await m.fsp.client.post("/assets/v1/", json=asset_body()), 201)  # not obligated
    body = obligation_body(m.competition, m.fsp.id, [m.asset["id"], second["id"]])
    ob = await ok(await m.so.client.post("/so/v1/obligations/", json=body), 201)
    page = await ok(await m.fsp.client.get(f"/assets/v1/obligations/{ob['id']}/"))
    assert page["count"] == 2 and {a["id"] for a in page["results"]} == {
        m.asset["id"],
        second["id"],
    }
    page = await ok(await m.fsp.client.get(f"/assets/v1/obligations/{ob['id']}/?limit=1"))
    assert page["count"] == 2 and len(page["results"]) == 1 and page["next"]
    other = await make_partner(role="provider", api="")
    r = await other.client.get(f"/assets/v1/obligations/{ob['id']}/")
    assert r.status_code == 404 and list(r.json()) == ["detail"]
    assert (await m.fsp.client.get("/assets/v1/obligations/nope/")).status_code == 404


async def test_days_start_at_midnight_in_the_competitions_timezone(make_partner, test_db):
    start = today() + timedelta(days=3)
    m = await market(
        make_partner,
        competition=competition_body(timezone="Asia/Tokyo"),  # UTC+9, no DST
        start=str(start),
        end=str(start + timedelta(days=1)),
    )
    url = f"/obligations/v1/{m.obligation['id']}/"
    tokyo_midnight = datetime.combine(start, time(), tzinfo=UTC) - timedelta(hours=9)
    async with test_db.session() as session:
        await sweep(session, tokyo_midnight - timedelta(minutes=1))
    assert (await ok(await m.fsp.client.get(url)))["status"] == "awarded"
    async with test_db.session() as session:
        await sweep(session, tokyo_midnight)
    assert (await ok(await m.fsp.client.get(url)))["status"] == "active"
