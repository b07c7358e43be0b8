"""Hostile input to the Energy Coordination API: always a 4xx in the operation's documented
error format naming the field, never a 500, and nothing written.

Text no database can store (lone UTF-16 surrogates from ``\\ud800`` escapes), instants that
cannot be expressed in UTC, numbers where the document says string, URLs that are no URIs,
bodies that are not JSON, NaN and Infinity, and nesting deep enough to exhaust a parser."""

from __future__ import annotations

import json

from flexhub.store.coordination import EcEvent, EcLocation, EcUser, EcWebhook
from support.ec_assets import SANDBOX_1, error_string, new_user, problem, uid
from support.ec_assets import stored_count as count

JSON = {"content-type": "application/json"}
HOUR = "2026-03-04T00:00:00+00:00"


async def post_raw(client, path: str, body: bytes, method: str = "POST"):
    return await client.request(method, path, content=body, headers=JSON)


async def test_lone_surrogates_are_a_400_naming_the_field(ec, test_db):
    user_id = uid()
    assert (await ec.client.post("/users", json={"userId": user_id})).status_code == 201
    string_cases = [
        ("/users", b'{"userId": "\\ud800"}', "userId"),
        ("/users", b'{"userId": "a\\udfffb"}', "userId"),
        (
            "/users/batch",
            b'{"users": [{"userId": "ok"}, {"userId": "\\udc00"}]}',
            "users[1].userId",
        ),
        (
            "/users/locations/batch",
            b'{"locations": [{"userId": "\\ud800", "locationId": "x"}]}',
            "locations[0].userId",
        ),
        (f"/users/{user_id}/locations", b'{"locationId": "l", "\\ud800": 1}', "\\ud800"),
        ("/reports", b'{"eventId": "\\ud83d"}', "eventId"),
    ]
    for path, body, field in string_cases:
        message = error_string(await post_raw(ec.client, path, body), 400)
        assert "surrogate" in message and field.replace("\\ud800", "") in message, message
    hook_cases = [
        (b'{"webhookUrl": "https://example.com/", "webhookSecret": "\\ud800"}', "webhookSecret"),
        (b'{"webhookUrl": "https://example.com/\\udbff"}', "webhookUrl"),
        (b'{"webhookUrl": "https://example.com/", "name": "x\\ud800"}', "name"),
    ]
    for body, field in hook_cases:
        body = problem(await post_raw(ec.client, "/webhooks", body), 400)
        assert field in body["errors"], body
    assert await count(test_db, EcUser, ec.id) == 1
    assert await count(test_db, EcLocation, ec.id) == 0
    assert await count(test_db, EcWebhook, ec.id) == 0
    # a proper pair (an emoji) is just text
    r = await post_raw(ec.client, "/users", b'{"userId": "\\ud83d\\ude00"}')
    assert r.status_code == 201 and r.json() == {"userId": "\U0001f600"}


async def test_instants_outside_utc_range_are_a_400(ec, test_db):
    far = ["9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00+05:00"]
    for stamp in far:
        body = {"priceCurveDelta": {"points": [{"price": 1, "timestamp": stamp}]}}
        r = await ec.client.post("/simulation/events/pricecurve", json=body)
        assert "priceCurveDelta.points[0].timestamp" in error_string(r, 400)
        body = {"locations": [{"location": {"locationId": "x"}, "points": [{"timestamp": stamp}]}]}
        r = await ec.client.post("/simulation/events/lpc/locations", json=body)
        assert "locations[0].points[0].timestamp" in error_string(r, 400)
        report = {
            "eventId": "e",
            "payloads": [
                {
                    "payloadType": "EnergyUsage",
                    "resourceId": "r",
                    "resolution": "01:00:00",
                    "points": [{"timestamp": stamp, "kiloWattHours": 1}],
                }
            ],
        }
        r = await ec.client.post("/reports", json=report)
        assert "payloads[0].points[0].timestamp" in error_string(r, 400)
    assert await count(test_db, EcEvent, ec.id) == 0


async def test_a_number_is_no_timestamp(ec, test_db):
    for stamp in (1767225600, 1767225600.0, True):
        body = {"priceCurveDelta": {"points": [{"price": 1, "timestamp": stamp}]}}
        r = await ec.client.post("/simulation/events/pricecurve", json=body)
        assert "priceCurveDelta.points[0].timestamp" in error_string(r, 400)
    assert await count(test_db, EcEvent, ec.id) == 0
    body = {"priceCurveDelta": {"points": [{"price": 1, "timestamp": HOUR}]}, "targets": []}
    r = await ec.client.post("/simulation/events/pricecurve", json=body)
    assert r.status_code == 200, r.text


