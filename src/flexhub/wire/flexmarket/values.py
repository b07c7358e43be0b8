"""Flex Market wire values: ISO-8601 UTC times with ``Z``, ``YYYY-MM-DD`` dates, ``HH:MM:SS``
times of day and durations (hours may pass 23; DRF's ``D HH:MM:SS`` is read too), and decimal
strings. Formatting is what the platform writes; parsing is for clients reading it back (the
platform checks requests field by field with its own messages)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from decimal import Decimal

DURATION = re.compile(r"^(?:(\d{1,4}) )?(\d{1,5}):([0-5]\d):([0-5]\d)$", re.ASCII)
QUANTUM = Decimal("0.001")


def iso(value: datetime | None) -> str | None:
    """ISO-8601 in UTC with ``Z``."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def hms(value: time) -> str:
    return value.strftime("%H:%M:%S")


def duration(seconds: int | None) -> str | None:
    """``HH:MM:SS``; hours go past 23 for long durations."""
    if seconds is None:
        return None
    hours, rest = divmod(seconds, 3600)
    return f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"


def quantity(value: Decimal) -> str:
    """A derived quantity (hours, MWh) to three decimals."""
    return str(value.quantize(QUANTUM))


def parse_instant(text: str) -> datetime:
    """An ISO-8601 time (``Z`` or an offset) as an aware UTC datetime; ValueError if not one."""
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset")
    return parsed.astimezone(UTC)


def parse_duration(text: str) -> int:
    """Seconds of an ``HH:MM:SS`` or ``D HH:MM:SS`` duration; ValueError if not one."""
    match = DURATION.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a duration written HH:MM:SS")
    days = int(match[1] or 0)
    return days * 86400 + int(match[2]) * 3600 + int(match[3]) * 60 + int(match[4])
