"""Compensation for the current calendar month (UTC), per location of a user.

The rule (README "Forecast, price curves, power limits and compensation"):
- what counts: the ``EnergyUsage`` payloads (``points``, or the deprecated ``curvePoints``) of
  the partner's reports on its PriceCurve events, for the user's resources, at the hours of
  this month that the event's ``priceCurveDelta`` prices; a later report for the same (event,
  resource, hour) replaces the earlier one;
- only reports received before the month's end count, and only while the user is enrolled
  (enrolled before the report arrived, and still enrolled);
- baseline: the resource's mean reported usage in the same local hour (the price area's time
  zone) on the previous 7 days, from all its EnergyUsage reports; with none of those, the
  typical usage of its resource type in that local hour (``load_model.typical_kw``, the
  neighbourhood's climatology for heating and hot water);
- paid per kWh moved in the direction of the delta, times the delta:
  ``max(0, (baseline - usage) × price)``: a positive price pays for using less than the
  baseline, a negative one for using more; prices per MWh are divided by 1000;
- each hour's amount goes to the payload's ``locationId`` (else the resource's location); it
  is *active*, or *blocked* with a problem when the location has no meter point
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
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.clock import utcnow
from flexhub.platform.engines import neighbourhood_rows
from flexhub.platform.engines.eligibility import locations_with_meters
from flexhub.platform.engines.forecast import GridArea, grid_area
from flexhub.platform.engines.load_model import temperature, typical_kw
from flexhub.store.coordination import EcEnrollment, EcEvent, EcReport, EcResource, Neighbourhood
from flexhub.timeseries import ONE_HOUR, parse_resolution, zone_for

CURRENCIES = ("NOK", "EUR", "SEK", "DKK")
DEFAULT_CURRENCY = "NOK"
MISSING_MPID = "MissingMpidOnLocation"
MPID_MISMATCH = "CompensationMpidDoesNotMatchLocation"
# where a location lies in no neighbourhood: the load model's climatology at 60° N
DEFAULT_AREA = GridArea("", "Unknown", "NOK", "Europe/Oslo", None, 60.0, None)


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


@dataclass(frozen=True)
class Usage:
    """One reported hour of a resource on a PriceCurve event."""

    location_id: str
    meter: str | None
    kwh: float
    price: float | None
    delta: Delta
    zone: ZoneInfo
    received: datetime


HISTORY_DAYS = 7


def baseline(history: dict[datetime, float], hour: datetime, zone: ZoneInfo) -> float | None:
    """Mean of the reported usage at the same local hour on the previous 7 days (None when
    none was reported)."""
    local = hour.astimezone(zone)
    found = []
    for k in range(1, HISTORY_DAYS + 1):
        earlier = datetime.combine(local.date() - timedelta(days=k), local.time(), tzinfo=zone)
        value = history.get(earlier.astimezone(UTC))
        if value is not None:
            found.append(value)
    return sum(found) / len(found) if found else None


def moved_amount(baseline_kwh: float, usage_kwh: float, price: float, per_kwh: float) -> float:
    """What moving consumption against the baseline earns at a delta price (never negative)."""
    return max(0.0, (baseline_kwh - usage_kwh) * price * per_kwh)


def zone_of(payload: dict[str, Any]) -> ZoneInfo:
    try:
        return zone_for(payload.get("priceArea") or "")
    except KeyError:
        return ZoneInfo("Europe/Oslo")


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


async def _typical(session: AsyncSession, locations: dict[str, Any]) -> dict[str, GridArea | None]:
    """Each location's neighbourhood as the load model sees it (None outside them)."""
    index = await neighbourhood_rows.placement(session)
    rows = {r.id: r for r in (await session.scalars(select(Neighbourhood))).all()}
    out: dict[str, GridArea | None] = {}
    for location_id, (location, meters) in locations.items():
        found = index.place(location.latitude, location.longitude, meters)
        out[location_id] = grid_area(rows[found]) if found in rows else None
    return out


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
    resources = {
        rid: (location_id, kind)
        for rid, location_id, kind in (
            await session.execute(
                select(
                    EcResource.resource_id, EcResource.location_id, EcResource.resource_type
                ).where(EcResource.tenant_id == tenant_id, EcResource.user_id == user_id)
            )
        ).all()
    }
    enrollment = await session.get(EcEnrollment, (tenant_id, user_id))
    rows = await session.execute(
        select(EcReport, EcEvent)
        .join(EcEvent, (EcEvent.id == EcReport.event_id) & (EcEvent.tenant_id == tenant_id))
        .where(
            EcReport.tenant_id == tenant_id,
            EcReport.created_at >= start - timedelta(days=HISTORY_DAYS + 1),
            EcReport.created_at < end,
        )
        .order_by(EcReport.created_at, EcReport.id)
    )
    history: dict[str, dict[datetime, float]] = {}  # resource → hour → kWh, latest report wins
    used: dict[tuple[str, str, datetime], Usage] = {}
    deltas: dict[str, Delta] = {}
    for report, event in rows.all():
        is_curve = event.payload_type == "PriceCurve"
        delta = deltas.get(event.id)
        if delta is None and is_curve:
            delta = deltas[event.id] = Delta.of(event.payload or {})
        for payload in report.payloads or []:
            if not isinstance(payload, dict) or payload.get("payloadType") != "EnergyUsage":
                continue
            resource_id = payload.get("resourceId")
            if resource_id not in resources:
                continue
            points = list(payload_points(payload))
            seen = history.setdefault(resource_id, {})
            seen.update(points)
            location_id = payload.get("locationId") or resources[resource_id][0]
            if not is_curve or delta is None or location_id not in result:
                continue
            zone = zone_of(event.payload or {})
            for when, kwh in points:
                if start <= when < end:
                    used[(event.id, resource_id, when)] = Usage(
                        location_id,
                        payload.get("meterPointId"),
                        kwh,
                        delta.price_at(when),
                        delta,
                        zone,
                        report.created_at,
                    )
    areas = await _typical(session, {loc.location_id: (loc, m) for loc, m in pairs})
    for (_event, resource_id, when), item in used.items():
        target = result[item.location_id]
        target.currency = target.currency or item.delta.currency
        if item.price is None or item.price == 0:
            continue
        if enrollment is None or enrollment.enrolled_at > item.received:
            continue  # only enrolled users earn
        expected = baseline(history.get(resource_id, {}), when, item.zone)
        if expected is None:
            area = areas.get(item.location_id)
            outdoor = temperature(area or DEFAULT_AREA, when, item.zone)
            expected = typical_kw(
                resources[resource_id][1], when.astimezone(item.zone).hour, outdoor
            )
        _credit(
            target, item.meter, moved_amount(expected, item.kwh, item.price, item.delta.per_kwh)
        )
    for item in result.values():
        item.active = round(item.active, 6)
        item.blocked = round(item.blocked, 6)
        if not item.meter_point_ids and MISSING_MPID not in item.problems:
            item.problems[MISSING_MPID] = (
                f"Location '{item.location_id}' has no meter point id; it cannot be compensated"
            )
    return UserCompensation(
        user_id, start.date(), (end - timedelta(days=1)).date(), list(result.values())
    )
