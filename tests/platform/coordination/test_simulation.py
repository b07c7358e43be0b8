"""Sandbox simulation of events: price curves (defaults from the partner's enrolled users, the
next local day of the price area with 23/25 hours on DST days), user eligibility and LPC events.
The simulated partner data is in test_simulated_partner."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from support.ec_assets import uid
from support.ec_simulation import household, refused, simulate

OSLO_CITY = {"latitude": 59.91, "longitude": 10.75}
ZONES = {"NO": "Europe/Oslo", "FI": "Europe/Helsinki", "DK": "Europe/Copenhagen"}
ZONES["SE"] = "Europe/Stockholm"
CURRENCY = {"NO": "NOK", "FI": "EUR", "DK": "DKK", "SE": "SEK"}


def local_day_length(day: date, zone: str) -> int:
    tz = ZoneInfo(zone)
    start = datetime(day.year, day.month, day.day, tzinfo=tz)
    nxt = day + timedelta(days=1)
    end = datetime(nxt.year, nxt.month, nxt.day, tzinfo=tz)
    return int((end.astimezone(UTC) - start.astimezone(UTC)) / timedelta(hours=1))


# -- price curves ------------------------------------------------------------------------------


async def test_empty_request_gives_a_random_curve_for_the_next_local_day(ec):
    before = datetime.now(UTC)
    event = await simulate(ec, "pricecurve", {})
    payload = event["payload"]
    assert payload["payloadType"] == "PriceCurve" and payload["targets"] == []
    area = payload["priceArea"]
    assert area != "Unknown"
    zone = ZONES[area[:2]]
    curve = payload["priceCurveDelta"]
    assert curve["resolution"] == "01:00:00" and curve["energyUnit"] == "kWh"
    assert curve["currency"] == CURRENCY[area[:2]]
    stamps = [datetime.fromisoformat(p["timestamp"]) for p in curve["points"]]
    tomorrow = before.astimezone(ZoneInfo(zone)).date() + timedelta(days=1)
    assert stamps[0].astimezone(ZoneInfo(zone)) == datetime(
        tomorrow.year, tomorrow.month, tomorrow.day, tzinfo=ZoneInfo(zone)
    )
    assert len(stamps) == local_day_length(tomorrow, zone)
    assert all(b - a == timedelta(hours=1) for a, b in zip(stamps, stamps[1:], strict=False))
    assert all(-1 <= p["price"] <= 1 for p in curve["points"])
    assert len({p["price"] for p in curve["points"]}) > 1


async def test_default_targets_are_the_enrolled_users_resources(ec):
    home = await household(ec)
    await household(ec, enroll=False)  # eligible but not enrolled: not targeted
    event = await simulate(ec, "pricecurve", {"priceArea": "NO1"})
    targets = event["payload"]["targets"]
    assert sorted(targets, key=lambda t: t["resourceId"]) == sorted(
        [
            {"resourceId": home["tank"], "locationId": home["location"]},
            # a vehicle is targeted at its user's first location
            {"resourceId": home["car"], "locationId": home["location"]},
        ],
        key=lambda t: t["resourceId"],
    )
    assert event["payload"]["priceArea"] == "NO1"


async def test_given_curve_and_targets(ec):
    home = await household(ec)
    points = [
        {"price": 0.5, "timestamp": "2026-03-04T01:00:00+00:00"},
        {"price": -0.25, "timestamp": "2026-03-04T01:00:00+01:00"},  # = 00:00 UTC
    ]
    event = await simulate(
        ec,
        "pricecurve",
        {
            "targets": [{"resourceId": home["car"], "locationId": home["location"]}],
            "priceCurveDelta": {"points": points, "currency": "EUR", "energyUnit": "MWh"},
            "priceArea": "FI",
        },
    )
    payload = event["payload"]
    assert payload["targets"] == [{"resourceId": home["car"], "locationId": home["location"]}]
    assert payload["priceArea"] == "FI"
    assert payload["priceCurveDelta"] == {
        "points": [
            {"price": -0.25, "timestamp": "2026-03-04T00:00:00+00:00"},
            {"price": 0.5, "timestamp": "2026-03-04T01:00:00+00:00"},
        ],
        "energyUnit": "MWh",
        "currency": "EUR",
        "resolution": "01:00:00",
    }
    # the guides' older camelCase path works too
    legacy = await ec.client.post("/simulation/events/priceCurve", json={"priceArea": "DK1"})
    assert legacy.status_code == 200, legacy.text
    assert legacy.json()["simulatedEvent"]["payload"]["priceCurveDelta"]["currency"] == "DKK"
    # "Unknown" (a generated client's unset enum) means: pick a real area
    assert (await simulate(ec, "pricecurve", {"priceArea": "Unknown"}))["payload"][
        "priceArea"
    ] != "Unknown"


async def test_bad_price_curve_requests(ec, make_partner):
    home = await household(ec)
    other = await household(await make_partner())
    target = {"resourceId": home["tank"], "locationId": home["location"]}
    cases = [
        (
            {"targets": [{"resourceId": "nope", "locationId": home["location"]}]},
            "targets[0].resourceId",
        ),
        (
            {"targets": [{"resourceId": home["tank"], "locationId": "nope"}]},
            "targets[0].locationId",
        ),
        (
            {"targets": [target, {"resourceId": other["tank"], "locationId": other["location"]}]},
            "targets[1].resourceId",
        ),
        ({"targets": [target, target]}, "targets"),
        ({"targets": [{"resourceId": home["tank"]}]}, "targets[0].locationId"),
        ({"priceArea": "NO9"}, "priceArea"),
        ({"priceCurveDelta": {"resolution": "00:15:00"}}, "priceCurveDelta.resolution"),
        ({"priceCurveDelta": {"currency": "USD"}}, "priceCurveDelta.currency"),
        (
            {"priceCurveDelta": {"points": [{"price": 1, "timestamp": "2026-03-04T00:15:00Z"}]}},
            "priceCurveDelta.points[0].timestamp",
        ),
        (
            {"priceCurveDelta": {"points": [{"price": 1, "timestamp": "2026-03-04T00:00:00"}]}},
            "priceCurveDelta.points[0].timestamp",
        ),
        (
            {"priceCurveDelta": {"points": [{"timestamp": "2026-03-04T00:00:00Z"}]}},
            "priceCurveDelta.points[0].price",
        ),
        (
            {
                "priceCurveDelta": {
                    "points": [
                        {"price": 1, "timestamp": "2026-03-04T00:00:00Z"},
                        {"price": 2, "timestamp": "2026-03-04T00:00:00+00:00"},
                    ]
                }
            },
            "priceCurveDelta.points[1].timestamp",
        ),
        ({"extra": 1}, "extra"),
    ]
    for body, field in cases:
        refused(await ec.client.post("/simulation/events/pricecurve", json=body), field)
    refused(await ec.client.post("/simulation/events/pricecurve"), "body")
    kinds = [e["payload"]["payloadType"] for e in (await ec.client.get("/events")).json()["events"]]
    assert "PriceCurve" not in kinds  # only the household's UserEligibility event


# -- user eligibility --------------------------------------------------------------------------


async def test_user_eligibility_lists_eligible_users_and_changes_nothing(ec):
    inside = (await household(ec, enroll=False))["user"]
    outside = uid("u")
    await ec.client.post("/users", json={"userId": outside})
    await ec.client.post(
        f"/users/{outside}/locations", json={"locationId": uid("l"), "coordinates": OSLO_CITY}
    )
    before = (await ec.client.get("/events")).json()["pagination"]["totalRecords"]
    event = await simulate(ec, "usereligibility")
    payload = event["payload"]
    legacy = await ec.client.post("/simulation/events/userEligibility")
    assert legacy.status_code == 200 and legacy.json()["simulatedEvent"]["payload"] == {
        **payload,
        "lastUpdated": legacy.json()["simulatedEvent"]["payload"]["lastUpdated"],
    }
    assert payload["addedUsers"] == [inside] and payload["removedUsers"] == []
    datetime.fromisoformat(payload["lastUpdated"])
    after = (await ec.client.get("/events")).json()["pagination"]["totalRecords"]
    assert after == before + 2  # only the two simulated events themselves
    for user, expected in ((inside, True), (outside, False)):
        r = await ec.client.get(f"/users/{user}/eligibility")
        assert r.json()["isEligible"] is expected


# -- LPC ---------------------------------------------------------------------------------------


async def test_location_lpc_defaults_and_given_targets(ec):
    refused(await ec.client.post("/simulation/events/lpc/locations", json={}), "locations")
    home = await household(ec, meters=2)
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    event = await simulate(ec, "lpc/locations", {})
    (target,) = event["payload"]["targets"]
    assert target["locationId"] == home["location"]
    assert target["meterPointId"] == home["meters"][0]
    assert target["resolution"] == "01:00:00"
    assert [datetime.fromisoformat(p["timestamp"]) for p in target["points"]] in (
        [start, start + timedelta(hours=1)],
        [start + timedelta(hours=1), start + timedelta(hours=2)],  # the hour turned meanwhile
    )
    assert all(p["maxPowerInKiloWatts"] == 0 for p in target["points"])

    points = [{"maxPowerInKiloWatts": 3.5, "timestamp": "2026-03-03T12:00:00+00:00"}]
    event = await simulate(
        ec,
        "lpc/locations",
        {
            "locations": [
                {
                    "location": {"locationId": home["location"], "meterPointId": home["meters"][1]},
                    "points": points,
                }
            ]
        },
    )
    assert event["payload"]["targets"] == [
        {
            "locationId": home["location"],
            "meterPointId": home["meters"][1],
            "resolution": "01:00:00",
            "points": points,
        }
    ]
    for body, field in [
        ({"locations": [{"location": {"locationId": "nope"}}]}, "locations[0].location.locationId"),
        (
            {"locations": [{"location": {"locationId": home["location"], "meterPointId": "1"}}]},
            "locations[0].location.meterPointId",
        ),
        (
            {
                "locations": [
                    {
                        "location": {"locationId": home["location"]},
                        "points": [
                            {"maxPowerInKiloWatts": -1, "timestamp": "2026-03-03T12:00:00Z"}
                        ],
                    }
                ]
            },
            "locations[0].points[0].maxPowerInKiloWatts",
        ),
        ({"locations": [{"points": []}]}, "locations[0].location"),
    ]:
        refused(await ec.client.post("/simulation/events/lpc/locations", json=body), field)


async def test_resource_lpc_defaults_and_given_targets(ec):
    refused(await ec.client.post("/simulation/events/lpc/resources", json={}), "resources")
    home = await household(ec)
    event = await simulate(ec, "lpc/resources", {"resources": None})
    targets = sorted(event["payload"]["targets"], key=lambda t: t["resourceId"])
    expected = sorted([home["tank"], home["car"]])
    assert [t["resourceId"] for t in targets] == expected
    assert {(t["locationId"], t["meterPointId"]) for t in targets} == {
        (home["location"], home["meters"][0])
    }
    event = await simulate(
        ec, "lpc/resources", {"resources": [{"resource": {"resourceId": home["car"]}}]}
    )
    (target,) = event["payload"]["targets"]
    assert target["resourceId"] == home["car"] and target["locationId"] == home["location"]
    assert target["meterPointId"] == home["meters"][0] and len(target["points"]) == 2
    for body, field in [
        ({"resources": [{"resource": {"resourceId": "nope"}}]}, "resources[0].resource.resourceId"),
        (
            {"resources": [{"resource": {"resourceId": home["tank"], "locationId": "nope"}}]},
            "resources[0].resource.locationId",
        ),
        (
            {"resources": [{"resource": {"resourceId": home["tank"], "meterPointId": "1"}}]},
            "resources[0].resource.meterPointId",
        ),
    ]:
        refused(await ec.client.post("/simulation/events/lpc/resources", json=body), field)
