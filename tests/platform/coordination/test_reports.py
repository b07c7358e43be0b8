"""Reports: every payload kind accepted for the events it answers (both acknowledgement
spellings), stored normalised; each kind of bad input a 400 JSON string naming the field, with
nothing stored."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from flexhub.platform.coordination.events import create_event
from flexhub.store.coordination import EcReport
from support.ec_schemas import check

T0 = "2026-03-04T00:00:00+00:00"
T1 = "2026-03-04T01:00:00+00:00"
LPC_POINTS = [{"maxPowerInKiloWatts": 0, "timestamp": T0}]
PAYLOADS = {
    "PriceCurve": {
        "targets": [
            {"resourceId": "r1", "locationId": "l1"},
            {"resourceId": "r2", "locationId": "l2"},
        ],
        "priceCurveDelta": {
            "points": [{"price": -0.5, "timestamp": T0}, {"price": 0.25, "timestamp": T1}],
            "energyUnit": "kWh",
            "currency": "NOK",
            "resolution": "01:00:00",
        },
        "priceArea": "NO1",
        "payloadType": "PriceCurve",
    },
    "ResourceLPC": {
        "targets": [
            {
                "meterPointId": "m1",
                "locationId": "l1",
                "resourceId": "r1",
                "resolution": "01:00:00",
                "points": LPC_POINTS,
            }
        ],
        "payloadType": "ResourceLPC",
    },
    "LocationLPC": {
        "targets": [
            {
                "locationId": "l1",
                "meterPointId": "m1",
                "resolution": "01:00:00",
                "points": LPC_POINTS,
            }
        ],
        "payloadType": "LocationLPC",
    },
    "LPCReservation": {
        "targets": [
            {
                "locationId": "l2",
                "meterPointId": "m2",
                "resolution": "01:00:00",
                "points": LPC_POINTS,
            }
        ],
        "payloadType": "LPCReservation",
    },
    "UserEligibility": {
        "lastUpdated": T0,
        "addedUsers": ["u1"],
        "removedUsers": [],
        "payloadType": "UserEligibility",
    },
}


async def events_for(test_db, tenant_id: str) -> dict[str, str]:
    """One event of each kind for the partner: payload type → event id."""
    async with test_db.session() as session:
        ids = {}
        for kind, payload in PAYLOADS.items():
            ids[kind] = (await create_event(session, tenant_id, payload)).id
        await session.commit()
    return ids


async def stored(test_db, tenant_id: str) -> list[EcReport]:
    async with test_db.session() as session:
        rows = await session.scalars(
            select(EcReport).where(EcReport.tenant_id == tenant_id).order_by(EcReport.created_at)
        )
        return list(rows.all())


async def count(test_db, tenant_id: str) -> int:
    async with test_db.session() as session:
        query = select(func.count()).select_from(EcReport).where(EcReport.tenant_id == tenant_id)
        return await session.scalar(query)


def usage(resource="r1", points=None, **extra) -> dict:
    body = {
        "resourceId": resource,
        "points": points if points is not None else [{"timestamp": T0, "kiloWattHours": 3.14}],
        "resolution": "01:00:00",
        "payloadType": "EnergyUsage",
    }
    body.update(extra)
    return body


async def test_energy_usage_report_for_a_price_curve(ec, test_db):
    events = await events_for(test_db, ec.id)
    body = {
        "eventId": events["PriceCurve"],
        "payloads": [
            {
                "resourceId": "r1",
                "locationId": None,
                "meterPointId": None,
                "points": [
                    {"timestamp": T0, "kiloWattHours": 3.14},
                    {"timestamp": "2026-03-04T02:00:00+01:00", "kiloWattHours": 0},
                ],
                "resolution": "01:00:00",
                "curvePoints": None,
                "payloadType": "EnergyUsage",
            },
            # the deprecated curvePoints spelling of points
            {
                "resourceId": "r2",
                "locationId": "l2",
                "curvePoints": [{"timestamp": T1, "kiloWattHours": 1}],
                "resolution": "01:00:00",
                "payloadType": "EnergyUsage",
            },
        ],
    }
    r = await ec.client.post("/reports", json=body)
    assert r.status_code == 200, r.text
    report = check("GetReportResponse", r.json())
    assert report["eventId"] == events["PriceCurve"]
    (row,) = await stored(test_db, ec.id)
    assert row.id == report["id"] and row.event_id == events["PriceCurve"]
    assert row.payloads == [
        {
            "payloadType": "EnergyUsage",
            "resourceId": "r1",
            "locationId": "l1",  # filled in from the event's only target for r1
            "meterPointId": None,
            "points": [
                {"timestamp": T0, "kiloWattHours": 3.14},
                {"timestamp": T1, "kiloWattHours": 0.0},  # +01:00 normalised to UTC
            ],
            "resolution": "01:00:00",
        },
        {
            "payloadType": "EnergyUsage",
            "resourceId": "r2",
            "locationId": "l2",
            "meterPointId": None,
            "points": [{"timestamp": T1, "kiloWattHours": 1.0}],
            "resolution": "01:00:00",
        },
    ]


async def test_lpc_reports_and_both_acknowledgement_spellings(ec, test_db):
    events = await events_for(test_db, ec.id)
    resource_target = {"meterPointId": "m1", "locationId": "l1", "resourceId": "r1"}
    for spelling in ("ResourceLPCAcknowledgement", "ResourceLPCAcknowledged"):
        ack = {"acknowledgedTargets": [resource_target], "declinedTargets": []}
        r = await ec.client.post(
            "/reports",
            json={"eventId": events["ResourceLPC"], "payloads": [{**ack, "payloadType": spelling}]},
        )
        assert r.status_code == 200, r.text
    r = await ec.client.post(
        "/reports",
        json={"eventId": events["ResourceLPC"], "payloads": [usage(meterPointId="m1")]},
    )
    assert r.status_code == 200, r.text
    location = {"locationId": "l1", "meterPointId": "m1"}
    for spelling in ("LocationLPCAcknowledgement", "LocationLPCAcknowledged"):
        payload = {"declinedTargets": [location], "payloadType": spelling}
        r = await ec.client.post(
            "/reports", json={"eventId": events["LocationLPC"], "payloads": [payload]}
        )
        assert r.status_code == 200, r.text
    curve = [{"timestamp": T0, "kiloWattHours": 72}, {"timestamp": T1, "kiloWattHours": 79}]
    r = await ec.client.post(
        "/reports",
        json={
            "eventId": events["LocationLPC"],
            "payloads": [
                {**location, "points": curve, "resolution": "01:00:00"}
                | {"payloadType": "LocationEnergyUsage"}
            ],
        },
    )
    assert r.status_code == 200, r.text
    plan = {
        "locationId": "l2",
        "meterPointId": "m2",
        "resolution": "01:00:00",
        "baseline": curve,
        "flexibility": [{"timestamp": T0, "kiloWattHours": 5}],
        "payloadType": "LocationEnergyUsagePlan",
    }
    ack = {
        "acknowledgedTargets": [{"locationId": "l2", "meterPointId": "m2"}],
        "payloadType": "LocationLPCAcknowledged",
    }
    r = await ec.client.post(
        "/reports", json={"eventId": events["LPCReservation"], "payloads": [plan, ack]}
    )
    assert r.status_code == 200, r.text
    rows = await stored(test_db, ec.id)
    kinds = [p["payloadType"] for row in rows for p in row.payloads]
    assert kinds == [
        "ResourceLPCAcknowledgement",
        "ResourceLPCAcknowledgement",  # the guides' spelling, stored as the document's
        "EnergyUsage",
        "LocationLPCAcknowledgement",
        "LocationLPCAcknowledgement",
        "LocationEnergyUsage",
        "LocationEnergyUsagePlan",
        "LocationLPCAcknowledgement",
    ]
    assert rows[1].payloads[0] == {
        "payloadType": "ResourceLPCAcknowledgement",
        "acknowledgedTargets": [resource_target],
        "declinedTargets": [],
    }


async def test_bad_reports_are_refused_naming_the_field(ec, make_partner, test_db):
    events = await events_for(test_db, ec.id)
    other = await make_partner()
    others = await events_for(test_db, other.id)
    price, rlpc, llpc = events["PriceCurve"], events["ResourceLPC"], events["LocationLPC"]
    resource_ack = {
        "acknowledgedTargets": [{"meterPointId": "m1", "locationId": "l1", "resourceId": "r9"}],
        "payloadType": "ResourceLPCAcknowledged",
    }
    location_usage = {
        "locationId": "l1",
        "meterPointId": "m9",
        "points": [{"timestamp": T0, "kiloWattHours": 1}],
        "resolution": "01:00:00",
        "payloadType": "LocationEnergyUsage",
    }
    cases = [
        ({"payloads": [usage()]}, "eventId"),
        ({"eventId": "nope", "payloads": [usage()]}, "eventId"),
        ({"eventId": others["PriceCurve"], "payloads": [usage()]}, "eventId"),
        ({"eventId": price}, "payloads"),
        ({"eventId": price, "payloads": []}, "payloads"),
        ({"eventId": price, "payloads": [{"payloadType": "Bogus"}]}, "payloads[0].payloadType"),
        ({"eventId": price, "payloads": [{"resourceId": "r1"}]}, "payloads[0].payloadType"),
        ({"eventId": price, "payloads": [usage(resolution=None)]}, "payloads[0].resolution"),
        ({"eventId": price, "payloads": [usage(resolution="00:15:00")]}, "payloads[0].resolution"),
        ({"eventId": price, "payloads": [usage(resolution="1h")]}, "payloads[0].resolution"),
        ({"eventId": price, "payloads": [usage(resourceId=None)]}, "payloads[0].resourceId"),
        ({"eventId": price, "payloads": [usage(resource="r9")]}, "payloads[0].resourceId"),
        ({"eventId": price, "payloads": [usage(locationId="l2")]}, "payloads[0].locationId"),
        ({"eventId": price, "payloads": [usage(points=[])]}, "payloads[0].points"),
        ({"eventId": price, "payloads": [usage(colour="red")]}, "payloads[0].colour"),
        (
            {"eventId": price, "payloads": [usage(), usage(resource="r2", locationId="l1")]},
            "payloads[1].locationId",
        ),
        (
            {
                "eventId": price,
                "payloads": [
                    usage(points=[{"timestamp": "2026-03-04T00:30:00Z", "kiloWattHours": 1}])
                ],
            },
            "payloads[0].points[0].timestamp",
        ),
        (
            {
                "eventId": price,
                "payloads": [
                    usage(points=[{"timestamp": "2026-03-04T00:00:00", "kiloWattHours": 1}])
                ],
            },
            "payloads[0].points[0].timestamp",
        ),
        (
            {
                "eventId": price,
                "payloads": [usage(points=[{"timestamp": T0, "kiloWattHours": -1}])],
            },
            "payloads[0].points[0].kiloWattHours",
        ),
        (
            {
                "eventId": price,
                "payloads": [usage(points=[{"timestamp": T0, "kiloWattHours": "3"}])],
            },
            "payloads[0].points[0].kiloWattHours",
        ),
        (
            {"eventId": price, "payloads": [usage(points=[{"timestamp": T0}])]},
            "payloads[0].points[0].kiloWattHours",
        ),
        (
            {
                "eventId": price,
                "payloads": [
                    usage(
                        points=[
                            {"timestamp": T0, "kiloWattHours": 1},
                            {"timestamp": "2026-03-04T01:00:00+01:00", "kiloWattHours": 2},
                        ]
                    )
                ],
            },
            "payloads[0].points[1].timestamp",
        ),
        (
            {
                "eventId": price,
                "payloads": [usage(curvePoints=[{"timestamp": T1, "kiloWattHours": 9}])],
            },
            "payloads[0].curvePoints",
        ),
        ({"eventId": llpc, "payloads": [usage()]}, "payloads[0].payloadType"),
        ({"eventId": events["UserEligibility"], "payloads": [usage()]}, "payloads[0].payloadType"),
        ({"eventId": price, "payloads": [location_usage]}, "payloads[0].payloadType"),
        ({"eventId": llpc, "payloads": [location_usage]}, "payloads[0].meterPointId"),
        ({"eventId": rlpc, "payloads": [usage(meterPointId="m2")]}, "payloads[0].meterPointId"),
        (
            {"eventId": rlpc, "payloads": [resource_ack]},
            "payloads[0].acknowledgedTargets[0].resourceId",
        ),
        (
            {"eventId": rlpc, "payloads": [{"payloadType": "ResourceLPCAcknowledgement"}]},
            "payloads[0].acknowledgedTargets",
        ),
        (
            {
                "eventId": llpc,
                "payloads": [
                    {
                        "acknowledgedTargets": [{"locationId": "l1", "meterPointId": "m1"}],
                        "declinedTargets": [{"locationId": "l1", "meterPointId": "m1"}],
                        "payloadType": "LocationLPCAcknowledgement",
                    }
                ],
            },
            "payloads[0].declinedTargets[0]",
        ),
        (
            {
                "eventId": rlpc,
                "payloads": [{**resource_ack, "payloadType": "LocationLPCAcknowledged"}],
            },
            "payloads[0].acknowledgedTargets[0].resourceId",
        ),
    ]
    for body, field in cases:
        r = await ec.client.post("/reports", json=body)
        assert r.status_code == 400, (body, r.text)
        assert r.headers["content-type"].startswith("application/json")
        message = r.json()
        assert isinstance(message, str) and field in message, (field, message)
    # NaN is not a number a report can carry (JSON has no NaN; Python's parser accepts it)
    raw = json.dumps({"eventId": price, "payloads": [usage()]}).replace("3.14", "NaN")
    r = await ec.client.post("/reports", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 400 and "payloads[0].points[0].kiloWattHours" in r.json()
    r = await ec.client.post("/reports", content=b"[", headers={"content-type": "application/json"})
    assert r.status_code == 400 and "body" in r.json()
    assert await count(test_db, ec.id) == 0
