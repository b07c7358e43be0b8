"""Every number of the demo's summary and report, read back after the day: the instructions,
their answers and webhook deliveries from the Flex Market API (the SO's and the provider's
views), what each asset delivered from the agent's dispatch records, the price curves and the
power limit from the Energy Coordination API's events, the fleet's hourly energy from the
reports the agent sent (and the platform accepted), compensation from
``GET /users/{userId}/compensation``, webhook deliveries from both APIs' delivery logs. The one
number that is not read back is the "before": the same devices left alone
(:mod:`flexhub.demo.baseline`)."""

from __future__ import annotations

import asyncio
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from flexhub.demo.scenario import Played
from flexhub.wire.flexmarket.values import parse_instant


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass
class Instruction:
    name: str
    id: str
    start: datetime
    end: datetime
    requested_mw: float
    status: str
    reason: str | None
    stopped_at: datetime | None
    deliveries: int  # dispatch_instruction.created notifications delivered to the provider
    inbox: int  # times the agent stored it
    agent_state: str | None
    delivered_kwh: float
    run_hours: float  # from the start to the end or the stop

    @property
    def delivered_mw(self) -> float:
        return self.delivered_kwh / 1000 / self.run_hours if self.run_hours > 0 else 0.0


@dataclass
class Curve:
    event_id: str
    neighbourhood: str
    hours: list[datetime]
    delta: list[float]
    resources: list[str]
    before_kwh: list[float]  # the targeted resources under their own control
    after_kwh: list[float]  # as reported by the agent (EnergyUsage)
    report_accepted: bool

    def moved(self) -> tuple[float, float]:
        """(kWh moved out of hours with a positive delta, kWh moved into hours with a
        negative one)."""
        rows = list(zip(self.before_kwh, self.after_kwh, self.delta, strict=True))
        out = sum(b - a for b, a, d in rows if d > 0)
        into = sum(a - b for b, a, d in rows if d < 0)
        return out, into


@dataclass
class Limit:
    event_id: str
    location_id: str
    hours: list[datetime]
    limit_kw: list[float]
    load_kwh: list[float]  # the LocationEnergyUsage report, hour by hour
    acknowledged: bool  # the agent's acknowledgement accepted, the operator sees it
    state: str  # the target's state as the operator reads it
    requested: bool  # the operator's own request (else raised by the forecast)

    @property
    def compliant(self) -> bool:
        return len(self.load_kwh) == len(self.hours) and all(
            kwh <= kw + 1e-6 for kwh, kw in zip(self.load_kwh, self.limit_kw, strict=True)
        )


@dataclass
class Deliveries:
    api: str
    total: int
    succeeded: int
    p50_ms: float
    p99_ms: float


@dataclass
class Figures:
    instructions: list[Instruction]
    curves: list[Curve]
    limits: list[Limit]
    compensation: dict[str, dict[str, float]]  # partner -> currency -> amount (active)
    compensated_users: int
    deliveries: list[Deliveries]
    messages: list[dict[str, Any]]
    rejected_webhooks: float
    timings: dict[str, float] = field(default_factory=dict)

    def by_name(self, name: str) -> Instruction:
        return next(i for i in self.instructions if i.name == name)

    def moved(self) -> tuple[float, float]:
        out = sum(c.moved()[0] for c in self.curves)
        into = sum(c.moved()[1] for c in self.curves)
        return out, into

    def problems(self) -> list[str]:
        """The flows that did not happen (empty: every one did)."""
        out = []
        if not self.instructions:
            out.append("no dispatch instruction")
        for i in self.instructions:
            if i.deliveries != 1 or i.inbox != 1:
                out.append(f"{i.name}: delivered {i.deliveries}x, stored {i.inbox}x")
        for i in self.instructions:
            wanted = ("rejected",) if i.name == "oversized" else ("accepted", "completed")
            if i.status not in wanted:
                out.append(f"{i.name}: {i.status}, expected {' or '.join(wanted)}")
        ev = [i for i in self.instructions if i.name == "evening"]
        if ev and (ev[0].stopped_at is None or ev[0].agent_state != "done"):
            out.append("the evening instruction was not stopped and released")
        for i in self.instructions:
            if i.status in ("accepted", "completed") and i.delivered_kwh <= 0:
                out.append(f"{i.name}: nothing delivered")
        if not self.curves:
            out.append("no price curve")
        for c in self.curves:
            if not c.report_accepted:
                out.append(f"price curve {c.event_id}: no EnergyUsage report accepted")
        out_kwh, _ = self.moved()
        if out_kwh <= 0:
            out.append("no energy moved out of strained hours")
        if not any(lim.requested for lim in self.limits):
            out.append("the operator's power limit did not reach the agent")
        for lim in self.limits:
            if not lim.acknowledged or not lim.compliant:
                out.append(f"power limit on {lim.location_id} not acknowledged and kept")
        if not any(v > 0 for per in self.compensation.values() for v in per.values()):
            out.append("no compensation")
        for d in self.deliveries:
            if d.total == 0 or d.succeeded < d.total:
                out.append(f"{d.api} webhooks: {d.succeeded} of {d.total} delivered")
        return out


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    if len(values) == 1:
        return float(values[0])
    return float(statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1])


