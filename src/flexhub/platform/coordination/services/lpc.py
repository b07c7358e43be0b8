"""Power-limit requests (``LocationLPC``, ``ResourceLPC``, ``LPCReservation``) for operators and
for the forecast, and the acknowledgement state of each target.

A request names its targets (partner, location, meter point, and the resource for
ResourceLPC; checked in full before anything is written, 400 naming the field) or a
neighbourhood, whose enrolled, eligible users' locations with a meter point (or their
resources there) are then the targets. Only enrolled users receive limits. Events: one per
partner for LocationLPC and LPCReservation, one per targeted resource for ResourceLPC (as the
program guide describes), each through ``create_event`` (outbox, same transaction).
Acknowledgement reports update the targets' states (``engines.lpc``); targets still Pending
when the deadline passes are marked Unacknowledged by :func:`mark_overdue` (the schedule loop
and every operator read run it).
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.clock import utcnow
from flexhub.platform.coordination.events import create_events
from flexhub.platform.coordination.schemas.operator_grid import (
    LpcRequestResponse,
    LpcTargetState,
    PostLpcRequest,
)
from flexhub.platform.coordination.services.sim_targets import (
    PartnerData,
    location_lpc_target,
    resource_lpc_target,
)
from flexhub.platform.coordination.services.simulation import lpc_points
from flexhub.platform.engines import day_ahead, lpc, neighbourhood_rows
from flexhub.platform.errors import bad_request, not_found
from flexhub.store.coordination import EcEnrollment, EcEvent, EcUser, Neighbourhood
from flexhub.store.grid import LpcRequest, LpcTarget
from flexhub.store.partners import Partner
from flexhub.wire.coordination.events import (
    LocationLPCPayload,
    LPCDataPoint,
    LPCReservationPayload,
    ResourceLPCPayload,
)

PAYLOADS = {
    "LocationLPC": LocationLPCPayload,
    "LPCReservation": LPCReservationPayload,
    "ResourceLPC": ResourceLPCPayload,
}
Spec = tuple[str | None, str, str]  # (resource or None, location, meter)


async def request(
    session: AsyncSession, req: PostLpcRequest, default_minutes: float, now: datetime | None = None
) -> LpcRequest:
    """Check, store and publish an operator's request; commits."""
    now = now or utcnow()
    points = lpc_points("points", req.points, now)
    if req.targets:
        by_partner = await _named_targets(session, req)
    elif req.neighbourhoodId:
        by_partner = await _neighbourhood_targets(session, req.payloadType, req.neighbourhoodId)
    else:
        raise bad_request("targets: name the targets, or a neighbourhoodId", "targets")
    if not any(by_partner.values()):
        raise bad_request(
            "neighbourhoodId: no enrolled user has a location with a meter point there",
            "neighbourhoodId",
        )
    minutes = req.acknowledgeWithinMinutes or default_minutes
    row = await publish(
        session,
        req.payloadType,
        by_partner,
        points,
        deadline=now + timedelta(minutes=minutes),
        source="operator",
        neighbourhood_id=req.neighbourhoodId,
        now=now,
    )
    await session.commit()
    return row


async def publish(
    session: AsyncSession,
    kind: str,
    by_partner: dict[str, list[Spec]],
    points: list[LPCDataPoint],
    *,
    deadline: datetime,
    source: str,
    neighbourhood_id: str | None,
    now: datetime,
) -> LpcRequest:
    """The request row, its events and its targets (the caller commits)."""
    row = LpcRequest(
        id=str(uuid.uuid4()),
        payload_type=kind,
        source=source,
        neighbourhood_id=neighbourhood_id,
        deadline=deadline,
        created_at=now,
    )
    session.add(row)
    groups: list[tuple[str, list[Spec]]] = []
    for tenant_id, specs in sorted(by_partner.items()):
        if kind == "ResourceLPC":  # one event per resource, one per partner otherwise
            groups.extend((tenant_id, [spec]) for spec in specs)
        elif specs:
            groups.append((tenant_id, specs))
    payloads = []
    for tenant_id, group in groups:
        if kind == "ResourceLPC":
            targets = [resource_lpc_target(r, loc, m, points) for r, loc, m in group]
        else:
            targets = [location_lpc_target(loc, m, points) for _r, loc, m in group]
        payloads.append((tenant_id, PAYLOADS[kind](targets=targets)))
    events = await create_events(session, payloads, created_at=now)
    position = 0
    rows = []
    for (tenant_id, group), event in zip(groups, events, strict=True):
        for resource_id, location_id, meter in group:
            rows.append(
                LpcTarget(
                    request_id=row.id,
                    position=position,
                    tenant_id=tenant_id,
                    event_id=event.id,
                    location_id=location_id,
                    meter_point_id=meter,
                    resource_id=resource_id,
                    state=lpc.PENDING,
                    updated_at=now,
                )
            )
            position += 1
    session.add_all(rows)
    await session.flush()
    return row


