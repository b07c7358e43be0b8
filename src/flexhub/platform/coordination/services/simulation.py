"""Sandbox simulation of events: PriceCurve, UserEligibility, LocationLPC and ResourceLPC events
built from the request or, where it leaves things out, from the partner's own data.

Simulated events are real events: stored, listed by ``/events`` and delivered to the partner's
webhooks through ``create_event`` (same transaction as the event, then the outbox worker).
The simulated UserEligibility event changes nobody's eligibility.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.platform.coordination.events import create_event, iso
from flexhub.platform.coordination.schemas.events import (
    LPCDataPoint,
    LPCLocationTarget,
    LPCResourceTarget,
    PriceCurve,
    SimulateLocationLPCEventRequest,
    SimulatePriceCurveEventRequest,
    SimulateResourceLPCEventRequest,
)
from flexhub.platform.coordination.services.sim_targets import (
    PartnerData,
    location_lpc_target,
    resource_lpc_target,
)
from flexhub.platform.errors import bad_request
from flexhub.store.base import utcnow
from flexhub.store.coordination import EcEnrollment, EcEvent, EcUser
from flexhub.timeseries import (
    HOURLY,
    ONE_HOUR,
    PRICE_AREA_CURRENCIES,
    floor_hour,
    is_hourly,
    is_whole_hour,
    local_day_hours,
    next_local_day,
    zone_for,
)

REAL_AREAS = tuple(PRICE_AREA_CURRENCIES)
MAX_DEFAULT_TARGETS = 500
LPC_DEFAULT_HOURS = 2

_rng = random.Random()


async def _commit_event(session: AsyncSession, tenant_id: str, payload: dict) -> EcEvent:
    event = await create_event(session, tenant_id, payload)
    await session.commit()
    return event


# -- PriceCurve --------------------------------------------------------------------------------


async def simulate_price_curve(
    session: AsyncSession,
    tenant_id: str,
    req: SimulatePriceCurveEventRequest,
    rng: random.Random = _rng,
) -> EcEvent:
    area = req.priceArea if req.priceArea not in (None, "Unknown") else rng.choice(REAL_AREAS)
    data = await PartnerData.load(session, tenant_id)
    if req.targets is None:
        targets = await _default_price_targets(session, tenant_id, data)
    else:
        targets = []
        seen: set[tuple[str, str]] = set()
        for i, target in enumerate(req.targets):
            pair = data.price_target(f"targets[{i}]", target.resourceId, target.locationId)
            if pair in seen:
                raise bad_request(f"targets[{i}]: this target is listed more than once", "targets")
            seen.add(pair)
            targets.append({"resourceId": pair[0], "locationId": pair[1]})
    curve = price_curve(req.priceCurveDelta, area, utcnow(), rng)
    payload = {
        "targets": targets,
        "priceCurveDelta": curve,
        "priceArea": area,
        "payloadType": "PriceCurve",
    }
    return await _commit_event(session, tenant_id, payload)


async def _default_price_targets(
    session: AsyncSession, tenant_id: str, data: PartnerData
) -> list[dict[str, str]]:
    """The enrolled users' resources (vehicles at their user's first location); failing that,
    the partner's simulated resources; failing that, none."""
    enrolled = set(
        (
            await session.scalars(
                select(EcEnrollment.user_id).where(EcEnrollment.tenant_id == tenant_id)
            )
        ).all()
    )
    for wanted in (lambda r: r.user_id in enrolled, lambda r: r.simulated):
        targets = []
        for resource in data.resources.values():
            location_id = data.home_of(resource)
            if wanted(resource) and location_id is not None:
                targets.append({"resourceId": resource.resource_id, "locationId": location_id})
        if targets:
            return targets[:MAX_DEFAULT_TARGETS]
    return []


def price_curve(
    given: PriceCurve | None, area: str, now: datetime, rng: random.Random
) -> dict[str, Any]:
    """The curve as given, completed: hourly resolution, kWh, the area's currency, and random
    prices in [-1, 1] for every hour of the area's next local day when no points are given."""
    given = given or PriceCurve()
    if given.resolution is not None and not is_hourly(given.resolution):
        raise bad_request(
            f"priceCurveDelta.resolution: {given.resolution!r} is not supported; only "
            f"{HOURLY!r} is",
            "priceCurveDelta.resolution",
        )
    if given.points:
        stamps = _hour_stamps("priceCurveDelta.points", [p.timestamp for p in given.points])
        points = sorted(
            ({"price": p.price, "timestamp": s} for p, s in zip(given.points, stamps, strict=True)),
            key=lambda p: p["timestamp"],
        )
    else:
        hours = local_day_hours(next_local_day(now, zone_for(area)), zone_for(area))
        points = [{"price": round(rng.uniform(-1, 1), 4), "timestamp": iso(h)} for h in hours]
    return {
        "points": points,
        "energyUnit": given.energyUnit or "kWh",
        "currency": given.currency or PRICE_AREA_CURRENCIES[area],
        "resolution": HOURLY,
    }


