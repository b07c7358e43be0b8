"""Availability variations: declared by the provider on its obligation, read by the SO, and
instructions asking for more than was declared available are flagged."""

from __future__ import annotations

from datetime import date, timedelta

from support.fm import MON, TUE, YEAR, london_market, ok

NEXT_MON = MON + timedelta(days=7)
AUG1, AUG2 = date(YEAR, 8, 1), date(YEAR, 8, 2)

PATH = "/obligations/v1/{}/availability-variations/"


async def test_declare_and_list(make_partner):
    m = await london_market(make_partner)
    url = PATH.format(m.obligation["id"])
    body = {
        "start": f"{MON}T00:00:00Z",
        "end": f"{NEXT_MON}T00:00:00Z",
        "available_capacity": "0.800",
        "reason": "one battery in maintenance",
    }
    declared = await ok(await m.fsp.client.post(url, json=body), 201)
    assert declared["obligation_id"] == m.obligation["id"] and declared["id"]
    for key, value in body.items():
        assert declared[key] == value
    assert declared["created"].endswith("Z")
    no_reason = await ok(
        await m.fsp.client.post(
            url,
            json={
                "start": f"{AUG1}T00:00:00Z",
                "end": f"{AUG2}T00:00:00Z",
                "available_capacity": "2.5",
            },
        ),
        201,
    )
    assert no_reason["reason"] is None
    mine = await ok(await m.fsp.client.get(url))
    assert mine["count"] == 2 and mine["results"] == [declared, no_reason]
    so_view = await ok(await m.so.client.get("/so/v1/availability-variations/"))
    assert so_view["results"] == [declared, no_reason]
    filtered = await ok(
        await m.so.client.get(
            "/so/v1/availability-variations/", params={"obligation_id": "other", "limit": 1}
        )
    )
    assert filtered["count"] == 0
    page = await ok(await m.so.client.get("/so/v1/availability-variations/?limit=1"))
    assert page["count"] == 2 and page["results"] == [declared] and page["next"]


async def test_invalid_declarations_are_400(make_partner):
    m = await london_market(make_partner)
    url = PATH.format(m.obligation["id"])
    good = {"start": f"{MON}T00:00:00Z", "end": f"{TUE}T00:00:00Z"}
    cases = [
        ({"available_capacity": "-0.1"}, "available_capacity"),
        ({"available_capacity": "none"}, "available_capacity"),
        ({"available_capacity": "1", "end": good["start"]}, "end"),
        ({"available_capacity": "1", "start": "July"}, "start"),
        ({"available_capacity": "1", "reason": "x" * 2001}, "reason"),
        ({"available_capacity": "1", "extra": True}, "extra"),
        ({}, "available_capacity"),
    ]
    for changes, field in cases:
        r = await m.fsp.client.post(url, json={**good, **changes})
        assert r.status_code == 400 and field in r.json(), (field, r.text)
    assert (await ok(await m.fsp.client.get(url)))["count"] == 0


async def test_instructions_above_declared_availability_are_flagged(make_partner):
    m = await london_market(make_partner)
    url = PATH.format(m.obligation["id"])
    for start, end, available in (
        (f"{MON}T15:00:00Z", f"{MON}T15:30:00Z", "1.2"),
        (f"{MON}T15:30:00Z", f"{MON}T16:00:00Z", "0.5"),
    ):
        body = {"start": start, "end": end, "available_capacity": available}
        await ok(await m.fsp.client.post(url, json=body), 201)

    async def flag(start: str, end: str, capacity: str) -> bool:
        body = m.dispatch_body(start=start, end=end, capacity=capacity)
        d = await ok(await m.so.client.post("/so/v1/dispatches/", json=body), 201)
        seen = await ok(await m.fsp.client.get(f"/dispatches/v1/{d['id']}/"))
        assert seen["exceeds_declared_availability"] == d["exceeds_declared_availability"]
        return d["exceeds_declared_availability"]

    # overlaps both variations: the least declared is 0.5
    assert await flag(f"{MON}T15:00:00Z", f"{MON}T17:00:00Z", "0.6") is True
    assert await flag(f"{MON}T15:00:00Z", f"{MON}T17:00:00Z", "0.5") is False
    # overlaps only the first (1.2)
    assert await flag(f"{MON}T15:00:00Z", f"{MON}T15:30:00Z", "1.0") is False
    assert await flag(f"{MON}T15:10:00Z", f"{MON}T15:20:00Z", "1.3") is True
    # touches the second only at its end: no overlap
    assert await flag(f"{MON}T16:00:00Z", f"{MON}T17:00:00Z", "1.5") is False
    # another day, nothing declared
    assert await flag(f"{TUE}T15:00:00Z", f"{TUE}T16:00:00Z", "1.5") is False


async def test_the_newest_of_overlapping_declarations_counts(make_partner):
    """Declarations are never edited: a provider corrects one by declaring again, and where
    several cover the same time the newest one is what is available."""
    m = await london_market(make_partner)
    url = PATH.format(m.obligation["id"])

    async def declare(start: str, end: str, available: str) -> None:
        body = {"start": f"{TUE}T{start}Z", "end": f"{TUE}T{end}Z", "available_capacity": available}
        await ok(await m.fsp.client.post(url, json=body), 201)

    async def flag(start: str, end: str, capacity: str) -> bool:
        body = m.dispatch_body(start=f"{TUE}T{start}Z", end=f"{TUE}T{end}Z", capacity=capacity)
        d = await ok(await m.so.client.post("/so/v1/dispatches/", json=body), 201)
        return d["exceeds_declared_availability"]

    await declare("15:00:00", "17:00:00", "0.2")  # a mistake...
    assert await flag("15:00:00", "16:00:00", "1.0") is True
    await declare("15:00:00", "17:00:00", "1.5")  # ...corrected
    assert await flag("15:00:00", "16:00:00", "1.0") is False
    await declare("15:30:00", "16:00:00", "0.8")  # a newer dip inside the period
    assert await flag("15:00:00", "16:00:00", "1.0") is True
    assert await flag("15:00:00", "15:30:00", "1.0") is False
    assert await flag("16:00:00", "17:00:00", "1.5") is False
    # the older, wider declaration still governs where nothing newer covers the time
    await declare("16:30:00", "18:00:00", "1.2")
    assert await flag("16:00:00", "17:00:00", "1.2") is False
    assert await flag("16:00:00", "17:00:00", "1.3") is True
