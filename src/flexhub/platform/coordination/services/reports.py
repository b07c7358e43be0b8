"""Reports: a partner's answer to one of its events (energy usage, usage plans, LPC
acknowledgements).

Rules, checked in full before anything is written: the event must be the caller's; there is
at least one payload; each payload fits the event's type and names only the event's targets;
the resolution is one hour (the only one supported); timestamps start whole UTC hours and do not
repeat within a curve. Payloads are stored normalised (the document's payloadType spelling,
``curvePoints`` folded into ``points``, UTC timestamps).
"""

from __future__ import annotations

import uuid
from datetime import UTC
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flexhub.clock import utcnow
from flexhub.platform.coordination import mappers
from flexhub.platform.coordination.services import lpc
from flexhub.platform.engines import lpc as lpc_engine
from flexhub.platform.errors import ApiError, bad_request
from flexhub.store.coordination import EcEvent, EcReport
from flexhub.timeseries import HOURLY, is_hourly, is_whole_hour
from flexhub.wire.coordination.reports import (
    SPELLINGS,
    EnergyCurvePoint,
    EnergyUsageReportPayload,
    GetReportResponse,
    LocationEnergyUsagePlanReportPayload,
    LocationEnergyUsageReportPayload,
    LocationLPCAcknowledgmentReportPayload,
    PostReportRequest,
    ResourceLPCAcknowledgmentReportPayload,
)

# Which event payload types each report payload type answers.
FITS = {
    "EnergyUsage": ("PriceCurve", "ResourceLPC"),
    "LocationEnergyUsage": ("LocationLPC", "LPCReservation"),
    "LocationEnergyUsagePlan": ("LocationLPC", "LPCReservation"),
    "ResourceLPCAcknowledgement": ("ResourceLPC",),
    "LocationLPCAcknowledgement": ("LocationLPC", "LPCReservation"),
}


def _fail(path: str, message: str) -> ApiError:
    return bad_request(f"{path}: {message}", path)


async def post_report(
    session: AsyncSession, tenant_id: str, req: PostReportRequest
) -> GetReportResponse:
    if not req.eventId:
        raise _fail("eventId", "is required: a report answers one of your events")
    event = await session.scalar(
        select(EcEvent).where(EcEvent.tenant_id == tenant_id, EcEvent.id == req.eventId)
    )
    if event is None:
        raise _fail("eventId", f"event {req.eventId} is not one of your events")
    if not req.payloads:
        raise _fail("payloads", "at least one payload is required")
    stored = [_check(f"payloads[{i}]", p, event) for i, p in enumerate(req.payloads)]
    report = EcReport(
        id=str(uuid.uuid4()),
        tenant_id=tenant_id,
        event_id=event.id,
        payloads=stored,
        created_at=utcnow(),
    )
    session.add(report)
    if event.payload_type in lpc_engine.KINDS:
        await lpc.apply_acknowledgements(session, event, stored, report.id, report.created_at)
    await session.commit()
    return mappers.report(report)


def _check(path: str, payload: Any, event: EcEvent) -> dict[str, Any]:
    kind = SPELLINGS.get(payload.payloadType, payload.payloadType)
    if event.payload_type not in FITS[kind]:
        raise _fail(
            f"{path}.payloadType",
            f"a {kind} report does not answer a {event.payload_type} event "
            f"(it answers {' or '.join(FITS[kind])} events)",
        )
    targets = list(event.payload.get("targets") or [])
    if isinstance(payload, EnergyUsageReportPayload):
        return _energy_usage(path, payload, event, targets)
    if isinstance(payload, LocationEnergyUsageReportPayload | LocationEnergyUsagePlanReportPayload):
        _resolution(path, payload.resolution)
        _location_target(path, payload.locationId, payload.meterPointId, event, targets)
        out = {
            "payloadType": kind,
            "locationId": payload.locationId,
            "meterPointId": payload.meterPointId,
            "resolution": HOURLY,
        }
        if isinstance(payload, LocationEnergyUsageReportPayload):
            out["points"] = _curve(f"{path}.points", payload.points, required=True)
        else:
            out["baseline"] = _curve(f"{path}.baseline", payload.baseline, required=True)
            out["flexibility"] = _curve(f"{path}.flexibility", payload.flexibility, required=False)
        return out
    if isinstance(payload, ResourceLPCAcknowledgmentReportPayload):
        keys = ("resourceId", "locationId", "meterPointId")
    elif isinstance(payload, LocationLPCAcknowledgmentReportPayload):
        keys = ("locationId", "meterPointId")
    else:  # pragma: no cover - the discriminated union admits nothing else
        raise _fail(f"{path}.payloadType", "is not a known report payload type")
    return _acknowledgement(path, kind, payload, keys, event, targets)


