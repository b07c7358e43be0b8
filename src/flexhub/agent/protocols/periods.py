"""Schedules as the protocols carry them: a policy's kW per step over a
:class:`~flexhub.agent.optimize.devices.Horizon` becomes a list of :class:`Period` (equal
consecutive steps merged), which OCPP turns into charging schedule periods and S2 into
instructions."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from flexhub.agent.optimize.devices import Horizon

# the end of a period that lasts until further notice (a setpoint rather than a schedule)
OPEN_END = datetime(9999, 12, 31, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Period:
    """``kw`` from ``start`` until ``end`` (aware UTC)."""

    start: datetime
    end: datetime
    kw: float

    def covers(self, when: datetime) -> bool:
        return self.start <= when < self.end


def periods_of(horizon: Horizon, power_kw: Sequence[float]) -> tuple[Period, ...]:
    """The periods of a schedule: one per run of equal steps. ValueError if the schedule does
    not have one finite value per step."""
    values = [float(p) for p in power_kw]
    if len(values) != horizon.steps:
        raise ValueError(f"{len(values)} values for {horizon.steps} steps: one per step")
    if not all(math.isfinite(v) for v in values):
        raise ValueError("a schedule's values must be finite numbers of kW")
    out: list[Period] = []
    for k, kw in enumerate(values):
        if out and out[-1].kw == kw:
            last = out[-1]
            out[-1] = Period(last.start, horizon.time(k + 1), kw)
        else:
            out.append(Period(horizon.time(k), horizon.time(k + 1), kw))
    return tuple(out)


def single(start: datetime, end: datetime, kw: float) -> tuple[Period, ...]:
    if not math.isfinite(kw):
        raise ValueError("a power must be a finite number of kW")
    if end <= start:
        raise ValueError("a period ends after it starts")
    return (Period(start, end, float(kw)),)


def remaining(periods: Sequence[Period], now: datetime) -> tuple[Period, ...]:
    """The periods not over at ``now``, the current one starting at ``now``."""
    out = []
    for p in periods:
        if p.end <= now:
            continue
        out.append(Period(max(p.start, now), p.end, p.kw) if p.start < now else p)
    return tuple(out)


def value_at(periods: Sequence[Period], when: datetime) -> float | None:
    for p in periods:
        if p.covers(when):
            return p.kw
    return None


def capped(periods: Sequence[Period], limits: Sequence[Period]) -> tuple[Period, ...]:
    """``periods`` with each instant's kW at most the limit covering it (where one does)."""
    cuts = sorted(
        {p.start for p in periods}
        | {p.end for p in periods}
        | {q.start for q in limits}
        | {q.end for q in limits}
    )
    out: list[Period] = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        kw = value_at(periods, a)
        if kw is None:
            continue
        limit = value_at(limits, a)
        if limit is not None:
            kw = min(kw, limit)
        if out and out[-1].kw == kw and out[-1].end == a:
            out[-1] = Period(out[-1].start, b, kw)
        else:
            out.append(Period(a, b, kw))
    return tuple(out)
