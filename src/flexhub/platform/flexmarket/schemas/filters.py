"""The query-string filters of the Flex Market lists, parsed into typed values (a malformed
filter is a 400 naming it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from fastapi import Query

from flexhub.platform.flexmarket.checks import (
    Errors,
    parse_filter_date,
    parse_filter_instant,
)
from flexhub.wire.flexmarket.dispatches import STATUSES


@dataclass(frozen=True)
class InstructionFilters:
    status: str | None = None
    obligation_id: str | None = None
    start_since: datetime | None = None  # inclusive
    start_before: datetime | None = None  # exclusive


@dataclass(frozen=True)
class ObligationFilters:
    start_since: date | None = None
    start_to: date | None = None
    end_since: date | None = None
    end_to: date | None = None
    competition_id: str | None = None
    bid_id: str | None = None


async def instruction_filters(
    status: str | None = Query(None, description=" | ".join(STATUSES)),
    obligation_id: str | None = Query(None),
    start_since: str | None = Query(None, description="start at or after (date or time)"),
    start_to: str | None = Query(None, description="start at or before (a date: that day)"),
) -> InstructionFilters:
    if status is not None:
        e = Errors()
        e.choice(status, "status", STATUSES)
        e.raise_if_any()
    return InstructionFilters(
        status=status,
        obligation_id=obligation_id,
        start_since=parse_filter_instant("start_since", start_since, upper=False),
        start_before=parse_filter_instant("start_to", start_to, upper=True),
    )


async def obligation_filters(
    start_since: str | None = Query(None, description="start on or after (YYYY-MM-DD)"),
    start_to: str | None = Query(None, description="start on or before (YYYY-MM-DD)"),
    end_since: str | None = Query(None, description="end on or after (YYYY-MM-DD)"),
    end_to: str | None = Query(None, description="end on or before (YYYY-MM-DD)"),
    competition_id: str | None = Query(None),
    bid_id: str | None = Query(None),
) -> ObligationFilters:
    return ObligationFilters(
        start_since=parse_filter_date("start_since", start_since),
        start_to=parse_filter_date("start_to", start_to),
        end_since=parse_filter_date("end_since", end_since),
        end_to=parse_filter_date("end_to", end_to),
        competition_id=competition_id,
        bid_id=bid_id,
    )