async def test_webhook_urls_must_be_uris(ec, test_db):
    bad = [
        "https://exa mple.com/hook",
        "https://example.com/a b",
        "https://example.com/\t",
        "https://example.com/\x7f",
        "https://éxample.com/hook",
        "https://example.com/ø",
    ]
    for url in bad:
        body = problem(await ec.client.post("/webhooks", json={"webhookUrl": url}), 400)
        assert "webhookUrl" in body["errors"], body
    assert await count(test_db, EcWebhook, ec.id) == 0
    r = await ec.client.post("/webhooks", json={"webhookUrl": "https://xn--xample-9ua.com/a%20b"})
    assert r.status_code == 201, r.text
    hook = r.json()["webhookId"]
    for method, body in (("PUT", {"webhookUrl": bad[0]}), ("PATCH", {"webhookUrl": bad[1]})):
        r = await ec.client.request(method, f"/webhooks/{hook}", json=body)
        assert "webhookUrl" in problem(r, 400)["errors"]
    r = await ec.client.get(f"/webhooks/{hook}")
    assert r.json()["webhookUrl"] == "https://xn--xample-9ua.com/a%20b"


async def test_a_body_that_is_not_json_says_so(ec):
    for ctype in ("text/plain", "application/xml", "application/x-www-form-urlencoded", None):
        headers = {"content-type": ctype} if ctype else {}
        r = await ec.client.post("/users", content=b'{"userId": "x"}', headers=headers)
        assert "JSON" in error_string(r, 400), (ctype, r.text)
        r = await ec.client.post("/webhooks", content=b"{}", headers=headers)
        assert "JSON" in problem(r, 400)["detail"]
    assert (await ec.client.get("/users")).json()["users"] == []


async def test_non_finite_and_oversized_numbers_are_a_400(ec, test_db):
    user_id = uid()
    assert (await ec.client.post("/users", json={"userId": user_id})).status_code == 201
    path = f"/users/{user_id}/locations"
    for value in (b"NaN", b"Infinity", b"-Infinity", b"1e400", b"1" + b"0" * 5000):
        body = b'{"locationId": "l", "coordinates": {"latitude": ' + value + b', "longitude": 1}}'
        r = await post_raw(ec.client, path, body)
        assert r.status_code == 400, (value[:10], r.text)
        assert isinstance(r.json(), str)
    body = {"priceCurveDelta": {"points": [{"price": float("nan"), "timestamp": HOUR}]}}
    r = await ec.client.post(
        "/simulation/events/pricecurve", content=json.dumps(body).encode(), headers=JSON
    )
    assert "price" in error_string(r, 400)
    assert await count(test_db, EcLocation, ec.id) == 0
    assert await count(test_db, EcEvent, ec.id) == 0


async def test_deep_nesting_and_odd_shapes_are_a_400(ec, test_db):
    user_id = uid()
    assert (await ec.client.post("/users", json={"userId": user_id})).status_code == 201
    bodies = [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a":' * 20_000 + b"1" + b"}" * 20_000,
        b"",
        b"null",
        b"[]",
        b'"text"',
        b"\xff\xfe",
        b'{"locationId": "l", "coordinates": [1, 2]}',
        b'{"locationId": "l", "meterPointIds": "707057500012345678"}',
        b'{"locationId": "l", "meterPointIds": [["x"]]}',
    ]
    for body in bodies:
        r = await post_raw(ec.client, f"/users/{user_id}/locations", body)
        assert r.status_code == 400, (body[:20], r.text)
        assert isinstance(r.json(), str) and r.json()
    assert await count(test_db, EcLocation, ec.id) == 0
    # PATCH with a valid, empty or all-null body changes nothing and still answers the location
    r = await ec.client.post(
        f"/users/{user_id}/locations", json={"locationId": "l", "coordinates": SANDBOX_1}
    )
    assert r.status_code == 201
    for body in ({}, {"locationType": None, "coordinates": None, "meterPointIds": None}):
        r = await ec.client.patch(f"/users/{user_id}/locations/l", json=body)
        assert r.status_code == 200 and r.json()["coordinates"] == SANDBOX_1


async def test_delete_webhook_errors_have_the_documented_formats(ec):
    # the document: 400 problem+json, 404 a JSON string
    problem(await ec.client.delete("/webhooks/a%00b"), 400)
    error_string(await ec.client.delete("/webhooks/does-not-exist"), 404)


async def test_a_batch_with_more_meters_than_one_query_can_carry(ec, test_db):
    """PostgreSQL takes at most 32,767 values in one statement; a batch may hold more meter
    point ids than that (up to 1,000 locations of up to 1,000 each)."""
    user_id = await new_user(ec)
    taken = uid("m")
    r = await ec.client.post(
        f"/users/{user_id}/locations", json={"locationId": uid(), "meterPointIds": [taken]}
    )
    assert r.status_code == 201
    locations = [
        {
            "userId": user_id,
            "locationId": f"b{i}",
            "meterPointIds": [f"m{i}-{j}" for j in range(1000)],
        }
        for i in range(33)
    ]
    locations[-1]["meterPointIds"][-1] = taken  # the very last one is already registered
    r = await ec.client.post("/users/locations/batch", json={"locations": locations})
    assert "locations[32].meterPointIds" in error_string(r, 400)
    assert await count(test_db, EcLocation, ec.id) == 1
    locations[-1]["meterPointIds"][-1] = "free"
    r = await ec.client.post("/users/locations/batch", json={"locations": locations})
    assert r.status_code == 201, r.text[:300]
    r = await ec.client.get(f"/users/{user_id}/locations")
    assert r.status_code == 200 and len(r.json()) == 34
