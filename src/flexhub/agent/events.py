"""Energy Coordination events: price curves and power limits (LPC), and the reports they call
for.

- ``PriceCurve``: the targeted resources the agent runs get a schedule for the curve's day from
  the policy (a :class:`ScheduleRequest` over the curve's hours, the delta as the price, each
  asset's device model at its current state of charge), sent to their drivers; their meters are
  read on every hour of the day, and after it an ``EnergyUsage`` report (kWh per UTC hour per
  resource, the event's id) goes to the outbox.
- ``LocationLPC`` / ``LPCReservation`` / ``ResourceLPC``: acknowledged at once (the targets
  the agent runs assets for acknowledged, the others declined: ``LocationLPCAcknowledgement``
  or ``ResourceLPCAcknowledgement``), then every point's limit is enforced on the target's
  assets (``set_limit``, split by their import limits after what fixed loads draw) and lifted
  at the end; after the window a ``LocationEnergyUsage`` (or, for resources, ``EnergyUsage``)
  report follows.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from flexhub.agent.context import Context, from_ts
from flexhub.agent.drivers import AssetSpec, PowerSchedule
from flexhub.agent.inventory import device_model
from flexhub.agent.optimize.devices import FixedLoad, Horizon
from flexhub.agent.policy import Resource, ScheduleRequest
from flexhub.timeseries import HOURLY, ONE_HOUR, floor_hour, parse_resolution
from flexhub.wire.coordination.reports import LOCATION_ACK, RESOURCE_ACK

log = logging.getLogger(__name__)


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class EventHandler:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._policy_turn = asyncio.Lock()

    async def on_event(self, event_id: str, payload: dict[str, Any]) -> str:
        kind = payload.get("payloadType")
        if kind == "PriceCurve":
            return await self.price_curve(event_id, payload)
        if kind in ("LocationLPC", "LPCReservation", "ResourceLPC"):
            return await self.lpc(event_id, payload)
        return f"nothing to do for a {kind} event"

    # --- price curves -------------------------------------------------------------------------

    async def price_curve(self, event_id: str, payload: dict[str, Any]) -> str:
        ctx = self.ctx
        curve = payload.get("priceCurveDelta") or {}
        points = sorted(curve.get("points") or [], key=lambda p: p["timestamp"])
        if not points:
            return "a price curve without points"
        step = parse_resolution(curve.get("resolution") or HOURLY)
        start = _instant(points[0]["timestamp"])
        end = _instant(points[-1]["timestamp"]) + step
        if end <= ctx.now():
            return "the curve's day is over"
        targets = [
            (spec, t["locationId"])
            for t in payload.get("targets") or []
            for spec in ctx.fleet.by_resource.get(t["resourceId"], [])
        ]
        if not targets:
            return "no targeted resource is one of the agent's"
        horizon = Horizon.between(start, end, dt=step.total_seconds() / 3600, zone=ctx.zone)
        prices = np.zeros(horizon.steps)
        for p in points:
            k = horizon.index(_instant(p["timestamp"]))
            if k < horizon.steps:
                prices[k] = float(p["price"])
        resources = []
        for spec, location in targets:
            soc = (await ctx.fleet.driver(spec.asset_id).read_state(spec.asset_id)).soc
            resources.append(
                Resource(spec.asset_id, location, device_model(spec, start, ctx.zone, soc))
            )
        # the policy computes for a while on large fleets: off the event loop, one request at a
        # time (events are processed side by side; the optimizer is safe to call from two
        # threads, but both would share the same cores and fork each other's pages: one at a
        # time answers the first request sooner and the second no later, see its docstring)
        request = ScheduleRequest(horizon, prices, resources)
        async with self._policy_turn:
            result = await asyncio.to_thread(ctx.policy.schedule, request)
        for spec, _ in targets:
            kw = result.power_kw.get(spec.asset_id)
            if kw is None:  # a fixed load: nothing to schedule
                continue
            schedule = PowerSchedule(start, step, [float(v) for v in kw])
            await ctx.fleet.driver(spec.asset_id).set_schedule(spec.asset_id, schedule)
            ctx.schedules[spec.asset_id] = (event_id, schedule, [float(p) for p in prices])
            ctx.metrics.actions.labels("set_schedule").inc()
        for miss in result.unmet:
            log.info(
                "unmet: %s %s short by %s %s (%s)",
                miss.resource_id,
                miss.target,
                miss.shortfall,
                miss.unit,
                miss.reason,
            )
        await self._plan_metering(
            event_id,
            [s for s, _ in targets],
            start,
            end,
            (
                "energy_report",
                {"event": event_id, "start": start.timestamp(), "end": end.timestamp()},
            ),
        )
        return f"scheduled {len(targets)} resources with {result.solver}"

    # --- power limits -------------------------------------------------------------------------

    async def lpc(self, event_id: str, payload: dict[str, Any]) -> str:
        ctx = self.ctx
        per_resource = payload["payloadType"] == "ResourceLPC"
        acknowledged, declined, windows = [], [], []
        for target in payload.get("targets") or []:
            if per_resource:
                ident = {k: target[k] for k in ("resourceId", "locationId", "meterPointId")}
                specs = ctx.fleet.by_resource.get(target["resourceId"], [])
            else:
                ident = {k: target[k] for k in ("locationId", "meterPointId")}
                specs = ctx.fleet.by_location.get(target["locationId"], [])
            if not specs:
                declined.append(ident)
                continue
            acknowledged.append(ident)
            windows.append((target, specs))
        kind = RESOURCE_ACK if per_resource else LOCATION_ACK
        await ctx.store.add_report(
            f"{kind}:{event_id}",
            event_id,
            {
                "eventId": event_id,
                "payloads": [
                    {
                        "payloadType": kind,
                        "acknowledgedTargets": acknowledged,
                        "declinedTargets": declined,
                    }
                ],
            },
        )
        ctx.metrics.actions.labels("acknowledge").inc()
        if payload["payloadType"] == "LPCReservation":
            return f"acknowledged {len(acknowledged)}, declined {len(declined)} (a reservation)"
        jobs = []
        first, last = None, None
        metered: list[AssetSpec] = []
        for target, specs in windows:
            step = parse_resolution(target.get("resolution") or HOURLY)
            key = target.get("resourceId") or target["locationId"]
            points = sorted(target.get("points") or [], key=lambda p: p["timestamp"])
            for i, point in enumerate(points):
                at = _instant(point["timestamp"])
                jobs.append(
                    (
                        f"lpc:{event_id}:{key}:{i}",
                        "apply_limit",
                        at.timestamp(),
                        {
                            "assets": [s.asset_id for s in specs],
                            "max_kw": float(point["maxPowerInKiloWatts"]),
                        },
                    )
                )
                first = at if first is None else min(first, at)
            if points:
                end = _instant(points[-1]["timestamp"]) + step
                last = end if last is None else max(last, end)
                jobs.append(
                    (
                        f"lpc-lift:{event_id}:{key}",
                        "apply_limit",
                        end.timestamp(),
                        {"assets": [s.asset_id for s in specs], "max_kw": None},
                    )
                )
            metered.extend(specs)
        await ctx.store.add_jobs(jobs)
        if first is not None and last is not None and last > ctx.now():
            report = {
                "event": event_id,
                "start": floor_hour(first).timestamp(),
                "end": last.timestamp(),
                "targets": [self._target_ids(t) for t, _ in windows],
                "per_resource": per_resource,
            }
            await self._plan_metering(
                event_id, metered, floor_hour(first), last, ("lpc_report", report)
            )
        return f"acknowledged {len(acknowledged)}, declined {len(declined)}"

    @staticmethod
    def _target_ids(target: dict[str, Any]) -> dict[str, str]:
        return {k: target[k] for k in ("resourceId", "locationId", "meterPointId") if k in target}

    async def apply_limit(self, asset_ids: Sequence[str], max_kw: float | None) -> None:
        """Share a location's (or resource's) limit among its controllable assets, after what
        its fixed loads draw; ``None`` lifts it."""
        ctx = self.ctx
        specs = [ctx.fleet.specs[a] for a in asset_ids if a in ctx.fleet.specs]
        if max_kw is None:
            for s in specs:
                await ctx.fleet.driver(s.asset_id).set_limit(s.asset_id, None)
            log.info("limit lifted on %s", ", ".join(asset_ids))
            return
        now = ctx.now()
        fixed = [s for s in specs if isinstance(device_model(s, now, ctx.zone), FixedLoad)]
        controlled = [s for s in specs if s not in fixed]
        base = 0.0
        for s in fixed:
            base += max((await ctx.fleet.driver(s.asset_id).read_state(s.asset_id)).power_kw, 0.0)
        room = max(max_kw - base, 0.0)
        weights = [max(s.max_import_kw, 1e-9) for s in controlled]
        for s, w in zip(controlled, weights, strict=True):
            await ctx.fleet.driver(s.asset_id).set_limit(s.asset_id, room * w / sum(weights))
            ctx.metrics.actions.labels("set_limit").inc()
        log.info("limit %.3f kW on %s (fixed loads %.3f kW)", max_kw, ", ".join(asset_ids), base)

    # --- metering and reports -----------------------------------------------------------------

    async def _plan_metering(
        self,
        event_id: str,
        specs: Iterable[AssetSpec],
        start: datetime,
        end: datetime,
        report: tuple[str, dict[str, Any]],
    ) -> None:
        assets = sorted({s.asset_id for s in specs})
        hours = int(round((end - start) / ONE_HOUR))
        jobs = [
            (
                f"sample:{event_id}:{k}",
                "sample",
                (start + k * ONE_HOUR).timestamp(),
                {
                    "event": event_id,
                    "hour": k,
                    "assets": assets,
                    "at": (start + k * ONE_HOUR).timestamp(),
                },
            )
            for k in range(hours + 1)
        ]
        kind, body = report
        jobs.append(
            (f"{kind}:{event_id}", kind, end.timestamp() + 1e-3, {**body, "assets": assets})
        )
        await self.ctx.store.add_jobs(jobs)

    async def sample(
        self, event_id: str, hour: int, assets: Sequence[str], at: float | None = None
    ) -> None:
        """The meters on the hour: at ``at`` where the driver keeps readings on the hour
        (``read_meter_at``), else now."""
        readings = []
        when = from_ts(at) if at is not None else None
        for asset_id in assets:
            driver = self.ctx.fleet.driver(asset_id)
            if when is not None and hasattr(driver, "read_meter_at"):
                reading = await driver.read_meter_at(asset_id, when)
            else:
                reading = await driver.read_meter(asset_id)
            readings.append((asset_id, reading.import_kwh, reading.export_kwh))
        await self.ctx.store.add_samples(event_id, hour, readings)

    async def _hourly(
        self, event_id: str, start: float, end: float
    ) -> dict[str, list[tuple[datetime, float]]]:
        """asset id -> [(UTC hour start, kWh drawn)], from the hourly samples."""
        samples = await self.ctx.store.samples(event_id)
        t0 = from_ts(start)
        hours = int(round((end - start) / 3600))
        out: dict[str, list[tuple[datetime, float]]] = {}
        for asset_id, by_hour in samples.items():
            out[asset_id] = [
                (t0 + timedelta(hours=k), round(max(by_hour[k + 1] - by_hour[k], 0.0), 6))
                for k in range(hours)
                if k in by_hour and k + 1 in by_hour
            ]
        return out

    async def energy_report(
        self, event_id: str, start: float, end: float, assets: Sequence[str]
    ) -> None:
        hourly = await self._hourly(event_id, start, end)
        payloads = []
        for resource_id, specs in sorted(self._by_resource(assets).items()):
            points = _sum_points(hourly.get(s.asset_id, []) for s in specs)
            if points:
                payloads.append(
                    {
                        "payloadType": "EnergyUsage",
                        "resourceId": resource_id,
                        "locationId": specs[0].location_id,
                        "resolution": HOURLY,
                        "points": points,
                    }
                )
        if payloads:
            await self.ctx.store.add_report(
                f"EnergyUsage:{event_id}", event_id, {"eventId": event_id, "payloads": payloads}
            )

    async def lpc_report(
        self,
        event_id: str,
        start: float,
        end: float,
        assets: Sequence[str],
        targets: Sequence[dict[str, str]],
        per_resource: bool,
    ) -> None:
        hourly = await self._hourly(event_id, start, end)
        payloads = []
        for target in targets:
            if per_resource:
                specs = self.ctx.fleet.by_resource.get(target["resourceId"], [])
            else:
                specs = self.ctx.fleet.by_location.get(target["locationId"], [])
            points = _sum_points(hourly.get(s.asset_id, []) for s in specs)
            if not points:
                continue
            if per_resource:
                payloads.append(
                    {"payloadType": "EnergyUsage", **target, "resolution": HOURLY, "points": points}
                )
            else:
                payloads.append(
                    {
                        "payloadType": "LocationEnergyUsage",
                        "locationId": target["locationId"],
                        "meterPointId": target["meterPointId"],
                        "resolution": HOURLY,
                        "points": points,
                    }
                )
        if payloads:
            kind = "EnergyUsage" if per_resource else "LocationEnergyUsage"
            await self.ctx.store.add_report(
                f"{kind}:{event_id}", event_id, {"eventId": event_id, "payloads": payloads}
            )

    def _by_resource(self, assets: Sequence[str]) -> dict[str, list[AssetSpec]]:
        out: dict[str, list[AssetSpec]] = {}
        for a in assets:
            spec = self.ctx.fleet.specs.get(a)
            if spec and spec.resource_id:
                out.setdefault(spec.resource_id, []).append(spec)
        return out


def _sum_points(curves: Iterable[list[tuple[datetime, float]]]) -> list[dict[str, Any]]:
    total: dict[datetime, float] = {}
    for curve in curves:
        for at, kwh in curve:
            total[at] = total.get(at, 0.0) + kwh
    return [
        {"timestamp": at.isoformat(), "kiloWattHours": round(v, 6)}
        for at, v in sorted(total.items())
    ]