async def _taking_part(session: AsyncSession, tenant_id: str) -> set[str]:
    rows = await session.scalars(
        select(EcEnrollment.user_id)
        .join(
            EcUser,
            (EcUser.tenant_id == EcEnrollment.tenant_id) & (EcUser.user_id == EcEnrollment.user_id),
        )
        .where(EcEnrollment.tenant_id == tenant_id)
    )
    return set(rows.all())


async def _named_targets(session: AsyncSession, req: PostLpcRequest) -> dict[str, list[Spec]]:
    partners: dict[str, tuple[PartnerData, set[str]]] = {}
    out: dict[str, list[Spec]] = defaultdict(list)
    seen: set[tuple[str, Spec]] = set()
    for i, target in enumerate(req.targets or []):
        path = f"targets[{i}]"
        if target.partnerId not in partners:
            if await session.get(Partner, target.partnerId) is None:
                raise bad_request(
                    f"{path}.partnerId: partner {target.partnerId} does not exist",
                    f"{path}.partnerId",
                )
            partners[target.partnerId] = (
                await PartnerData.load(session, target.partnerId),
                await _taking_part(session, target.partnerId),
            )
        data, enrolled = partners[target.partnerId]
        if req.payloadType == "ResourceLPC":
            if target.resourceId is None:
                raise bad_request(
                    f"{path}.resourceId: a ResourceLPC target names a resource",
                    f"{path}.resourceId",
                )
            spec: Spec = data.resource_location_meter(
                path, target.resourceId, target.locationId, target.meterPointId
            )
        else:
            if target.locationId is None:
                raise bad_request(
                    f"{path}.locationId: a {req.payloadType} target names a location",
                    f"{path}.locationId",
                )
            if target.resourceId is not None:
                raise bad_request(
                    f"{path}.resourceId: a {req.payloadType} target is a location, not a resource",
                    f"{path}.resourceId",
                )
            location_id, meter = data.location_meter(path, target.locationId, target.meterPointId)
            spec = (None, location_id, meter)
        user_id = data.locations[spec[1]].user_id
        if user_id not in enrolled:
            raise bad_request(
                f"{path}: user {user_id} is not enrolled; only enrolled users receive limits",
                path,
            )
        if (target.partnerId, spec) in seen:
            raise bad_request(f"{path}: this target is listed more than once", path)
        seen.add((target.partnerId, spec))
        out[target.partnerId].append(spec)
    return out


async def _neighbourhood_targets(
    session: AsyncSession, kind: str, neighbourhood_id: str
) -> dict[str, list[Spec]]:
    row = await session.get(Neighbourhood, neighbourhood_id)
    if row is None:
        raise bad_request(
            f"neighbourhoodId: neighbourhood {neighbourhood_id} does not exist", "neighbourhoodId"
        )
    placement = await day_ahead.place(session, await neighbourhood_rows.placement(session))
    return placement_targets(kind, placement, neighbourhood_id)


def placement_targets(
    kind: str, placement: day_ahead.Placement, area_id: str
) -> dict[str, list[Spec]]:
    """The targets of a limit on a whole neighbourhood: its enrolled, eligible locations with
    a meter point (their first), or for ResourceLPC their resources there (a resource's own
    meter point when the location has it)."""
    out: dict[str, list[Spec]] = {}
    for tenant_id, sites in placement.sites.get(area_id, {}).items():
        meters = {loc: ms for loc, ms in sites if ms}
        if kind == "ResourceLPC":
            specs = []
            for resource_id, location_id in sorted(set(placement.targets[area_id][tenant_id])):
                if location_id not in meters:
                    continue
                own = placement.resource_meters.get((tenant_id, resource_id))
                meter = own if own in meters[location_id] else meters[location_id][0]
                specs.append((resource_id, location_id, meter))
        else:
            specs = [(None, loc, ms[0]) for loc, ms in sorted(meters.items())]
        if specs:
            out[tenant_id] = specs
    return out


