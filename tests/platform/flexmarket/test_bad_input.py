"""Bad input found in review: each gets a 400 naming the field (never a 500, never stored
silently changed), and concurrent requests racing for the same unique value are told like a
single one would be."""

from __future__ import annotations

import asyncio
import json

import pytest

from support.fm import asset_body, competition_body, market, obligation_body, ok

ARABIC_ONE_AND_A_HALF = "\u0661.\u0665"  # "١.٥": digits Python's int() and Decimal() accept


async def test_digits_of_other_scripts_are_not_numbers(make_partner):
    m = await market(make_partner)
    for changes, field in (
        ({"capacity": ARABIC_ONE_AND_A_HALF}, "capacity"),
        ({"capacity": "\uff11"}, "capacity"),  # fullwidth 1
        ({"start": "2030-01-01T1\u0660:00:00Z"}, "start"),
    ):
        r = await m.dispatch(**changes)
        assert r.status_code == 400 and field in r.json(), (changes, r.text)
    r = await m.so.client.post(
        "/so/v1/competitions/", json=competition_body(respond_within="\u0661:00:00")
    )
    assert r.status_code == 400 and "respond_within" in r.json(), r.text
    r = await m.fsp.client.post("/assets/v1/", json=asset_body(voltage_level="\u0661\u0661"))
    assert r.status_code == 400 and "voltage_level" in r.json(), r.text
    assert (await ok(await m.so.client.get("/so/v1/dispatches/")))["count"] == 0


@pytest.mark.parametrize("text", ["0001-01-01", "9999-12-31", "1969-12-31", "3000-01-01"])
async def test_dates_and_times_far_off_are_refused(make_partner, text):
    """At the edges of Python's range a day or an offset added would overflow (a 500)."""
    so = await make_partner(role="system_operator", api="")
    fsp = await make_partner(role="provider", api="")
    body = competition_body()
    body["service_periods"][0]["end"] = text
    r = await so.client.post("/so/v1/competitions/", json=body)
    assert r.status_code == 400 and "service_periods[0].end" in r.json(), r.text
    r = await so.client.post(
        "/so/v1/competitions/", json=competition_body(bidding_close=f"{text}T23:00:00Z")
    )
    assert r.status_code == 400 and "bidding_close" in r.json(), r.text
    for name in ("start_since", "start_to"):
        for value in (text, f"{text}T00:00:00+01:00", f"{text}T23:59:59Z"):
            r = await fsp.client.get("/dispatches/v1/", params={name: value})
            assert r.status_code == 400 and name in r.json(), (value, r.text)
        r = await fsp.client.get("/obligations/v1/", params={name: text})
        assert r.status_code == 400 and name in r.json(), r.text


async def test_an_instruction_in_the_last_possible_hours_is_refused(make_partner):
    m = await market(make_partner)
    r = await m.dispatch(start="9999-12-31T22:00:00Z", end="9999-12-31T23:00:00Z")
    assert r.status_code == 400 and {"start", "end"} <= set(r.json()), r.text