async def _instructions(p: Played) -> list[Instruction]:
    agent = p.agent
    messages = await agent.store.messages()
    out = []
    for name, planned in p.plan.items():
        issued = next(i for i in p.record.issued if i.planned is planned)
        if issued.instruction is None:
            continue
        iid = issued.instruction.id
        seen = await p.so.get_dispatch(iid)
        created = [
            d
            for d in seen.webhook_deliveries
            if d.event == "dispatch_instruction.created" and d.status == "delivered"
        ]
        row = await agent.store.dispatch(iid)
        start, end = parse_instant(seen.start), parse_instant(seen.end)
        stop = issued.stop
        ran_to = parse_instant(stop.start) if stop is not None else end
        out.append(
            Instruction(
                name=name,
                id=iid,
                start=start,
                end=end,
                requested_mw=float(Decimal(seen.capacity)),
                status=seen.status,
                reason=seen.reason,
                stopped_at=ran_to if stop is not None else None,
                deliveries=len(created),
                inbox=sum(
                    1
                    for m in messages
                    if m["subject"] == iid and m["kind"] == "dispatch_instruction.created"
                ),
                agent_state=row["state"] if row else None,
                delivered_kwh=sum((row or {}).get("delivered", {}).values()),
                run_hours=(ran_to - start).total_seconds() / 3600,
            )
        )
    return out


def _hourly(points: list[dict[str, Any]]) -> dict[datetime, float]:
    return {_instant(pt["timestamp"]): float(pt["kiloWattHours"]) for pt in points}


async def _curves(p: Played, events: list[Any]) -> list[Curve]:
    agent = p.agent
    by_resource = {a.asset_id: h.area for h in p.fleet.homes for a in h.assets if a.resource_type}
    out = []
    for event in events:
        payload = event.payload.model_dump(mode="json")
        if payload.get("payloadType") != "PriceCurve":
            continue
        points = sorted(payload["priceCurveDelta"]["points"], key=lambda x: x["timestamp"])
        hours = [_instant(x["timestamp"]) for x in points]
        delta = [float(x["price"]) for x in points]
        resources = sorted({t["resourceId"] for t in payload["targets"]})
        reports = [
            r for r in await agent.store.reports(event.id) if r["key"].startswith("EnergyUsage")
        ]
        after: dict[datetime, float] = defaultdict(float)
        for r in reports:
            for body in r["body"]["payloads"]:
                for at, kwh in _hourly(body["points"]).items():
                    after[at] += kwh
        index = {h: k for k, h in enumerate(p.day.hours)}
        before = [
            sum(p.baseline_kwh[rid][index[h]] for rid in resources if rid in p.baseline_kwh)
            for h in hours
        ]
        area = {by_resource.get(r) for r in resources} - {None}
        out.append(
            Curve(
                event_id=event.id,
                neighbourhood=", ".join(sorted(area)),  # type: ignore[arg-type]
                hours=hours,
                delta=delta,
                resources=resources,
                before_kwh=before,
                after_kwh=[after.get(h, 0.0) for h in hours],
                report_accepted=bool(reports) and all(r["platform_id"] for r in reports),
            )
        )
    return sorted(out, key=lambda c: c.neighbourhood)