async def apply_acknowledgements(
    session: AsyncSession,
    event: EcEvent,
    payloads: Sequence[dict[str, Any]],
    report_id: str,
    now: datetime,
) -> int:
    """Update the event's targets from a report's acknowledgement payloads; returns how many
    changed (the caller commits)."""
    answers = lpc.answers(event.payload_type, payloads)
    if not answers:
        return 0
    rows = await session.execute(
        select(LpcTarget, LpcRequest.deadline)
        .join(LpcRequest, LpcRequest.id == LpcTarget.request_id)
        .where(LpcTarget.tenant_id == event.tenant_id, LpcTarget.event_id == event.id)
    )
    changed = 0
    for target, deadline in rows.all():
        key = (target.resource_id, target.location_id, target.meter_point_id)
        answer = answers.get(key)
        if answer is None:
            continue
        state = lpc.next_state(target.state, answer, deadline, now)
        if state != target.state:
            target.state = state
            target.report_id = report_id
            target.updated_at = now
            changed += 1
    return changed


async def mark_overdue(session: AsyncSession, now: datetime | None = None) -> int:
    """Pending targets past their request's deadline become Unacknowledged; commits."""
    now = now or utcnow()
    overdue = select(LpcRequest.id).where(LpcRequest.deadline < now)
    result = await session.execute(
        update(LpcTarget)
        .where(LpcTarget.state == lpc.PENDING, LpcTarget.request_id.in_(overdue))
        .values(state=lpc.UNACKNOWLEDGED, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    await session.commit()
    return result.rowcount or 0


def response(row: LpcRequest, targets: Iterable[LpcTarget]) -> LpcRequestResponse:
    targets = sorted(targets, key=lambda t: t.position)
    counts = Counter({state: 0 for state in lpc.STATES})
    counts.update(t.state for t in targets)
    return LpcRequestResponse(
        id=row.id,
        payloadType=row.payload_type,
        source=row.source,
        neighbourhoodId=row.neighbourhood_id,
        deadline=row.deadline,
        createdAt=row.created_at,
        eventIds=list(dict.fromkeys(t.event_id for t in targets)),
        counts=dict(counts),
        targets=[
            LpcTargetState(
                partnerId=t.tenant_id,
                eventId=t.event_id,
                locationId=t.location_id,
                meterPointId=t.meter_point_id,
                resourceId=t.resource_id,
                state=t.state,
                reportId=t.report_id,
                updatedAt=t.updated_at,
            )
            for t in targets
        ],
    )


async def get(session: AsyncSession, request_id: str) -> LpcRequestResponse:
    await mark_overdue(session)
    row = await session.get(LpcRequest, request_id)
    if row is None:
        raise not_found(f"LPC request '{request_id}'")
    targets = await session.scalars(select(LpcTarget).where(LpcTarget.request_id == row.id))
    return response(row, targets.all())


async def recent(session: AsyncSession, limit: int = 100) -> list[LpcRequestResponse]:
    await mark_overdue(session)
    rows = (
        await session.scalars(
            select(LpcRequest).order_by(LpcRequest.created_at.desc(), LpcRequest.id).limit(limit)
        )
    ).all()
    by_request: dict[str, list[LpcTarget]] = defaultdict(list)
    if rows:
        found = await session.scalars(
            select(LpcTarget).where(LpcTarget.request_id.in_([r.id for r in rows]))
        )
        for target in found.all():
            by_request[target.request_id].append(target)
    return [response(r, by_request[r.id]) for r in rows]


def hourly_points(hours: Sequence[datetime], max_kw: float) -> list[LPCDataPoint]:
    return [
        LPCDataPoint(maxPowerInKiloWatts=kw, timestamp=hour)
        for hour, kw in lpc.limit_points(hours, max_kw)
    ]
