"""Compensation for the current calendar month (UTC), per location of a user.

Simple rule (to be refined by the engines work):
- the partner's reports created this month that answer a PriceCurve event count;
- each ``EnergyUsage`` payload (``points``, or the deprecated ``curvePoints``) of one of the
  user's resources is attributed to the payload's ``locationId`` or else the resource's location;
- each point inside this month whose time falls in a delta interval of the event's
  ``priceCurveDelta`` with a negative price (consumption moved into a wanted hour) pays
  ``kWh × |price|`` (prices per MWh are divided by 1000);
- a later report for the same (event, resource, hour) replaces the earlier one;
- the amount is *active*, or *blocked* with a problem when the location has no meter point
  (``MissingMpidOnLocation``) or the payload names a meter point the location does not have
  (``CompensationMpidDoesNotMatchLocation``);
- the currency is the event's ``priceCurveDelta.currency`` (NOK when absent or unknown).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.clock import utcnow
from flexhub.platform.engines.eligibility import locations_with_meters
from flexhub.store.coordination import EcEvent, EcReport, EcResource
from flexhub.timeseries import ONE_HOUR, parse_resolution

CURRENCIES = ("NOK", "EUR", "SEK", "DKK")
DEFAULT_CURRENCY = "NOK"
MISSING_MPID = "MissingMpidOnLocation"
MPID_MISMATCH = "CompensationMpidDoesNotMatchLocation"


@dataclass
class LocationCompensation:
    location_id: str
    meter_point_ids: list[str]
    active: float = 0.0
    blocked: float = 0.0
    currency: str | None = None
    problems: dict[str, str] = field(default_factory=dict)  # problemType → message


@dataclass
class UserCompensation:
    user_id: str
    period_from: date
    period_to: date  # last day of the month, inclusive
    locations: list[LocationCompensation]


def month_bounds(now: datetime) -> tuple[datetime, datetime]:
    start = now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    following = (start + timedelta(days=32)).replace(day=1)
    return start, following


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_span(value: Any) -> timedelta:
    """A .NET TimeSpan string like ``01:00:00`` or ``1.00:00:00``; one hour when unreadable
    or not positive."""
    try:
        span = parse_resolution(value)
    except ValueError:
        return ONE_HOUR
    return span if span > timedelta(0) else ONE_HOUR


@dataclass(frozen=True)
class Delta:
    """A price-curve delta as sorted intervals: price for [start, start + resolution)."""

    starts: tuple[datetime, ...]
    prices: tuple[float, ...]
    resolution: timedelta
    per_kwh: float  # factor from the curve's energy unit to kWh
    currency: str

    @classmethod
    def of(cls, payload: dict[str, Any]) -> Delta:
        curve = payload.get("priceCurveDelta") or {}
        points = []
        for p in curve.get("points") or []:
            if not isinstance(p, dict):
                continue
            start, price = parse_time(p.get("timestamp")), p.get("price")
            if start is not None and isinstance(price, int | float) and not isinstance(price, bool):
                points.append((start, float(price)))
        points.sort()
        currency = curve.get("currency")
        return cls(
            starts=tuple(p[0] for p in points),
            prices=tuple(p[1] for p in points),
            resolution=parse_span(curve.get("resolution")),
            per_kwh=1 / 1000 if curve.get("energyUnit") == "MWh" else 1.0,
            currency=currency if currency in CURRENCIES else DEFAULT_CURRENCY,
        )

    def price_at(self, when: datetime) -> float | None:
        i = bisect.bisect_right(self.starts, when) - 1
        if i < 0 or when >= self.starts[i] + self.resolution:
            return None
        return self.prices[i]


def payload_points(payload: dict[str, Any]) -> Iterable[tuple[datetime, float]]:
    points = payload.get("points")
    if points is None:
        points = payload.get("curvePoints")
    for p in points or []:
        if not isinstance(p, dict):
            continue
        when, kwh = parse_time(p.get("timestamp")), p.get("kiloWattHours")
        if when is not None and isinstance(kwh, int | float) and not isinstance(kwh, bool):
            yield when, float(kwh)


# (event, resource, hour) → (location, meter named by the payload, amount, currency)
Earnings = dict[tuple[str, str, datetime], tuple[str, str | None, float, str]]


def _earn(
    earned: Earnings,
    event: EcEvent,
    delta: Delta,
    payload: dict[str, Any],
    location_id: str,
    window: tuple[datetime, datetime],
) -> None:
    """What one EnergyUsage payload of a report on ``event`` earns, hour by hour; a later
    report for the same (event, resource, hour) replaces an earlier one."""
    start, end = window
    meter = payload.get("meterPointId")
    for when, kwh in payload_points(payload):
        if not start <= when < end:
            continue
        price = delta.price_at(when)
        amount = 0.0
        if price is not None and price < 0 and kwh > 0:
            amount = kwh * abs(price) * delta.per_kwh
        earned[(event.id, payload["resourceId"], when)] = (
            location_id,
            meter,
            amount,
            delta.currency,
        )


def _credit(item: LocationCompensation, meter: str | None, amount: float) -> None:
    """Book ``amount`` on the location: active, or blocked with the problem that blocks it."""
    if amount <= 0:
        return
    if not item.meter_point_ids:
        item.blocked += amount
        item.problems[MISSING_MPID] = (
            f"Location '{item.location_id}' has no meter point id; compensation is withheld"
        )
    elif meter is not None and meter not in item.meter_point_ids:
        item.blocked += amount
        item.problems[MPID_MISMATCH] = (
            f"Reported meter point id '{meter}' is not a meter point of location "
            f"'{item.location_id}'; compensation is withheld"
        )
    else:
        item.active += amount


async def user_compensation(
    session: AsyncSession, tenant_id: str, user_id: str, now: datetime | None = None
) -> UserCompensation:
    start, end = month_bounds(now or utcnow())
    pairs = await locations_with_meters(session, tenant_id, [user_id])
    pairs.sort(key=lambda p: (p[0].created_at, p[0].location_id))
    result = {
        loc.location_id: LocationCompensation(loc.location_id, list(meters))
        for loc, meters in pairs
    }
    resources = dict(
        (
            await session.execute(
                select(EcResource.resource_id, EcResource.location_id).where(
                    EcResource.tenant_id == tenant_id, EcResource.user_id == user_id
                )
            )
        ).all()
    )
    rows = await session.execute(
        select(EcReport, EcEvent)
        .join(EcEvent, (EcEvent.id == EcReport.event_id) & (EcEvent.tenant_id == tenant_id))
        .where(
            EcReport.tenant_id == tenant_id,
            EcEvent.payload_type == "PriceCurve",
            EcReport.created_at >= start,
            EcReport.created_at < end,
        )
        .order_by(EcReport.created_at, EcReport.id)
    )
    earned: Earnings = {}
    deltas: dict[str, Delta] = {}
    for report, event in rows.all():
        delta = deltas.get(event.id)
        if delta is None:
            delta = deltas[event.id] = Delta.of(event.payload or {})
        for payload in report.payloads or []:
            if not isinstance(payload, dict) or payload.get("payloadType") != "EnergyUsage":
                continue
            resource_id = payload.get("resourceId")
            if resource_id not in resources:
                continue
            location_id = payload.get("locationId") or resources[resource_id]
            if location_id in result:
                _earn(earned, event, delta, payload, location_id, (start, end))
    for location_id, meter, amount, currency in earned.values():
        item = result[location_id]
        item.currency = item.currency or currency
        _credit(item, meter, amount)
    for item in result.values():
        if not item.meter_point_ids and MISSING_MPID not in item.problems:
            item.problems[MISSING_MPID] = (
                f"Location '{item.location_id}' has no meter point id; it cannot be compensated"
            )
    return UserCompensation(
        user_id, start.date(), (end - timedelta(days=1)).date(), list(result.values())
    )
