"""What an SO may dispatch: inside the obligation's dates, on a service day that is not an
excluded bank holiday, within one happening of its window (local time of the competition),
up to the contracted capacity and max runtime, in its direction. Each refusal is a 400 naming
the field, and nothing is written."""

from __future__ import annotations

from datetime import date, timedelta

from support.fm import (
    BANK_HOLIDAY,
    FRI,
    MON,
    SAT,
    SEPTEMBER_MON,
    SUMMER,
    TUE,
    WED,
    YEAR,
    london_competition,
    london_market,
    market,
    ok,
)

SUN = SAT + timedelta(days=1)


async def test_instructions_inside_the_window_are_accepted(make_partner):
    m = await london_market(make_partner)
    assert m.obligation["status"] == "awarded"
    # 16:00-18:00 BST on a Monday
    body = m.dispatch_body(start=f"{MON}T15:00:00Z", end=f"{MON}T17:00:00Z")
    d = await ok(await m.so.client.post("/so/v1/dispatches/", json=body), 201)
    assert d["hours"] == "2.000" and d["mwh"] == "2.000"
    # the whole capacity, to the last second of the window, with an explicit +00:00 offset
    body = m.dispatch_body(
        start=f"{TUE}T16:30:00+00:00", end=f"{TUE}T18:00:00+00:00", capacity="1.5"
    )
    d = await ok(await m.so.client.post("/so/v1/dispatches/", json=body), 201)
    assert d["start"] == f"{TUE}T16:30:00+00:00" and d["capacity"] == "1.5"
    # up to the end of the window: 18:00Z is 19:00 BST
    r = await m.dispatch(start=f"{WED}T17:00:00Z", end=f"{WED}T18:00:00Z")
    assert r.status_code == 201


async def test_refusals_name_the_field(make_partner):
    m = await london_market(make_partner)
    other = await market(make_partner)
    cases = [
        # outside the window times (14:00-15:00 BST)
        ({"start": f"{MON}T13:00:00Z", "end": f"{MON}T14:00:00Z"}, "start"),
        # starts inside, ends after 19:00 BST
        ({"start": f"{MON}T17:00:00Z", "end": f"{MON}T18:30:00Z"}, "end"),
        # a Saturday
        ({"start": f"{SAT}T15:00:00Z", "end": f"{SAT}T16:00:00Z"}, "start"),
        # an excluded bank holiday (a Monday)
        ({"start": f"{BANK_HOLIDAY}T15:00:00Z", "end": f"{BANK_HOLIDAY}T16:00:00Z"}, "start"),
        # after the obligation's (exclusive) end date, on a Monday
        ({"start": f"{SEPTEMBER_MON}T15:00:00Z", "end": f"{SEPTEMBER_MON}T16:00:00Z"}, "start"),
        # longer than max_runtime (2 h) though inside the 3 h window
        ({"start": f"{MON}T15:00:00Z", "end": f"{MON}T17:30:00Z"}, "end"),
        # start >= end
        ({"start": f"{MON}T16:00:00Z", "end": f"{MON}T16:00:00Z"}, "end"),
        ({"start": f"{MON}T16:00:00Z", "end": f"{MON}T15:30:00Z"}, "end"),
        # already over
        ({"start": "2020-07-01T15:00:00Z", "end": "2020-07-01T16:00:00Z"}, "end"),
        # not UTC, not a time
        ({"start": f"{MON}T16:00:00+01:00"}, "start"),
        ({"end": "2030-07-01 17:00"}, "end"),
        ({"capacity": "1.501"}, "capacity"),
        ({"capacity": "0"}, "capacity"),
        ({"capacity": "-1"}, "capacity"),
        ({"capacity": "1,5"}, "capacity"),
        ({"capacity": 1}, "capacity"),
        ({"need_direction": "excess"}, "need_direction"),
        ({"obligation_id": other.obligation["id"]}, "obligation_id"),
        ({"obligation_id": "nope"}, "obligation_id"),
        ({"instruction_type": "stop"}, "instruction_type"),
        ({"signature": "abc"}, "signature_algorithm"),
        ({"signature_algorithm": "Ed25519"}, "signature"),
        ({"so_reference": ""}, "so_reference"),
        ({"priority": "high"}, "priority"),
    ]
    good = {"start": f"{MON}T15:00:00Z", "end": f"{MON}T16:00:00Z"}
    for changes, field in cases:
        body = m.dispatch_body(**{**good, **changes})
        r = await m.so.client.post("/so/v1/dispatches/", json=body)
        assert r.status_code == 400, (field, r.text)
        assert field in r.json(), (field, r.json())
    body = m.dispatch_body(**good)
    del body["obligation_id"]
    r = await m.so.client.post("/so/v1/dispatches/", json=body)
    assert r.status_code == 400 and list(r.json()) == ["obligation_id"]
    # several problems are named together
    body = m.dispatch_body(capacity="9", need_direction="excess", **good)
    r = await m.so.client.post("/so/v1/dispatches/", json=body)
    assert r.status_code == 400 and {"capacity", "need_direction"} <= set(r.json())
    assert (await ok(await m.so.client.get("/so/v1/dispatches/")))["count"] == 0
    assert (await ok(await m.fsp.client.get("/dispatches/v1/")))["count"] == 0


