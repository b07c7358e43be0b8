"""Hourly time series helpers shared by the platform and the agent.

- ``"01:00:00"`` resolutions: .NET ``TimeSpan`` strings (``[-][d.]hh:mm:ss[.fffffff]``) as the
  Energy Coordination API writes them; parse to and format from :class:`timedelta`.
- Local days: a price-area day runs midnight to midnight in the area's time zone, so it has 23 or
  25 hours on daylight-saving days. Hours are returned as timezone-aware UTC datetimes.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

ONE_HOUR = timedelta(hours=1)
HOURLY = "01:00:00"

# Price areas of the Energy Coordination API and the zone whose midnight starts their day.
PRICE_AREA_ZONES: dict[str, str] = {
    **{f"NO{i}": "Europe/Oslo" for i in range(1, 6)},
    "FI": "Europe/Helsinki",
    "DK1": "Europe/Copenhagen",
    "DK2": "Europe/Copenhagen",
    **{f"SE{i}": "Europe/Stockholm" for i in range(1, 5)},
}
PRICE_AREA_CURRENCIES: dict[str, str] = {
    **{f"NO{i}": "NOK" for i in range(1, 6)},
    "FI": "EUR",
    "DK1": "DKK",
    "DK2": "DKK",
    **{f"SE{i}": "SEK" for i in range(1, 5)},
}

_TIMESPAN = re.compile(
    r"^(?P<sign>-)?(?:(?P<days>\d+)\.)?(?P<h>\d{1,2}):(?P<m>\d{2}):(?P<s>\d{2})(?:\.(?P<f>\d{1,7}))?$"
)


def parse_resolution(text: str) -> timedelta:
    """Parse a TimeSpan string such as ``"01:00:00"`` or ``"1.00:00:00"``; ValueError if bad."""
    match = _TIMESPAN.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"{text!r} is not a time span like 01:00:00")
    hours, minutes, seconds = int(match["h"]), int(match["m"]), int(match["s"])
    if hours > 23 or minutes > 59 or seconds > 59:
        raise ValueError(f"{text!r} is not a time span like 01:00:00")
    fraction = int((match["f"] or "0").ljust(7, "0"))  # ticks of 100 ns
    value = timedelta(
        days=int(match["days"] or 0),
        hours=hours,
        minutes=minutes,
        seconds=seconds,
        microseconds=fraction // 10,
    )
    return -value if match["sign"] else value


def format_resolution(value: timedelta) -> str:
    """Format like .NET's ``TimeSpan.ToString()``: ``01:00:00``, ``1.00:00:00``."""
    sign = "-" if value < timedelta(0) else ""
    value = abs(value)
    days, rest = value.days, value.seconds
    text = f"{rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}"
    if value.microseconds:
        text += f".{value.microseconds * 10:07d}"
    return f"{sign}{days}.{text}" if days else sign + text


def is_hourly(text: str) -> bool:
    """True when ``text`` is a valid time span equal to one hour."""
    try:
        return parse_resolution(text) == ONE_HOUR
    except ValueError:
        return False


def zone_for(price_area: str) -> ZoneInfo:
    """The time zone of a price area (KeyError for unknown areas)."""
    return ZoneInfo(PRICE_AREA_ZONES[price_area])


def to_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime: a time zone is required")
    return value.astimezone(UTC)


def is_whole_hour(value: datetime) -> bool:
    """True when the instant starts an hour in UTC (and so in every whole-hour-offset zone)."""
    value = to_utc(value)
    return value.minute == 0 and value.second == 0 and value.microsecond == 0


def floor_hour(value: datetime) -> datetime:
    return to_utc(value).replace(minute=0, second=0, microsecond=0)


def hours_between(start: datetime, end: datetime) -> list[datetime]:
    """Hour starts in ``[start, end)`` as UTC datetimes; ``start`` is floored to the hour."""
    current, end = floor_hour(start), to_utc(end)
    out = []
    while current < end:
        out.append(current)
        current += ONE_HOUR
    return out


def local_day_window(day: date, zone: ZoneInfo | str) -> tuple[datetime, datetime]:
    """UTC start and end of ``day`` from local midnight to the next local midnight."""
    tz = ZoneInfo(zone) if isinstance(zone, str) else zone
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def local_day_hours(day: date, zone: ZoneInfo | str) -> list[datetime]:
    """Every hour of a local day as UTC datetimes: 24, or 23/25 on daylight-saving days."""
    return hours_between(*local_day_window(day, zone))


def next_local_day(now: datetime, zone: ZoneInfo | str) -> date:
    """The local calendar day after the one ``now`` falls on."""
    tz = ZoneInfo(zone) if isinstance(zone, str) else zone
    return to_utc(now).astimezone(tz).date() + timedelta(days=1)
