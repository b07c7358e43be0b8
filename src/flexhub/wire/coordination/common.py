"""Pieces the Energy Coordination models share: the request base, identifiers, times, numbers,
the document's enums and its paging object."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
)

MAX_ID = 200

PriceArea = Literal[
    "Unknown", "NO1", "NO2", "NO3", "NO4", "NO5", "FI", "DK1", "DK2", "SE1", "SE2", "SE3", "SE4"
]
Currency = Literal["NOK", "EUR", "SEK", "DKK"]
EnergyUnit = Literal["kWh", "MWh"]
LocationType = Literal["Unknown", "Residential", "Commercial", "Other"]
ResourceType = Literal["Generic", "Vehicle", "Charger", "HotWaterTank", "HVAC", "SolarInverter"]
NotificationType = Literal[
    "Unknown",
    "PriceCurveCreated",
    "UserEligibilityUpdated",
    "LocationLPCRequested",
    "ResourceLPCRequested",
    "LPCReservationCreated",
]
WebhookStatus = Literal["New", "Healthy", "Unhealthy", "TimeOut"]
ProblemType = Literal["MissingMpidOnLocation", "CompensationMpidDoesNotMatchLocation"]


class Request(BaseModel):
    """Base of every request body: ``additionalProperties: false`` in the document."""

    model_config = ConfigDict(extra="forbid", strict=True)


# Characters an id may not hold: they cannot be written in a URL path (``/`` and ``\\`` split or
# are read as path segments), or cannot be seen (control, format — bidi overrides and isolates,
# zero-width — line and paragraph separators, private use, unassigned).
# Letters, digits, punctuation, symbols and inner spaces are fine, which covers the document's
# examples (b2c3d4e5-f6a7-8901-bcde-f12345678901, 707057500012345678).
_HIDDEN_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def id_problem(value: str) -> str | None:
    """Why ``value`` (NFC normalised) cannot be a partner-assigned id, or None."""
    if not value:
        return "must not be empty"
    if len(value) > MAX_ID:
        return f"must be at most {MAX_ID} characters"
    if value != value.strip():
        return "must not start or end with whitespace"
    if value in (".", ".."):
        return "must not be . or .. (a URL path cannot address them)"
    for ch in value:
        if ch in "/\\":
            return f"must not contain {ch!r}: an id must fit in one URL path segment"
        if unicodedata.category(ch) in _HIDDEN_CATEGORIES:
            return (
                f"must not contain U+{ord(ch):04X}: control, bidi-override and other "
                "invisible characters are not allowed in ids"
            )
    return None


def normalise_id(value: str) -> str:
    """An id as stored and looked up: NFC normalised (one spelling per id)."""
    return unicodedata.normalize("NFC", value)


def _check_id(value: str) -> str:
    value = normalise_id(value)
    problem = id_problem(value)
    if problem:
        raise ValueError(problem)
    return value


# A partner-assigned id of a user, location, meter point or resource (NFC normalised).
Id = Annotated[str, AfterValidator(_check_id)]
# An id named in an event target or a report (length checked, NFC normalised to match).
IdRef = Annotated[str, Field(min_length=1, max_length=MAX_ID), AfterValidator(normalise_id)]

_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


def _date_time_text(value: Any) -> Any:
    """The document's ``format: date-time`` is a string: no Unix time, no booleans. (A datetime
    object cannot come from JSON: a client building a request in Python may pass one.)"""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _DATE_TIME.match(value):
        raise ValueError("must be an ISO 8601 date-time string such as 2026-03-04T00:00:00+00:00")
    return value


def _utc_instant(value: datetime) -> datetime:
    """An instant that exists in UTC (year 1 to 9999 there, too)."""
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise ValueError("is outside the range of instants (years 1 to 9999 in UTC)") from None
    return value


def _as_utc_if_naive(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _iso(value: datetime) -> str:
    return value.isoformat()


# A time in a request: ISO-8601 with an offset, parsed from the JSON string.
Timestamp = Annotated[
    AwareDatetime,
    Field(strict=False),
    BeforeValidator(_date_time_text),
    AfterValidator(_utc_instant),
    PlainSerializer(_iso, return_type=str, when_used="json"),
]
# A time in a response, payload or notification (a time without an offset is read as UTC).
Instant = Annotated[
    datetime,
    AfterValidator(_as_utc_if_naive),
    PlainSerializer(_iso, return_type=str, when_used="json"),
]
Number = Annotated[float, Field(allow_inf_nan=False)]


class ApiPagination(BaseModel):
    totalRecords: int
    pageSize: int
    currentPage: int
    totalPages: int
    nextPage: int | None
    previousPage: int | None

    @classmethod
    def of(cls, total: int, page: int, page_size: int) -> ApiPagination:
        pages = (total + page_size - 1) // page_size
        return cls(
            totalRecords=total,
            pageSize=page_size,
            currentPage=page,
            totalPages=pages,
            nextPage=page + 1 if page < pages else None,
            previousPage=page - 1 if page > 1 else None,
        )