async def _limits(p: Played, events: list[Any]) -> list[Limit]:
    """Every location limit the agent was sent (the operator's, and those the forecast raised
    with the price curves), with the agent's acknowledgement, the operator's view of it and
    the location's reported load."""
    states = {
        (t["eventId"], t["locationId"]): t["state"]
        for r in await p.operator.list_lpc_requests(limit=1000)
        for t in r["targets"]
    }
    out = []
    for event in events:
        payload = event.payload.model_dump(mode="json")
        if payload.get("payloadType") != "LocationLPC":
            continue
        reports = {r["key"].split(":")[0]: r for r in await p.agent.store.reports(event.id)}
        ack = reports.get("LocationLPCAcknowledgement")
        acked = (
            {
                t["locationId"]
                for body in ((ack or {}).get("body") or {}).get("payloads", [])
                for t in body["acknowledgedTargets"]
            }
            if ack and ack["platform_id"]
            else set()
        )
        usage = reports.get("LocationEnergyUsage")
        load: dict[str, dict[datetime, float]] = defaultdict(dict)
        if usage and usage["platform_id"]:
            for body in usage["body"]["payloads"]:
                load[body["locationId"]].update(_hourly(body["points"]))
        for target in payload["targets"]:
            loc = target["locationId"]
            points = sorted(target["points"], key=lambda x: x["timestamp"])
            hours = [_instant(x["timestamp"]) for x in points]
            state = states.get((event.id, loc), "unknown")
            out.append(
                Limit(
                    event_id=event.id,
                    location_id=loc,
                    hours=hours,
                    limit_kw=[float(x["maxPowerInKiloWatts"]) for x in points],
                    load_kwh=[load[loc][h] for h in hours if h in load[loc]],
                    acknowledged=loc in acked and state == "Acknowledged",
                    state=state,
                    requested=event.id == p.lpc.event_id,
                )
            )
    return out


async def _compensation(p: Played) -> tuple[dict[str, dict[str, float]], int]:
    gate = asyncio.Semaphore(8)

    async def one(user_id: str):
        async with gate:
            return await p.ec.get_compensation(user_id)

    answers = await asyncio.gather(*(one(h.user_id) for h in p.fleet.homes))
    totals: dict[str, float] = defaultdict(float)
    paid = 0
    for answer in answers:
        amount = sum(c.activeAmount for c in answer.locationCompensations)
        for c in answer.locationCompensations:
            totals[c.currency] += c.activeAmount
        paid += amount > 0
    return {p.partners["provider"].name: dict(totals)}, paid


async def _deliveries(p: Played, events: list[Any]) -> list[Deliveries]:
    """Both APIs' webhook deliveries to the agent; latency from the event's creation to the
    agent's 2xx, on the platform's clock (Energy Coordination: its delivery log's send time
    plus the request's duration; Flex Market: what the SO robot read back)."""
    created = {e.id: e.createdAt for e in events}
    ec = [log async for log in p.ec.iter_webhook_logs()]
    ec_ok = [x for x in ec if x.responseStatusCode and 200 <= x.responseStatusCode < 300]
    ec_ms = [
        (x.notificationSent - created[x.partnerEventId]).total_seconds() * 1000
        + (x.requestDurationMs or 0)
        for x in ec_ok
        if x.partnerEventId in created
    ]
    fm = [d async for d in p.fsp.iter_deliveries()]
    fm_ms = [s * 1000 for s in p.record.latencies()]
    return [
        Deliveries(
            "Energy Coordination",
            len(ec),
            len(ec_ok),
            _percentile(ec_ms, 50),
            _percentile(ec_ms, 99),
        ),
        Deliveries(
            "Flex Market",
            len(fm),
            sum(1 for x in fm if x.succeeded),
            _percentile(fm_ms, 50),
            _percentile(fm_ms, 99),
        ),
    ]


async def collect(p: Played) -> Figures:
    events = [e async for e in p.ec.iter_events()]
    compensation, paid = await _compensation(p)
    rejected = sum(
        s.value
        for metric in p.agent.metrics.rejected.collect()
        for s in metric.samples
        if s.name.endswith("_total")
    )
    return Figures(
        instructions=await _instructions(p),
        curves=await _curves(p, events),
        limits=await _limits(p, events),
        compensation=compensation,
        compensated_users=paid,
        deliveries=await _deliveries(p, events),
        messages=await p.agent.store.messages(),
        rejected_webhooks=rejected,
        timings=dict(p.timings),
    )