def _hour_stamps(path: str, stamps: list[datetime]) -> list[str]:
    """Checked ISO strings (UTC) of whole-hour, distinct timestamps."""
    out: list[str] = []
    for j, stamp in enumerate(stamps):
        if not is_whole_hour(stamp):
            raise bad_request(
                f"{path}[{j}].timestamp: {stamp.isoformat()} does not start an hour",
                f"{path}[{j}].timestamp",
            )
        text = iso(floor_hour(stamp))
        if text in out:
            raise bad_request(
                f"{path}[{j}].timestamp: {text} appears more than once", f"{path}[{j}].timestamp"
            )
        out.append(text)
    return out


# -- UserEligibility ---------------------------------------------------------------------------


async def simulate_user_eligibility(session: AsyncSession, tenant_id: str) -> EcEvent:
    """The currently eligible users as ``addedUsers``; nobody's eligibility changes."""
    eligible = (
        await session.scalars(
            select(EcUser.user_id)
            .where(EcUser.tenant_id == tenant_id, EcUser.eligible.is_(True))
            .order_by(EcUser.user_id)
        )
    ).all()
    payload = {
        "lastUpdated": iso(utcnow()),
        "addedUsers": list(eligible),
        "removedUsers": [],
        "payloadType": "UserEligibility",
    }
    return await _commit_event(session, tenant_id, payload)


# -- LPC ---------------------------------------------------------------------------------------


def lpc_points(path: str, given: list[LPCDataPoint] | None, now: datetime) -> list[dict]:
    """The given limits (checked, sorted) or 0 kW for each of the next two whole hours."""
    if not given:
        start = floor_hour(now) + ONE_HOUR
        hours = [start + ONE_HOUR * k for k in range(LPC_DEFAULT_HOURS)]
        return [{"maxPowerInKiloWatts": 0.0, "timestamp": iso(h)} for h in hours]
    stamps = _hour_stamps(path, [p.timestamp for p in given])
    points = [
        {"maxPowerInKiloWatts": p.maxPowerInKiloWatts, "timestamp": s}
        for p, s in zip(given, stamps, strict=True)
    ]
    return sorted(points, key=lambda p: p["timestamp"])


async def simulate_location_lpc(
    session: AsyncSession, tenant_id: str, req: SimulateLocationLPCEventRequest
) -> EcEvent:
    def resolve(data: PartnerData, path: str, item: LPCLocationTarget) -> tuple:
        spec = item.location
        target = data.location_meter(f"{path}.location", spec.locationId, spec.meterPointId)
        return target, target  # one target per (location, meter)

    return await _lpc_event(
        session,
        tenant_id,
        "LocationLPC",
        field="locations",
        items=req.locations,
        resolve=resolve,
        defaults=PartnerData.default_location_meters,
        build=location_lpc_target,
        what="location with a meter point id",
    )


async def simulate_resource_lpc(
    session: AsyncSession, tenant_id: str, req: SimulateResourceLPCEventRequest
) -> EcEvent:
    def resolve(data: PartnerData, path: str, item: LPCResourceTarget) -> tuple:
        spec = item.resource
        target = data.resource_location_meter(
            f"{path}.resource", spec.resourceId, spec.locationId, spec.meterPointId
        )
        return target[0], target  # one target per resource

    return await _lpc_event(
        session,
        tenant_id,
        "ResourceLPC",
        field="resources",
        items=req.resources,
        resolve=resolve,
        defaults=PartnerData.default_resource_meters,
        build=resource_lpc_target,
        what="resource at a location with a meter point id",
    )


async def _lpc_event(
    session: AsyncSession,
    tenant_id: str,
    payload_type: str,
    *,
    field: str,
    items: list | None,
    resolve: Callable[..., tuple],
    defaults: Callable[[PartnerData], list],
    build: Callable[..., dict],
    what: str,
) -> EcEvent:
    """An LPC event with a target per item the request lists under ``field`` (``resolve``
    checks it: ``(identity, target)``; an identity may appear once), or, when it lists none,
    one per default target of the partner; ``build(*target, points)`` makes each."""
    data = await PartnerData.load(session, tenant_id)
    now = utcnow()
    targets = []
    seen: set = set()
    for i, item in enumerate(items or []):
        path = f"{field}[{i}]"
        identity, target = resolve(data, path, item)
        if identity in seen:
            raise bad_request(f"{path}: this target is listed more than once", path)
        seen.add(identity)
        targets.append(build(*target, lpc_points(f"{path}.points", item.points, now)))
    if not items:
        for target in defaults(data)[:MAX_DEFAULT_TARGETS]:
            targets.append(build(*target, lpc_points("", None, now)))
        if not targets:
            raise bad_request(
                f"{field}: you have no {what} to limit; add one (or POST /simulation/partner) "
                "or list the targets",
                field,
            )
    return await _commit_event(
        session, tenant_id, {"targets": targets, "payloadType": payload_type}
    )
