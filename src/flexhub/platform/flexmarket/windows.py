"""Where an obligation may be dispatched: pure rules over its dates, service days, bank
holidays and daily window, in the competition's timezone. No database, no HTTP.

A window ``start_time``-``end_time`` happens on each service day ``d`` of the obligation
(``start <= d < end``, bank holidays removed when excluded); when ``end_time <= start_time`` it
runs past midnight into the day after ``d``. An instruction must lie inside one happening.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flexhub.platform.flexmarket.fields import DAYS, hms


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
        opens = datetime.combine(d, self.start_time, tzinfo=zone)
        close_day = d + timedelta(days=1) if self.end_time <= self.start_time else d
        closes = datetime.combine(close_day, self.end_time, tzinfo=zone)
        return opens.astimezone(UTC), closes.astimezone(UTC)

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