async def test_overnight_windows_and_included_bank_holidays(make_partner):
    comp = london_competition()
    comp["timezone"] = "UTC"
    window = comp["service_periods"][0]["service_windows"][0]
    window.update(start_time="22:00:00", end_time="06:00:00", bank_holidays="included")
    m = await market(
        make_partner,
        competition=comp,
        start=SUMMER[0],
        end=SUMMER[1],
        capacity="1.000",
        max_runtime=None,
    )
    # Friday 22:00 to Saturday 05:00: the window opened on a service day
    r = await m.dispatch(start=f"{FRI}T22:00:00Z", end=f"{SAT}T05:00:00Z")
    assert r.status_code == 201, r.text
    # Saturday 23:00: Saturday is not a service day
    r = await m.dispatch(start=f"{SAT}T23:00:00Z", end=f"{SUN}T01:00:00Z")
    assert r.status_code == 400 and "start" in r.json()
    # Tuesday 05:00 to 07:00 runs past the window's end at 06:00
    r = await m.dispatch(start=f"{TUE}T05:00:00Z", end=f"{TUE}T07:00:00Z")
    assert r.status_code == 400 and "end" in r.json()
    # the bank holiday is included
    r = await m.dispatch(start=f"{BANK_HOLIDAY}T22:30:00Z", end=f"{BANK_HOLIDAY}T23:30:00Z")
    assert r.status_code == 201, r.text


async def test_instructions_on_the_nights_the_clocks_change(make_partner):
    """Europe/London, 01:30-03:00 local on Sundays: on the spring Sunday 01:30 never shows
    (01:00 GMT jumps to 02:00 BST), so the window runs from the jump to 03:00 BST, an hour;
    on the autumn Sunday it runs from 01:30 BST to 03:00 GMT, two and a half hours."""
    spring = max(date(YEAR, 3, d) for d in range(25, 32) if date(YEAR, 3, d).weekday() == 6)
    autumn = max(date(YEAR, 10, d) for d in range(25, 32) if date(YEAR, 10, d).weekday() == 6)
    comp = london_competition()
    comp["service_periods"][0].update(start=f"{YEAR}-03-01", end=f"{YEAR}-11-01")
    window = comp["service_periods"][0]["service_windows"][0]
    window.update(start_time="01:30:00", end_time="03:00:00", service_days=["sun"])
    m = await market(
        make_partner,
        competition=comp,
        start=f"{YEAR}-03-01",
        end=f"{YEAR}-11-01",
        capacity="1.000",
        max_runtime=None,
    )
    d = await ok(await m.dispatch(start=f"{spring}T01:00:00Z", end=f"{spring}T02:00:00Z"), 201)
    assert d["hours"] == "1.000" and d["mwh"] == "1.000"
    r = await m.dispatch(start=f"{spring}T00:30:00Z", end=f"{spring}T01:30:00Z")
    assert r.status_code == 400 and "start" in r.json()
    r = await m.dispatch(start=f"{spring}T01:00:00Z", end=f"{spring}T02:30:00Z")
    assert r.status_code == 400 and "end" in r.json()
    d = await ok(await m.dispatch(start=f"{autumn}T00:30:00Z", end=f"{autumn}T03:00:00Z"), 201)
    assert d["hours"] == "2.500"
    r = await m.dispatch(start=f"{autumn}T00:29:00Z", end=f"{autumn}T01:00:00Z")
    assert r.status_code == 400 and "start" in r.json()
