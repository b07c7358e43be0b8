"""``GET /events`` is spliced from each event's stored wire text (``event_pages``): its bytes
are those the wire models give when the stored payloads are validated and serialised (the
former way, FastAPI's ``response_model`` serialiser), for every payload type, times with
microseconds and offsets, non-ASCII ids, payloads stored unvalidated (``checked``) and events
stored before the wire text was kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from pydantic import TypeAdapter
from sqlalchemy import select, update

from flexhub.platform.coordination import mappers
from flexhub.platform.coordination.events import create_event, create_events
from flexhub.store.coordination import EcEvent
from flexhub.wire.coordination.common import ApiPagination
from flexhub.wire.coordination.events import GetEventsResponse

BASE = datetime(2026, 3, 3, 12, 0, 0, 123456, tzinfo=UTC)
OSLO = timezone(timedelta(hours=1))
POINT_TIME = datetime(2026, 3, 4, 0, 0, tzinfo=OSLO).isoformat()


def payloads() -> list[dict]:
    lpc_target = {
        "locationId": "lokasjon-ø",
        "meterPointId": "707057500012345678",
        "resolution": "01:00:00",
        "points": [
            {"maxPowerInKiloWatts": 11.5, "timestamp": POINT_TIME},
            {"maxPowerInKiloWatts": 1e-7, "timestamp": "2026-03-04T01:00:00.5Z"},
        ],
    }
    return [
        {
            "payloadType": "PriceCurve",
            "targets": [{"resourceId": "r-1", "locationId": 'l-"1"'}],
            "priceCurveDelta": {
                "points": [
                    {"price": 0.1, "timestamp": POINT_TIME},
                    {"price": -12345678.875, "timestamp": "2026-03-04T01:00:00+00:00"},
                ],
                "energyUnit": "kWh",
                "currency": "NOK",
                "resolution": "01:00:00",
            },
            "priceArea": "NO1",
        },
        {
            "payloadType": "PriceCurve",
            "targets": [],
            "priceCurveDelta": {},
            "priceArea": "SE3",
        },
        {
            "payloadType": "UserEligibility",
            "lastUpdated": BASE.isoformat(),
            "addedUsers": ["brukar-æøå", "user\\2"],
            "removedUsers": [],
        },
        {"payloadType": "LocationLPC", "targets": [lpc_target]},
        {
            "payloadType": "ResourceLPC",
            "targets": [{**lpc_target, "resourceId": "vehicle ☀"}],
        },
        {"payloadType": "LPCReservation", "targets": [lpc_target]},
    ]


def former_body(rows: list[EcEvent], total: int, page: int, size: int) -> bytes:
    """The page as the route wrote it before: stored payloads validated into the wire models,
    serialised by pydantic as FastAPI's ``response_model`` does."""
    response = GetEventsResponse(
        pagination=ApiPagination.of(total, page, size), events=[mappers.event(r) for r in rows]
    )
    return TypeAdapter(GetEventsResponse).dump_json(response, by_alias=True)


async def test_the_page_bytes_equal_the_wire_models_serialised(ec, test_db):
    items = payloads()
    async with test_db.session() as session:
        for i, payload in enumerate(items):
            await create_event(session, ec.id, payload, created_at=BASE + timedelta(minutes=i))
        # checked: stored as given (an int where the model has a float), one INSERT
        unchecked = {
            "payloadType": "UserEligibility",
            "lastUpdated": "2026-03-03T12:00:00+02:00",
            "addedUsers": ["u"],
            "removedUsers": ["v"],
        }
        curve = {**items[0], "priceCurveDelta": {"points": [{"price": 3, "timestamp": POINT_TIME}]}}
        await create_events(
            session,
            [(ec.id, unchecked), (ec.id, curve)],
            created_at=BASE.replace(microsecond=0) + timedelta(hours=1),
            checked=True,
        )
        legacy = await create_event(session, ec.id, items[3], created_at=BASE - timedelta(days=1))
        await session.commit()
        # an event stored before the wire text was kept
        await session.execute(update(EcEvent).where(EcEvent.id == legacy.id).values(wire=None))
        await session.commit()

    async with test_db.session() as session:
        rows = list(
            (
                await session.scalars(
                    select(EcEvent)
                    .where(EcEvent.tenant_id == ec.id)
                    .order_by(EcEvent.created_at.desc(), EcEvent.id.desc())
                )
            ).all()
        )
    assert len(rows) == len(items) + 3
    for page, size in ((1, 100), (1, 3), (3, 3), (2, 4)):
        r = await ec.client.get("/events", params={"page": page, "pageSize": size})
        assert r.status_code == 200
        assert r.headers["content-type"] == "application/json"
        part = rows[(page - 1) * size : page * size]
        assert r.content == former_body(part, len(rows), page, size)
        assert int(r.headers["content-length"]) == len(r.content)

    past = await ec.client.get("/events", params={"page": 9, "pageSize": 5})
    assert past.content == former_body([], len(rows), 9, 5)


async def test_a_partner_without_events_gets_an_empty_page(ec):
    r = await ec.client.get("/events", params={"pageSize": 20})
    assert r.status_code == 200
    assert r.content == former_body([], 0, 1, 20)
