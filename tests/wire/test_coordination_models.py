"""The Energy Coordination wire models as a client uses them: reading what a server sends
(unknown fields ignored, times with an offset or without), writing requests (typed values
in, the document's JSON out) and the details the document asks for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import TypeAdapter, ValidationError

from flexhub.wire.coordination.events import EventNotification, EventPayload, PriceCurvePayload
from flexhub.wire.coordination.locations import Coordinate, GetLocationResponse
from flexhub.wire.coordination.reports import EnergyUsageReportPayload, PostReportRequest
from flexhub.wire.coordination.users import PostUserRequest

NOTIFICATION = {
    "notificationId": "n-1",
    "eventId": "e-1",
    "eventCreatedAtUtc": "2026-03-04T12:00:00+00:00",
    "notificationSentUtc": "2026-03-04T12:00:01Z",
    "notificationType": "PriceCurveCreated",
    "payload": {
        "targets": [{"resourceId": "r-1", "locationId": "l-1"}],
        "priceCurveDelta": {
            "points": [{"price": -0.5, "timestamp": "2026-03-04T23:00:00+00:00"}],
            "energyUnit": "kWh",
            "currency": "NOK",
            "resolution": "01:00:00",
        },
        "priceArea": "NO1",
        "payloadType": "PriceCurve",
        "addedByANewerServer": True,
    },
    "alsoNew": 1,
}


def test_a_notification_reads_into_typed_values():
    note = EventNotification.model_validate(NOTIFICATION)
    assert isinstance(note.payload, PriceCurvePayload)
    point = note.payload.priceCurveDelta.points[0]
    assert point.timestamp == datetime(2026, 3, 4, 23, tzinfo=UTC) and point.price == -0.5
    assert note.notificationSentUtc == datetime(2026, 3, 4, 12, 0, 1, tzinfo=UTC)
    out = note.model_dump(mode="json")
    assert out["payload"]["priceCurveDelta"]["points"][0]["timestamp"] == (
        "2026-03-04T23:00:00+00:00"
    )
    assert "alsoNew" not in out and "addedByANewerServer" not in out["payload"]


def test_a_time_without_an_offset_is_read_as_utc():
    body = {**NOTIFICATION, "eventCreatedAtUtc": "2026-03-04T12:00:00"}
    assert EventNotification.model_validate(body).eventCreatedAtUtc.tzinfo is UTC


def test_the_payload_type_picks_the_model():
    adapter = TypeAdapter(EventPayload)
    eligibility = adapter.validate_python(
        {
            "payloadType": "UserEligibility",
            "lastUpdated": "2026-03-04T12:00:00+01:00",
            "addedUsers": ["u1"],
            "removedUsers": [],
        }
    )
    assert type(eligibility).__name__ == "UserEligibilityPayload"
    assert eligibility.lastUpdated.utcoffset() == timedelta(hours=1)
    with pytest.raises(ValidationError):
        adapter.validate_python({"payloadType": "Nope", "targets": []})


def test_a_location_without_coordinates_leaves_them_out():
    bare = GetLocationResponse(
        locationId="l", locationType="Unknown", meterPointId=None, meterPointIds=[], userId="u"
    )
    assert "coordinates" not in bare.model_dump(mode="json")
    placed = bare.model_copy(update={"coordinates": Coordinate(latitude=59.9, longitude=10.7)})
    assert placed.model_dump(mode="json")["coordinates"] == {"latitude": 59.9, "longitude": 10.7}


def test_requests_take_python_values_and_refuse_what_json_may_not_carry():
    when = datetime(2026, 3, 4, 23, tzinfo=timezone(timedelta(hours=1)))
    usage = EnergyUsageReportPayload(
        payloadType="EnergyUsage",
        resourceId="r-1",
        resolution="01:00:00",
        points=[{"timestamp": when, "kiloWattHours": 1.5}],
    )
    body = PostReportRequest(eventId="e-1", payloads=[usage]).model_dump(
        mode="json", exclude_none=True
    )
    assert body["payloads"][0]["points"] == [
        {"timestamp": "2026-03-04T23:00:00+01:00", "kiloWattHours": 1.5}
    ]
    with pytest.raises(ValidationError):  # a number is not an ISO 8601 string
        PostReportRequest.model_validate(
            {
                "eventId": "e",
                "payloads": [
                    {
                        "payloadType": "EnergyUsage",
                        "resourceId": "r",
                        "resolution": "01:00:00",
                        "points": [{"timestamp": 1_700_000_000, "kiloWattHours": 1}],
                    }
                ],
            }
        )
    with pytest.raises(ValidationError):  # unknown fields are refused in requests
        PostUserRequest.model_validate({"userId": "u", "colour": "red"})
    with pytest.raises(ValidationError):  # ids are not padded
        PostUserRequest(userId=" u")
