"""Energy per UTC hour, from what devices report: cumulative register readings (OCPP meter
values) or power samples (S2 power measurements).

:class:`HourlyEnergy` keeps, per hour, the kWh imported (drawn from the grid) and exported (fed
back). Energy between two readings is spread evenly over the time between them, so an
interval that crosses an hour boundary is split in proportion. Power samples hold until the
next sample (or until :meth:`HourlyEnergy.hold_until`, when the device is lost).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

HOUR = timedelta(hours=1)


def hour_of(when: datetime) -> datetime:
    """The start of the UTC hour ``when`` falls in."""
    return when.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


class HourlyEnergy:
    """kWh imported and exported per UTC hour, and in total."""

    __slots__ = (
        "_export",
        "_import",
        "_last_power",
        "_power_at",
        "_registers",
        "exported_kwh",
        "imported_kwh",
    )

    def __init__(self) -> None:
        self._import: dict[datetime, float] = {}
        self._export: dict[datetime, float] = {}
        self._registers: dict[str, tuple[datetime, float]] = {}
        self._power_at: datetime | None = None
        self._last_power = 0.0
        self.imported_kwh = 0.0  # everything accounted so far (monotonic)
        self.exported_kwh = 0.0

    def add(self, start: datetime, end: datetime, kwh: float) -> None:
        """``kwh`` used evenly from ``start`` to ``end`` (negative: exported). Zero counts
        too: the hours it covers were metered."""
        book = self._export if kwh < 0 else self._import
        amount = abs(kwh)
        if kwh > 0:
            self.imported_kwh += amount
        else:
            self.exported_kwh += amount
        span = (end - start).total_seconds()
        if span <= 0:
            key = hour_of(end)
            book[key] = book.get(key, 0.0) + amount
            return
        t = start
        while t < end:
            hour = hour_of(t)
            upto = min(hour + HOUR, end)
            book[hour] = book.get(hour, 0.0) + amount * (upto - t).total_seconds() / span
            t = upto

    def register(self, at: datetime, kwh: float, name: str = "import") -> None:
        """A cumulative register reading: the increase since the register's previous reading
        is energy of the time between them (``name="export"`` books it as exported). A
        register that goes down was reset (a new meter, a per-transaction register): the
        reading becomes the new base. Readings older than the last one are ignored."""
        last = self._registers.get(name)
        if last is not None:
            last_at, last_kwh = last
            if at < last_at:
                return
            delta = kwh - last_kwh
            if delta >= 0:
                self.add(last_at, at, delta if name == "import" else -delta)
        self._registers[name] = (at, kwh)

    def forget_registers(self) -> None:
        """Start afresh with the next readings (the next one is a base, not a delta)."""
        self._registers.clear()

    def power(self, at: datetime, kw: float) -> None:
        """A power sample: the previous sample's power held from its time until ``at``."""
        if self._power_at is not None and at > self._power_at:
            hours = (at - self._power_at).total_seconds() / 3600
            self.add(self._power_at, at, self._last_power * hours)
        if self._power_at is None or at >= self._power_at:
            self._power_at, self._last_power = at, kw

    def hold_until(self, at: datetime) -> None:
        """Account the last power sample up to ``at`` and stop: the device is gone, and what it
        did after that is unknown until its next sample."""
        if self._power_at is not None:
            self.power(at, 0.0)
        self._power_at = None
        self._last_power = 0.0

    def by_hour(
        self, start: datetime | None = None, end: datetime | None = None
    ) -> dict[datetime, float]:
        """Net kWh (imported minus exported) per hour, for the hours starting in
        ``[start, end)``, in time order."""
        hours = set(self._import) | set(self._export)
        return {
            h: self._import.get(h, 0.0) - self._export.get(h, 0.0)
            for h in sorted(hours)
            if (start is None or h >= hour_of(start)) and (end is None or h < end)
        }

    def imported_by_hour(self) -> dict[datetime, float]:
        return dict(sorted(self._import.items()))

    def exported_by_hour(self) -> dict[datetime, float]:
        return dict(sorted(self._export.items()))

    def drop_before(self, when: datetime) -> None:
        """Forget the hours before ``when`` (reports for them are done)."""
        cut = hour_of(when)
        for book in (self._import, self._export):
            for h in [h for h in book if h < cut]:
                del book[h]
