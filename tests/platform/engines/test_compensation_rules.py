"""Pure parts of the compensation engine: month bounds, time spans, delta lookup, points."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from flexhub.platform.engines.compensation import Delta, month_bounds, parse_span, payload_points


def test_month_bounds_in_utc():
    assert month_bounds(datetime(2026, 12, 31, 23, 30, tzinfo=UTC)) == (
        datetime(2026, 12, 1, tzinfo=UTC),
        datetime(2027, 1, 1, tzinfo=UTC),
    )
    # 00:30 on 1 March in Oslo (+01:00) is still February in UTC
    oslo = timezone(timedelta(hours=1))
    start, end = month_bounds(datetime(2026, 3, 1, 0, 30, tzinfo=oslo))
    assert (start, end) == (datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC))


def test_time_spans():
    assert parse_span("01:00:00") == timedelta(hours=1)
    assert parse_span("02:00:00") == timedelta(hours=2)
    assert parse_span("00:15:00") == timedelta(minutes=15)
    assert parse_span("1.00:00:00") == timedelta(days=1)
    for bad in (None, "", "soon", "00:00:00", 3600):
        assert parse_span(bad) == timedelta(hours=1)


def test_delta_lookup_and_units():
    delta = Delta.of(
        {
            "priceCurveDelta": {
                "points": [
                    {"price": -1.5, "timestamp": "2026-03-04T01:00:00Z"},
                    {"price": 2.0, "timestamp": "2026-03-04T00:00:00+00:00"},
                    {"price": "x", "timestamp": "2026-03-04T05:00:00Z"},
                    {"price": 1.0, "timestamp": "not a time"},
                ],
                "energyUnit": "MWh",
                "currency": "GBP",
                "resolution": "01:00:00",
            }
        }
    )
    at = lambda h, m=0: datetime(2026, 3, 4, h, m, tzinfo=UTC)  # noqa: E731
    assert delta.price_at(at(0)) == 2.0
    assert delta.price_at(at(1, 59)) == -1.5
    assert delta.price_at(at(2)) is None
    assert delta.price_at(at(5)) is None
    assert delta.price_at(datetime(2026, 3, 3, 23, tzinfo=UTC)) is None
    assert delta.per_kwh == 1 / 1000
    assert delta.currency == "NOK"  # unknown currencies fall back
    empty = Delta.of({})
    assert empty.price_at(at(0)) is None and empty.currency == "NOK" and empty.per_kwh == 1.0


def test_payload_points_prefer_points_and_skip_bad_entries():
    points = [{"timestamp": "2026-03-04T00:00:00Z", "kiloWattHours": 2}]
    old = [{"timestamp": "2026-03-04T01:00:00Z", "kiloWattHours": 3}]
    assert [k for _, k in payload_points({"points": points, "curvePoints": old})] == [2.0]
    assert [k for _, k in payload_points({"curvePoints": old})] == [3.0]
    bad = [
        {"timestamp": "2026-03-04T00:00:00Z", "kiloWattHours": True},
        {"timestamp": 5, "kiloWattHours": 1},
        "junk",
        {"timestamp": "2026-03-04T02:00:00", "kiloWattHours": 1.5},
    ]
    got = list(payload_points({"points": bad}))
    assert got == [(datetime(2026, 3, 4, 2, tzinfo=UTC), 1.5)]