def _energy_usage(
    path: str, payload: EnergyUsageReportPayload, event: EcEvent, targets: list[dict]
) -> dict[str, Any]:
    _resolution(path, payload.resolution)
    points, field = payload.points, "points"
    if payload.curvePoints:
        if points and points != payload.curvePoints:
            raise _fail(
                f"{path}.curvePoints",
                "give either points or the deprecated curvePoints, not both",
            )
        points, field = payload.curvePoints, "curvePoints"
    curve = _curve(f"{path}.{field}", points, required=True)
    mine = [t for t in targets if t.get("resourceId") == payload.resourceId]
    if not mine:
        raise _fail(
            f"{path}.resourceId",
            f"resource {payload.resourceId} is not a target of event {event.id}",
        )
    location_id = payload.locationId
    if location_id is not None:
        mine = [t for t in mine if t.get("locationId") == location_id]
        if not mine:
            raise _fail(
                f"{path}.locationId",
                f"event {event.id} does not target resource {payload.resourceId} "
                f"at location {location_id}",
            )
    elif len({t.get("locationId") for t in mine}) == 1:
        location_id = mine[0].get("locationId")
    meter = payload.meterPointId
    if (
        meter is not None
        and event.payload_type == "ResourceLPC"
        and all(t.get("meterPointId") != meter for t in mine)
    ):
        raise _fail(
            f"{path}.meterPointId",
            f"meter point {meter} is not the one event {event.id} targets for resource "
            f"{payload.resourceId}",
        )
    return {
        "payloadType": "EnergyUsage",
        "resourceId": payload.resourceId,
        "locationId": location_id,
        "meterPointId": payload.meterPointId,
        "points": curve,
        "resolution": HOURLY,
    }


def _acknowledgement(
    path: str,
    kind: str,
    payload: ResourceLPCAcknowledgmentReportPayload | LocationLPCAcknowledgmentReportPayload,
    keys: tuple[str, ...],
    event: EcEvent,
    targets: list[dict],
) -> dict[str, Any]:
    lists = {
        "acknowledgedTargets": payload.acknowledgedTargets or [],
        "declinedTargets": payload.declinedTargets or [],
    }
    if not any(lists.values()):
        raise _fail(
            f"{path}.acknowledgedTargets",
            "list at least one target in acknowledgedTargets or declinedTargets",
        )
    seen: set[tuple[str, ...]] = set()
    out: dict[str, Any] = {"payloadType": kind}
    for name, items in lists.items():
        out[name] = []
        for j, item in enumerate(items):
            where = f"{path}.{name}[{j}]"
            wanted = {k: getattr(item, k) for k in keys}
            candidates = targets
            for key in keys:  # name the first field that matches no target
                candidates = [t for t in candidates if t.get(key) == wanted[key]]
                if not candidates:
                    raise _fail(
                        f"{where}.{key}",
                        f"{_describe(wanted, keys)} is not a target of event {event.id}",
                    )
            identity = tuple(wanted[k] for k in keys)
            if identity in seen:
                raise _fail(where, f"{_describe(wanted, keys)} is listed more than once")
            seen.add(identity)
            out[name].append(wanted)
    return out


def _describe(wanted: dict[str, str], keys: tuple[str, ...]) -> str:
    return "the target " + ", ".join(f"{k} {wanted[k]}" for k in keys)


def _location_target(
    path: str, location_id: str, meter_point_id: str, event: EcEvent, targets: list[dict]
) -> None:
    mine = [t for t in targets if t.get("locationId") == location_id]
    if not mine:
        raise _fail(
            f"{path}.locationId", f"location {location_id} is not a target of event {event.id}"
        )
    if all(t.get("meterPointId") != meter_point_id for t in mine):
        raise _fail(
            f"{path}.meterPointId",
            f"meter point {meter_point_id} is not targeted at location {location_id} "
            f"by event {event.id}",
        )


def _resolution(path: str, resolution: str) -> None:
    if not is_hourly(resolution):
        raise _fail(
            f"{path}.resolution",
            f"{resolution!r} is not supported; only hourly resolution {HOURLY!r} is",
        )


def _curve(
    path: str, points: list[EnergyCurvePoint] | None, *, required: bool
) -> list[dict[str, Any]]:
    if not points:
        if required:
            raise _fail(path, "at least one point is required")
        return []
    seen = set()
    out = []
    for j, point in enumerate(points):
        if not is_whole_hour(point.timestamp):
            raise _fail(
                f"{path}[{j}].timestamp",
                f"{point.timestamp.isoformat()} does not start an hour; report hourly values "
                "at the start of each UTC hour",
            )
        stamp = point.timestamp.astimezone(UTC).isoformat()
        if stamp in seen:
            raise _fail(f"{path}[{j}].timestamp", f"{stamp} appears more than once")
        seen.add(stamp)
        out.append({"timestamp": stamp, "kiloWattHours": point.kiloWattHours})
    return out