@pytest.mark.parametrize(
    "coordinates",
    [
        "[[[NaN, 51], [1, 51], [1, 52], [NaN, 51]]]",
        "[[[Infinity, 51], [1, 51], [1, 52], [Infinity, 51]]]",
        "[[[0, 51], [1, 51], [1, 52], [0, 51.5]]]",  # not closed
        "[[[0, 51], [1, 51], [0, 51]]]",  # too few positions
        '[[["0", 51], ["1", 51], ["1", 52], ["0", 51]]]',
        "[[[true, 51], [1, 51], [1, 52], [true, 51]]]",
        "[[[1" + "0" * 400 + ", 51], [1, 51], [1, 52], [1" + "0" * 400 + ", 51]]]",
        "[[[0, 91], [1, 51], [1, 52], [0, 91]]]",
        "[[[-181, 51], [1, 51], [1, 52], [-181, 51]]]",
        "[]",
        "[[]]",
    ],
)
async def test_an_area_must_be_real_geojson(make_partner, coordinates):
    so = await make_partner(role="system_operator", api="")
    body = json.dumps(competition_body()).replace(
        '"coordinates": [[[0, 51], [1, 51], [1, 52], [0, 51]]]', f'"coordinates": {coordinates}'
    )
    assert coordinates in body
    r = await so.client.post(
        "/so/v1/competitions/", content=body, headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 400 and list(r.json()) == ["area"], r.text
    assert (await ok(await so.client.get("/so/v1/competitions/")))["count"] == 0


async def test_area_shapes_that_are_fine(make_partner):
    so = await make_partner(role="system_operator", api="")
    ring = [[0, 51], [1.5, 51], [1, 52.25, 10], [0, 51]]
    for area in (
        {"type": "Polygon", "coordinates": [ring, ring]},
        {"type": "MultiPolygon", "coordinates": [[ring], [ring]]},
    ):
        comp = await ok(
            await so.client.post("/so/v1/competitions/", json=competition_body(area=area)), 201
        )
        assert comp["area"] == area
    for area in (
        {"type": "Polygon", "coordinates": [ring], "extra": 1},
        {"type": "MultiPolygon", "coordinates": [ring]},
        {"type": "Point", "coordinates": [0, 51]},
    ):
        r = await so.client.post("/so/v1/competitions/", json=competition_body(area=area))
        assert r.status_code == 400 and "area" in r.json(), r.text


@pytest.mark.parametrize("zone", ["posix/Europe/London", "right/UTC", "localtime", "Europe"])
async def test_only_iana_zone_names_are_timezones(make_partner, zone):
    so = await make_partner(role="system_operator", api="")
    r = await so.client.post("/so/v1/competitions/", json=competition_body(timezone=zone))
    assert r.status_code == 400 and "timezone" in r.json(), r.text


async def test_codes_are_ascii_letters(make_partner):
    so = await make_partner(role="system_operator", api="")
    fsp = await make_partner(role="provider", api="")
    for code in ("ÀÉÎ", "gbp", "GB", "GBPX"):
        r = await so.client.post("/so/v1/competitions/", json=competition_body(currency=code))
        assert r.status_code == 400 and "currency" in r.json(), (code, r.text)
    for code in ("ÀÉ", "gb", "G", "GBR"):
        r = await fsp.client.post("/assets/v1/", json=asset_body(country_code=code))
        assert r.status_code == 400 and "country_code" in r.json(), (code, r.text)


async def test_lists_of_strings_are_checked(make_partner):
    m = await market(make_partner)
    for postcodes, field in ((["SW1A"] * 1 + ["x" * 17], "postcodes[1]"), ([" "], "postcodes[0]")):
        r = await m.so.client.post(
            "/so/v1/competitions/", json=competition_body(postcodes=postcodes)
        )
        assert r.status_code == 400 and field in r.json(), r.text
    for planned, field in (
        (["p" * 65], "assets.planned[0]"),
        ([""], "assets.planned[0]"),
        (["p1", "p1"], "assets.planned"),
    ):
        body = obligation_body(m.competition, m.fsp.id, [], assets={"flex": [], "planned": planned})
        r = await m.so.client.post("/so/v1/obligations/", json=body)
        assert r.status_code == 400 and field in r.json(), r.text


async def test_blank_asset_texts_are_refused(make_partner):
    fsp = await make_partner(role="provider", api="")
    for field in ("postcode", "asset_type", "import_meter_id"):
        r = await fsp.client.post("/assets/v1/", json=asset_body(**{field: "  "}))
        assert r.status_code == 400 and field in r.json(), (field, r.text)


async def test_concurrent_creations_with_one_ref(make_partner):
    so = await make_partner(role="system_operator", api="")
    fsp = await make_partner(role="provider", api="")
    for client, path, body, created in (
        (so.client, "/so/v1/competitions/", competition_body(), 201),
        (fsp.client, "/assets/v1/", asset_body(), 201),
    ):
        answers = await asyncio.gather(*(client.post(path, json=body) for _ in range(6)))
        codes = sorted(r.status_code for r in answers)
        assert codes == [created] + [400] * 5, [r.text for r in answers]
        assert all(list(r.json()) == ["ref"] for r in answers if r.status_code == 400)
        assert (await ok(await client.get(path)))["count"] == 1
    one = await ok(await fsp.client.post("/assets/v1/", json=asset_body()), 201)
    two = await ok(await fsp.client.post("/assets/v1/", json=asset_body()), 201)
    answers = await asyncio.gather(
        *(fsp.client.patch(f"/assets/v1/{a['id']}/", json={"ref": "shared"}) for a in (one, two))
    )
    assert sorted(r.status_code for r in answers) == [200, 400], [r.text for r in answers]


@pytest.mark.parametrize("capacity", ["1e3", "1E-3", "0.0000000001", "1234567890123", "+1", ".5"])
async def test_decimals_are_plain_and_bounded_and_the_message_says_how(make_partner, capacity):
    m = await market(make_partner)
    r = await m.dispatch(capacity=capacity)
    assert r.status_code == 400 and "no exponent" in r.json()["capacity"][0], r.text
    assert "9 after" in r.json()["capacity"][0]


async def test_times_without_an_offset_are_refused(make_partner):
    m = await market(make_partner)
    body = m.dispatch_body()
    for field in ("start", "end"):
        r = await m.dispatch(**{field: body[field].removesuffix("Z")})
        assert r.status_code == 400 and list(r.json()) == [field], r.text
    url = f"/obligations/v1/{m.obligation['id']}/availability-variations/"
    variation = {"start": body["start"], "end": body["end"], "available_capacity": "1"}
    r = await m.fsp.client.post(url, json={**variation, "start": body["start"][:-1]})
    assert r.status_code == 400 and list(r.json()) == ["start"], r.text
    r = await m.fsp.client.get("/dispatches/v1/", params={"start_since": body["start"][:-1]})
    assert r.status_code == 400 and list(r.json()) == ["start_since"], r.text
