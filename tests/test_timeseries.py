"""Hourly curves, TimeSpan resolutions and local days across daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from flexhub import timeseries as ts

OSLO = ZoneInfo("Europe/Oslo")


def test_spring_forward_day_has_23_hours():
    hours = ts.local_day_hours(date(2026, 3, 29), OSLO)
    assert len(hours) == 23
    # local midnight is 23:00 UTC the day before (CET), the next midnight 22:00 UTC (CEST)
    assert hours[0] == datetime(2026, 3, 28, 23, tzinfo=UTC)
    assert hours[-1] == datetime(2026, 3, 29, 21, tzinfo=UTC)
    assert all(b - a == timedelta(hours=1) for a, b in zip(hours, hours[1:], strict=False))
    # 02:00 local does not exist that day: the local clock reads 01:00 then 03:00
    local = [h.astimezone(OSLO).hour for h in hours]
    assert local[:4] == [0, 1, 3, 4]


def test_fall_back_day_has_25_hours():
    hours = ts.local_day_hours(date(2026, 10, 25), "Europe/Oslo")
    assert len(hours) == 25
    assert hours[0] == datetime(2026, 10, 24, 22, tzinfo=UTC)
    assert hours[-1] == datetime(2026, 10, 25, 22, tzinfo=UTC)
    local = [h.astimezone(OSLO).hour for h in hours]
    assert local[:5] == [0, 1, 2, 2, 3]  # 02:00 comes twice


def test_ordinary_days_have_24_hours_in_every_price_area():
    for area in ts.PRICE_AREA_ZONES:
        zone = ts.zone_for(area)
        hours = ts.local_day_hours(date(2026, 6, 15), zone)
        assert len(hours) == 24
        assert hours[0].astimezone(zone).hour == 0
        assert all(h.tzinfo is UTC for h in hours)
    helsinki = ts.local_day_hours(date(2026, 1, 10), ts.zone_for("FI"))
    assert helsinki[0] == datetime(2026, 1, 9, 22, tzinfo=UTC)  # UTC+2 in winter


def test_price_area_zones_and_currencies():
    assert ts.zone_for("NO1").key == "Europe/Oslo"
    assert ts.zone_for("FI").key == "Europe/Helsinki"
    assert ts.zone_for("DK2").key == "Europe/Copenhagen"
    assert ts.zone_for("SE3").key == "Europe/Stockholm"
    assert ts.PRICE_AREA_CURRENCIES["SE4"] == "SEK"
    assert ts.PRICE_AREA_CURRENCIES["DK1"] == "DKK"
    assert ts.PRICE_AREA_CURRENCIES["FI"] == "EUR"
    assert ts.PRICE_AREA_CURRENCIES["NO5"] == "NOK"
    assert set(ts.PRICE_AREA_ZONES) == set(ts.PRICE_AREA_CURRENCIES)
    assert "Unknown" not in ts.PRICE_AREA_ZONES
    with pytest.raises(KeyError):
        ts.zone_for("Unknown")


def test_next_local_day_follows_the_local_calendar():
    # 23:30 UTC on 28 March is already 29 March in Oslo, so the next day is the 30th
    assert ts.next_local_day(datetime(2026, 3, 28, 23, 30, tzinfo=UTC), OSLO) == date(2026, 3, 30)
    assert ts.next_local_day(datetime(2026, 3, 28, 22, 30, tzinfo=UTC), OSLO) == date(2026, 3, 29)
    with pytest.raises(ValueError):
        ts.next_local_day(datetime(2026, 3, 28, 22, 30), OSLO)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("01:00:00", timedelta(hours=1)),
        ("1:00:00", timedelta(hours=1)),
        ("00:15:00", timedelta(minutes=15)),
        ("1.00:00:00", timedelta(days=1)),
        ("02:00:00.5", timedelta(hours=2, milliseconds=500)),
        ("-01:30:00", -timedelta(hours=1, minutes=30)),
    ],
)
def test_parse_resolution(text, expected):
    assert ts.parse_resolution(text) == expected


@pytest.mark.parametrize("text", ["", "1h", "PT1H", "24:00:00", "01:60:00", "01:00", "a:b:c"])
def test_parse_resolution_refuses_other_forms(text):
    with pytest.raises(ValueError):
        ts.parse_resolution(text)
    assert not ts.is_hourly(text)


def test_format_resolution_round_trips():
    for value in (timedelta(hours=1), timedelta(minutes=15), timedelta(days=1, hours=2)):
        assert ts.parse_resolution(ts.format_resolution(value)) == value
    assert ts.format_resolution(timedelta(hours=1)) == ts.HOURLY == "01:00:00"
    assert ts.format_resolution(timedelta(days=1)) == "1.00:00:00"
    assert ts.is_hourly("01:00:00") and ts.is_hourly("0.01:00:00")
    assert not ts.is_hourly("00:30:00")


def test_whole_hours_and_flooring():
    assert ts.is_whole_hour(datetime(2026, 3, 3, 12, tzinfo=UTC))
    assert ts.is_whole_hour(datetime(2026, 3, 3, 13, tzinfo=OSLO))
    assert not ts.is_whole_hour(datetime(2026, 3, 3, 12, 0, 1, tzinfo=UTC))
    # a half-hour offset makes a local whole hour a UTC half hour
    india = ZoneInfo("Asia/Kolkata")
    assert not ts.is_whole_hour(datetime(2026, 3, 3, 12, tzinfo=india))
    assert ts.floor_hour(datetime(2026, 3, 3, 12, 59, 59, tzinfo=UTC)) == datetime(
        2026, 3, 3, 12, tzinfo=UTC
    )
    start = datetime(2026, 3, 3, 10, 30, tzinfo=UTC)
    assert ts.hours_between(start, start + timedelta(hours=2)) == [
        datetime(2026, 3, 3, 10, tzinfo=UTC),
        datetime(2026, 3, 3, 11, tzinfo=UTC),
        datetime(2026, 3, 3, 12, tzinfo=UTC),
    ]
