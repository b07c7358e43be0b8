"""Checking Flex Market request values field by field: decimal strings, ISO-8601 UTC times
(``Z``), dates (``YYYY-MM-DD``), times of day (``HH:MM:SS``), durations (``HH:MM:SS`` or DRF's
``D HH:MM:SS``), choices and texts. A check never raises on bad input: it records a message
under the field's name, and :meth:`Errors.raise_if_any` turns them into one 400
``{"field": ["message", ...]}`` answer. (Formatting the values: ``flexhub.wire.flexmarket.values``.)
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from flexhub.platform.errors import ApiError
from flexhub.wire.flexmarket.common import DAYS
from flexhub.wire.flexmarket.values import DURATION

# re.ASCII: ``\d`` is 0-9 only (it would also match other scripts' digits, which int() and
# Decimal() accept, so that "١.٥" would pass as a capacity and be shown back as written).
_DECIMAL = re.compile(r"^-?\d{1,12}(\.\d{1,9})?$", re.ASCII)
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d):([0-5]\d)$", re.ASCII)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)
_DATETIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$", re.ASCII
)
_CODE = re.compile(r"^[A-Z]+$", re.ASCII)
# Control characters (tab and line breaks excepted) and the bidi embeddings, overrides and
# isolates that make text display otherwise than it reads.
_HIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# Dates and times outside these years are refused: nothing in a flexibility market is that far
# off, and at the edges of Python's range (years 1 and 9999) a day or a timezone offset added
# to a value would overflow.
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(2999, 12, 31)
_RANGE = f"must be between {FIRST_DAY} and {LAST_DAY}"


class Errors:
    """Per-field messages collected while validating one request."""

    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.fields.setdefault(field, []).append(message)

    def __bool__(self) -> bool:
        return bool(self.fields)

    def raise_if_any(self) -> None:
        if self.fields:
            summary = "; ".join(f"{f}: {', '.join(m)}" for f, m in self.fields.items())
            raise ApiError(400, f"Invalid request. {summary}", errors=dict(self.fields))

    # --- parsers: return the value, or None after recording an error ---------------------

    def decimal(
        self, value: Any, field: str, *, positive: bool = False, non_negative: bool = False
    ) -> Decimal | None:
        if not isinstance(value, str) or not _DECIMAL.fullmatch(value):
            self.add(
                field,
                'must be a decimal number written as a string, e.g. "1.500": digits only (no '
                "exponent), at most 12 before the point and 9 after it",
            )
            return None
        try:
            number = Decimal(value)
        except InvalidOperation:
            self.add(field, "must be a decimal number written as a string")
            return None
        if positive and number <= 0:
            self.add(field, "must be greater than zero")
            return None
        if non_negative and number < 0:
            self.add(field, "must not be negative")
            return None
        return number

    def utc_datetime(self, value: Any, field: str, *, utc_only: bool = True) -> datetime | None:
        """ISO-8601 with ``Z`` (or ``+00:00``); other offsets only when ``utc_only`` is off."""
        if not isinstance(value, str) or not _DATETIME.fullmatch(value):
            self.add(field, "must be an ISO-8601 UTC time such as 2026-06-02T16:00:00Z")
            return None
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            self.add(field, "is not a valid date and time")
            return None
        if utc_only and parsed.utcoffset() != timedelta(0):
            self.add(field, "must be in UTC (ending in Z)")
            return None
        if not FIRST_DAY <= parsed.date() <= LAST_DAY:
            self.add(field, _RANGE)
            return None
        return parsed.astimezone(UTC)

    def date(self, value: Any, field: str) -> date | None:
        if not isinstance(value, str) or not _DATE.fullmatch(value):
            self.add(field, "must be a date written YYYY-MM-DD")
            return None
        try:
            parsed = date.fromisoformat(value)
        except ValueError:
            self.add(field, "is not a valid date")
            return None
        if not FIRST_DAY <= parsed <= LAST_DAY:
            self.add(field, _RANGE)
            return None
        return parsed

    def time_of_day(self, value: Any, field: str) -> time | None:
        match = _TIME.fullmatch(value) if isinstance(value, str) else None
        if match is None:
            self.add(field, "must be a time of day written HH:MM:SS")
            return None
        return time(int(match[1]), int(match[2]), int(match[3]))

    def duration(self, value: Any, field: str, *, positive: bool = True) -> int | None:
        """Seconds of an ``HH:MM:SS`` (hours may exceed 23) or ``D HH:MM:SS`` duration."""
        match = DURATION.fullmatch(value) if isinstance(value, str) else None
        if match is None:
            self.add(field, "must be a duration written HH:MM:SS")
            return None
        days = int(match[1] or 0)
        seconds = days * 86400 + int(match[2]) * 3600 + int(match[3]) * 60 + int(match[4])
        if positive and seconds <= 0:
            self.add(field, "must be longer than zero")
            return None
        return seconds

    def choice(self, value: Any, field: str, choices: tuple[str, ...] | list[str]) -> str | None:
        if value not in choices:
            self.add(field, f"must be one of: {', '.join(choices)}")
            return None
        return value

    def text(self, value: Any, field: str, *, max_length: int = 200) -> str | None:
        if not isinstance(value, str) or not value.strip():
            self.add(field, "must not be blank")
            return None
        if len(value) > max_length:
            self.add(field, f"must be at most {max_length} characters")
            return None
        hidden = _HIDDEN.search(value)
        if hidden:
            self.add(
                field,
                f"must not contain U+{ord(hidden[0]):04X}: control and bidi-override "
                "characters are not allowed",
            )
            return None
        return value

    def code(self, value: Any, field: str, length: int, example: str) -> str | None:
        """An ISO code of ``length`` upper-case ASCII letters (currency, country)."""
        if not isinstance(value, str) or len(value) != length or not _CODE.fullmatch(value):
            self.add(field, f"must be {length} upper-case letters, e.g. {example}")
            return None
        return value

    def service_days(self, value: Any, field: str) -> list[str] | None:
        if not isinstance(value, list) or not value:
            self.add(field, f"must be a non-empty list of days among {', '.join(DAYS)}")
            return None
        bad = [d for d in value if d not in DAYS]
        if bad or len(set(value)) != len(value):
            self.add(field, f"must list distinct days among {', '.join(DAYS)}")
            return None
        return sorted(value, key=DAYS.index)


# --- query filters ---------------------------------------------------------------------------


def parse_filter_date(name: str, value: str | None) -> date | None:
    """A ``YYYY-MM-DD`` query filter; 400 naming the filter when malformed."""
    if value is None:
        return None
    errors = Errors()
    parsed = errors.date(value, name)
    errors.raise_if_any()
    return parsed


def parse_filter_instant(name: str, value: str | None, *, upper: bool) -> datetime | None:
    """A date or ISO-8601 time filter. A lower bound is inclusive. An upper bound is returned
    as an exclusive one: a bare date then means "up to the end of that UTC day" and a time
    "up to and including that instant"."""
    if value is None:
        return None
    errors = Errors()
    if _DATE.fullmatch(value):
        parsed_day = errors.date(value, name)
        errors.raise_if_any()
        start = datetime.combine(parsed_day, time(), tzinfo=UTC)
        return start + timedelta(days=1) if upper else start
    if not _DATETIME.fullmatch(value):
        errors.add(name, "must be a date (YYYY-MM-DD) or an ISO-8601 time")
    parsed = None if errors else errors.utc_datetime(value, name, utc_only=False)
    errors.raise_if_any()
    return parsed + timedelta(microseconds=1) if upper else parsed
