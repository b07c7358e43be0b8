"""Where an obligation may be dispatched: pure rules over its dates, service days, bank
holidays and daily window, in the competition's timezone. No database, no HTTP.

A window ``start_time``-``end_time`` happens on each service day ``d`` of the obligation
(``start <= d < end``, bank holidays removed when excluded); when ``end_time <= start_time`` it
runs past midnight into the day after ``d``. An instruction must lie inside one happening.

On the days the clocks change, the window is open while the local clock reads from
``start_time`` to ``end_time``: a time the clocks skip is the moment they jump past it, and a
time they repeat opens the window at its first occurrence and closes it at its last.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flexhub.wire.flexmarket.common import DAYS
from flexhub.wire.flexmarket.values import hms


def local_instant(day: date, at: time, zone: ZoneInfo, *, last: bool = False) -> datetime:
    """The UTC instant at which the clocks of ``zone`` read ``at`` on ``day``: the first (or,
    with ``last``, the last) time they do; for a time they skip, the moment they jump."""
    naive = datetime.combine(day, at)
    instant = naive.replace(tzinfo=zone, fold=int(last)).astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == naive:
        return instant
    # Skipped. fold=0 reads it with the offset before the jump (an instant after the jump),
    # fold=1 with the offset after it (an instant before): the jump lies between, on a whole
    # second, and is the first instant whose local reading is not earlier than ``at``.
    low = int(naive.replace(tzinfo=zone, fold=1).timestamp())
    high = int(naive.replace(tzinfo=zone, fold=0).timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        reading = datetime.fromtimestamp(middle, zone).replace(tzinfo=None)
        low, high = (low, middle) if reading >= naive else (middle, high)
    return datetime.fromtimestamp(high, UTC)


@dataclass(frozen=True)
class Window:
    start: date  # first service day
    end: date  # exclusive
    service_days: Collection[str]
    bank_holidays: str  # included | excluded
    start_time: time
    end_time: time
    timezone: str = "UTC"
    holiday_dates: Collection[date] = ()

    def happening(self, d: date) -> tuple[datetime, datetime]:
        """The UTC start and end of the window that opens on local day ``d``."""
        zone = ZoneInfo(self.timezone)
        close_day = d + timedelta(days=1) if self.end_time <= self.start_time else d
        return (
            local_instant(d, self.start_time, zone),
            local_instant(close_day, self.end_time, zone, last=True),
        )

    def day_refusal(self, d: date) -> str | None:
        """Why local day ``d`` has no window, or None."""
        if not self.start <= d < self.end:
            return f"falls outside the obligation's dates ({self.start} to {self.end}, exclusive)"
        name = DAYS[d.weekday()]
        if name not in self.service_days:
            return f"falls on {name}, which is not a service day"
        if self.bank_holidays == "excluded" and d in self.holiday_dates:
            return f"falls on a bank holiday ({d}), which the obligation excludes"
        return None


def check_instruction(window: Window, start: datetime, end: datetime) -> dict[str, str]:
    """Problems of an instruction ``[start, end)`` (UTC) by field; empty when it fits."""
    zone = ZoneInfo(window.timezone)
    local = start.astimezone(zone).date()
    for d in (local, local - timedelta(days=1)):
        opens, closes = window.happening(d)
        if not opens <= start < closes:
            continue
        refusal = window.day_refusal(d)
        if refusal is not None:
            return {"start": refusal}
        if end > closes:
            return {
                "end": "must not be later than the end of the service window "
                f"that start falls in ({closes.isoformat().replace('+00:00', 'Z')})"
            }
        return {}
    times = f"{hms(window.start_time)} to {hms(window.end_time)} {window.timezone}"
    return {"start": f"is outside the obligation's service window times ({times})"}
