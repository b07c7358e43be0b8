"""The day the demo plays: tomorrow in Oslo (the platform's "next local day"), on an accelerated
:class:`flexhub.clock.ScaledClock` that starts ``lead`` before its midnight, so that the
instructions, price curves and power limit sent now are at the agent before the day begins
(the clock is held until they are)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flexhub.clock import ScaledClock
from flexhub.demo.homes import ZONE
from flexhub.timeseries import local_day_hours, local_day_window


@dataclass(frozen=True)
class Day:
    date: date
    start: datetime  # UTC
    end: datetime
    hours: tuple[datetime, ...]

    @classmethod
    def tomorrow(cls, now: datetime | None = None) -> Day:
        today = (now or datetime.now(UTC)).astimezone(ZoneInfo(ZONE)).date()
        day = today + timedelta(days=1)
        start, end = local_day_window(day, ZONE)
        return cls(day, start, end, tuple(local_day_hours(day, ZONE)))

    def local(self, hour: int) -> datetime:
        return datetime.combine(self.date, time(hour), tzinfo=ZoneInfo(ZONE))

    def clock(self, day_seconds: float, lead: timedelta) -> ScaledClock:
        """A clock that plays the whole day in ``day_seconds`` of wall time from ``lead``
        before it; held there until the scenario releases it."""
        speed = (self.end - self.start).total_seconds() / day_seconds
        return ScaledClock(speed=speed, origin=self.start - lead, held=True)
