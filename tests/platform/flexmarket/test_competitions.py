"""Competitions: opened by an SO (``/so/v1/competitions/``), read by the provider that holds an
obligation under one (``/competitions/v1/{id}/``)."""

from __future__ import annotations

import copy
from datetime import timedelta

from support.fm import asset_body, competition_body, market, now, obligation_body, ok, z


async def test_so_opens_and_reads_a_competition(make_partner):
    so = await make_partner(role="system_operator", api="")
    body = competition_body(respond_within="00:30:00", timezone="Europe/London")
    body["postcodes"] = ["SW1A", "EC1"]
    body["bank_holiday_dates"] = ["2030-12-25", "2030-08-26"]
    created = await ok(await so.client.post("/so/v1/competitions/", json=body), 201)
    assert created["ref"] == body["ref"] and created["status"] == "closed"
    assert created["respond_within"] == "00:30:00" and created["timezone"] == "Europe/London"
    assert created["bank_holiday_dates"] == ["2030-08-26", "2030-12-25"]
    assert created["postcodes"] == ["SW1A", "EC1"] and created["area"] == body["area"]
    period = created["service_periods"][0]
    assert period["id"] and period["start"] == body["service_periods"][0]["start"]
    window = period["service_windows"][0]
    assert (
        window["id"]
        and window["service_days"]
        == body["service_periods"][0]["service_windows"][0]["service_days"]
    )
    assert created["bidding_open"].endswith("Z") and created["created"].endswith("Z")
    got = await ok(await so.client.get(f"/so/v1/competitions/{created['id']}/"))
    assert got == created
    listed = await ok(await so.client.get("/so/v1/competitions/"))
    assert listed["count"] == 1 and listed["results"] == [created]


async def test_status_follows_bidding_dates_and_award(make_partner):
    so = await make_partner(role="system_operator", api="")
    pending = competition_body(
        bidding_open=z(now() + timedelta(days=1)), bidding_close=z(now() + timedelta(days=2))
    )
    opened = competition_body(
        bidding_open=z(now() - timedelta(days=1)), bidding_close=z(now() + timedelta(days=2))
    )
    r1 = await ok(await so.client.post("/so/v1/competitions/", json=pending), 201)
    r2 = await ok(await so.client.post("/so/v1/competitions/", json=opened), 201)
    assert (r1["status"], r2["status"]) == ("pending", "open")
    assert r1["respond_within"] == "01:00:00"
    m = await market(make_partner)
    got = await ok(await m.so.client.get(f"/so/v1/competitions/{m.competition['id']}/"))
    assert got["status"] == "awarded"


async def test_provider_sees_only_competitions_it_holds_an_obligation_under(make_partner):
    m = await market(make_partner)
    comp_id = m.competition["id"]
    got = await ok(await m.fsp.client.get(f"/competitions/v1/{comp_id}/"))
    assert got["id"] == comp_id and got["service_periods"] == m.competition["service_periods"]
    other = await make_partner(role="provider", api="")
    r = await other.client.get(f"/competitions/v1/{comp_id}/")
    assert r.status_code == 404 and list(r.json()) == ["detail"]
    # a competition of the same SO without an obligation of this provider
    comp2 = await ok(await m.so.client.post("/so/v1/competitions/", json=competition_body()), 201)
    assert (await m.fsp.client.get(f"/competitions/v1/{comp2['id']}/")).status_code == 404
    asset = await ok(await other.client.post("/assets/v1/", json=asset_body()), 201)
    body = obligation_body(comp2, other.id, [asset["id"]])
    await ok(await m.so.client.post("/so/v1/obligations/", json=body), 201)
    assert (await other.client.get(f"/competitions/v1/{comp2['id']}/")).status_code == 200
    assert (await m.fsp.client.get(f"/competitions/v1/{comp2['id']}/")).status_code == 404
    assert (await m.fsp.client.get("/competitions/v1/nope/")).status_code == 404


def _window_edit(body, **changes):
    body = copy.deepcopy(body)
    body["service_periods"][0]["service_windows"][0].update(changes)
    return body


async def test_invalid_competitions_are_400_naming_the_field(make_partner):
    so = await make_partner(role="system_operator", api="")
    base = competition_body()
    period = "service_periods[0]"
    window = f"{period}.service_windows[0]"
    cases = [
        (dict(base, power_type="reactive"), "need_direction"),
        (dict(base, need_direction="sideways"), "need_direction"),
        (dict(base, power_type="apparent"), "power_type"),
        (dict(base, currency="pounds"), "currency"),
        (dict(base, area={"type": "Point", "coordinates": [0, 51]}), "area"),
        (dict(base, timezone="Mars/Olympus"), "timezone"),
        (dict(base, bank_holiday_dates=["2030-13-01"]), "bank_holiday_dates[0]"),
        (dict(base, bidding_close=base["bidding_open"]), "bidding_close"),
        (dict(base, bidding_open="yesterday"), "bidding_open"),
        (dict(base, respond_within="1 hour"), "respond_within"),
        (dict(base, respond_within="00:00:00"), "respond_within"),
        (dict(base, service_periods=[]), "service_periods"),
        (dict(base, ref=""), "ref"),
        (dict(base, ref=7), "ref"),
        (dict(base, colour="red"), "colour"),
        (_window_edit(base, start_time="25:00:00"), f"{window}.start_time"),
        (_window_edit(base, end_time="16:00"), f"{window}.end_time"),
        (_window_edit(base, service_days=["mon", "funday"]), f"{window}.service_days"),
        (_window_edit(base, service_days=[]), f"{window}.service_days"),
        (_window_edit(base, bank_holidays="sometimes"), f"{window}.bank_holidays"),
    ]
    bad_period = copy.deepcopy(base)
    bad_period["service_periods"][0]["end"] = bad_period["service_periods"][0]["start"]
    cases.append((bad_period, f"{period}.end"))
    no_windows = copy.deepcopy(base)
    no_windows["service_periods"][0]["service_windows"] = []
    cases.append((no_windows, f"{period}.service_windows"))
    for body, field in cases:
        r = await so.client.post("/so/v1/competitions/", json=body)
        assert r.status_code == 400, (field, r.text)
        assert field in r.json(), (field, r.json())
    both = dict(base, currency="x", bidding_open="nope")
    r = await so.client.post("/so/v1/competitions/", json=both)
    assert r.status_code == 400 and {"currency", "bidding_open"} <= set(r.json())
    # nothing was written
    assert (await ok(await so.client.get("/so/v1/competitions/")))["count"] == 0
    await ok(await so.client.post("/so/v1/competitions/", json=base), 201)
    r = await so.client.post("/so/v1/competitions/", json=base)
    assert r.status_code == 400 and "ref" in r.json()


async def test_competition_ids_of_other_sos_are_404(make_partner):
    so = await make_partner(role="system_operator", api="")
    other = await make_partner(role="system_operator", api="")
    comp = await ok(await so.client.post("/so/v1/competitions/", json=competition_body()), 201)
    r = await other.client.get(f"/so/v1/competitions/{comp['id']}/")
    assert r.status_code == 404 and list(r.json()) == ["detail"]
    assert (await ok(await other.client.get("/so/v1/competitions/")))["count"] == 0
