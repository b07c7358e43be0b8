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

from flexhub.clock import utcnow
from flexhub.platform.coordination import mappers
from flexhub.platform.coordination.events import create_event
from flexhub.platform.coordination.services.sim_targets import (
    PartnerData,
    location_lpc_target,
    resource_lpc_target,
)
from flexhub.platform.engines import price_curves
from flexhub.platform.errors import bad_request
from flexhub.store.coordination import EcEnrollment, EcUser
from flexhub.timeseries import HOURLY, ONE_HOUR, floor_hour, is_hourly, is_whole_hour
from flexhub.wire.coordination.events import (
    EventPayload,
    GetEventResponse,
    LocationLPCPayload,
    LPCDataPoint,
    PriceCurve,
    ResourceLPCPayload,
    UserEligibilityPayload,
)
from flexhub.wire.coordination.simulation import (
    LPCDataPointRequest,
    LPCLocationTarget,
    LPCResourceTarget,
    PriceCurveRequest,
    SimulateLocationLPCEventRequest,
    SimulatePriceCurveEventRequest,
    SimulateResourceLPCEventRequest,
)

MAX_DEFAULT_TARGETS = 500
LPC_DEFAULT_HOURS = 2

_rng = random.Random()


async def _commit_event(
    session: AsyncSession, tenant_id: str, payload: EventPayload
) -> GetEventResponse:
    event = await create_event(session, tenant_id, payload)
    await session.commit()
    return mappers.event(event)


# -- PriceCurve --------------------------------------------------------------------------------


async def simulate_price_curve(
    session: AsyncSession,
    tenant_id: str,
    req: SimulatePriceCurveEventRequest,
    rng: random.Random = _rng,
) -> GetEventResponse:
    area = req.priceArea
    if area in (None, "Unknown"):
        area = rng.choice(price_curves.PRICE_AREAS)
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
            targets.append(pair)
    delta = price_curve(req.priceCurveDelta, area, utcnow(), rng)
    return await _commit_event(session, tenant_id, price_curves.payload(area, targets, delta))


async def _default_price_targets(
    session: AsyncSession, tenant_id: str, data: PartnerData
) -> list[tuple[str, str]]:
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
                targets.append((resource.resource_id, location_id))
        if targets:
            return targets[:MAX_DEFAULT_TARGETS]
    return []


def price_curve(
    given: PriceCurveRequest | None, area: str, now: datetime, rng: random.Random
) -> PriceCurve:
    """The curve as given, completed: hourly resolution, kWh, the area's currency, and random
    prices in [-1, 1] for every hour of the area's next local day when no points are given."""
    given = given or PriceCurveRequest()
    if given.resolution is not None and not is_hourly(given.resolution):
        raise bad_request(
            f"priceCurveDelta.resolution: {given.resolution!r} is not supported; only "
            f"{HOURLY!r} is",
            "priceCurveDelta.resolution",
        )
    units = {"energy_unit": given.energyUnit, "currency": given.currency}
    if not given.points:
        return price_curves.random_delta(area, now, rng, **units)
    hours = _hours("priceCurveDelta.points", [p.timestamp for p in given.points])
    return price_curves.curve(
        area,
        [(hour, p.price) for p, hour in zip(given.points, hours, strict=True)],
        **units,
    )


def _hours(path: str, stamps: list[datetime]) -> list[datetime]:
    """The hours (UTC) of whole-hour, distinct timestamps."""
    out: list[datetime] = []
    for j, stamp in enumerate(stamps):
        if not is_whole_hour(stamp):
            raise bad_request(
                f"{path}[{j}].timestamp: {stamp.isoformat()} does not start an hour",
                f"{path}[{j}].timestamp",
            )
        hour = floor_hour(stamp)
        if hour in out:
            raise bad_request(
                f"{path}[{j}].timestamp: {hour.isoformat()} appears more than once",
                f"{path}[{j}].timestamp",
            )
        out.append(hour)
    return out


# -- UserEligibility ---------------------------------------------------------------------------


async def simulate_user_eligibility(session: AsyncSession, tenant_id: str) -> GetEventResponse:
    """The currently eligible users as ``addedUsers``; nobody's eligibility changes."""
    eligible = (
        await session.scalars(
            select(EcUser.user_id)
            .where(EcUser.tenant_id == tenant_id, EcUser.eligible.is_(True))
            .order_by(EcUser.user_id)
        )
    ).all()
    payload = UserEligibilityPayload(
        lastUpdated=utcnow(), addedUsers=list(eligible), removedUsers=[]
    )
    return await _commit_event(session, tenant_id, payload)


# -- LPC ---------------------------------------------------------------------------------------


def lpc_points(
    path: str, given: list[LPCDataPointRequest] | None, now: datetime
) -> list[LPCDataPoint]:
    """The given limits (checked, sorted) or 0 kW for each of the next two whole hours."""
    if not given:
        start = floor_hour(now) + ONE_HOUR
        hours = [start + ONE_HOUR * k for k in range(LPC_DEFAULT_HOURS)]
        return [LPCDataPoint(maxPowerInKiloWatts=0.0, timestamp=h) for h in hours]
    hours = _hours(path, [p.timestamp for p in given])
    points = [
        LPCDataPoint(maxPowerInKiloWatts=p.maxPowerInKiloWatts, timestamp=hour)
        for p, hour in zip(given, hours, strict=True)
    ]
    return sorted(points, key=lambda p: p.timestamp)


async def simulate_location_lpc(
    session: AsyncSession, tenant_id: str, req: SimulateLocationLPCEventRequest
) -> GetEventResponse:
    def resolve(data: PartnerData, path: str, item: LPCLocationTarget) -> tuple:
        spec = item.location
        target = data.location_meter(f"{path}.location", spec.locationId, spec.meterPointId)
        return target, target  # one target per (location, meter)

    return await _lpc_event(
        session,
        tenant_id,
        LocationLPCPayload,
        field="locations",
        items=req.locations,
        resolve=resolve,
        defaults=PartnerData.default_location_meters,
        build=location_lpc_target,
        what="location with a meter point id",
    )


async def simulate_resource_lpc(
    session: AsyncSession, tenant_id: str, req: SimulateResourceLPCEventRequest
) -> GetEventResponse:
    def resolve(data: PartnerData, path: str, item: LPCResourceTarget) -> tuple:
        spec = item.resource
        target = data.resource_location_meter(
            f"{path}.resource", spec.resourceId, spec.locationId, spec.meterPointId
        )
        return target[0], target  # one target per resource

    return await _lpc_event(
        session,
        tenant_id,
        ResourceLPCPayload,
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
    payload_type: type[LocationLPCPayload] | type[ResourceLPCPayload],
    *,
    field: str,
    items: list | None,
    resolve: Callable[..., tuple],
    defaults: Callable[[PartnerData], list],
    build: Callable[..., Any],
    what: str,
) -> GetEventResponse:
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
    return await _commit_event(session, tenant_id, payload_type(targets=targets))
