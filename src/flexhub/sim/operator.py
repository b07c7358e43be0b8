"""The system operator robot: it plays an SO on the Flex Market API through
:class:`~flexhub.clients.FlexMarketOperatorClient` (signing with the SO's own key when the
client has one).

It opens a competition whose one service window runs around the clock, awards an obligation
on a provider's assets, then issues the planned dispatch instructions on the schedule of a
:class:`~flexhub.clock.Clock` (a ``ScaledClock`` plays a day in a minute), stops the ones
planned to stop early, and records what happened: each instruction's id, what the provider
answered, and how long each webhook about it took to be delivered (read back from
``GET /so/v1/dispatches/{id}/``, on the platform's own timestamps).

The platform keeps the wall time, and a scaled clock runs ahead of it, so instruction times
taken from the clock are in the platform's future; the competition's bidding dates are taken
from the wall (they must lie in the platform's past).
"""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from flexhub.clients import ApiError, FlexMarketOperatorClient
from flexhub.clock import Clock, utcnow
from flexhub.wire.flexmarket.common import DAYS
from flexhub.wire.flexmarket.competitions import CompetitionOut
from flexhub.wire.flexmarket.dispatches import (
    InstructionOut,
    SoInstructionOut,
    WebhookDeliveryOut,
)
from flexhub.wire.flexmarket.obligations import ObligationOut
from flexhub.wire.flexmarket.values import iso, parse_instant

COMPLETE = ("delivered", "failed", "cancelled")
ANSWER_POLL_SECONDS = 0.1


@dataclass(frozen=True)
class PlannedInstruction:
    """Issued ``at`` after the robot starts (clock time), for ``capacity`` MW from
    ``start_in`` after issuing, for ``duration``; stopped ``stop_after`` after its start."""

    at: timedelta
    capacity: Decimal
    start_in: timedelta = timedelta(hours=1)
    duration: timedelta = timedelta(hours=1)
    stop_after: timedelta | None = None


def day_plan(capacity: Decimal, *, too_much: Decimal | None = None) -> list[PlannedInstruction]:
    """A day of an SO: morning and evening instructions of ``capacity`` MW, an afternoon one
    stopped half an hour into its two hours, and, with ``too_much``, one asking that much
    (more than the provider's fleet can deliver, for it to reject)."""
    plan = [
        PlannedInstruction(timedelta(hours=6), capacity),
        PlannedInstruction(
            timedelta(hours=12),
            capacity / 2,
            duration=timedelta(hours=2),
            stop_after=timedelta(minutes=30),
        ),
        PlannedInstruction(timedelta(hours=16), capacity),
    ]
    if too_much is not None:
        plan.append(PlannedInstruction(timedelta(hours=18), too_much))
    return sorted(plan, key=lambda p: p.at)


@dataclass(frozen=True)
class Delivery:
    event: str
    status: str
    attempts: int
    latency_seconds: float | None  # from the event to the provider's 2xx, platform time


@dataclass
class Issued:
    planned: PlannedInstruction
    instruction: InstructionOut | None = None
    refused: str | None = None  # the API's reason when it refused to issue
    stop: InstructionOut | None = None
    stop_refused: str | None = None  # the API's reason when it refused the stop
    status: str | None = None  # read back: what became of it
    reason: str | None = None  # the provider's reason for a rejection
    deliveries: list[Delivery] = field(default_factory=list)


@dataclass
class OperatorRecord:
    competition: CompetitionOut
    obligation: ObligationOut
    issued: list[Issued] = field(default_factory=list)

    @property
    def instruction_ids(self) -> list[str]:
        return [i.instruction.id for i in self.issued if i.instruction is not None]

    def statuses(self) -> Counter[str]:
        return Counter(i.status or "refused" for i in self.issued)

    def latencies(self) -> list[float]:
        return [
            d.latency_seconds
            for i in self.issued
            for d in i.deliveries
            if d.status == "delivered" and d.latency_seconds is not None
        ]

    def latency_percentiles(self) -> tuple[float, float] | None:
        """p50 and p99 of the delivered webhooks' latency, seconds (None without any)."""
        values = sorted(self.latencies())
        if not values:
            return None
        if len(values) == 1:
            return values[0], values[0]
        cuts = statistics.quantiles(values, n=100, method="inclusive")
        return cuts[49], cuts[98]


def _latency(
    delivery: WebhookDeliveryOut, detail: SoInstructionOut, stop: InstructionOut | None
) -> float | None:
    """Seconds from the event (the instruction's or the stop's creation, or the expiry) to
    the provider's 2xx, both on the platform's clock."""
    if delivery.status != "delivered" or delivery.completed_at is None:
        return None
    since = {
        "dispatch_instruction.created": detail.created,
        "dispatch_instruction.stopped": stop.created if stop is not None else None,
        "dispatch_instruction.expired": detail.respond_by,
    }.get(delivery.event)
    if since is None:
        return None
    return (parse_instant(delivery.completed_at) - parse_instant(since)).total_seconds()


class OperatorRobot:
    def __init__(
        self,
        client: FlexMarketOperatorClient,
        clock: Clock,
        *,
        need_direction: str = "deficit",
        currency: str = "GBP",
        answer_wait: float = 30.0,
    ) -> None:
        self.client = client
        self.clock = clock
        self.answer_wait = answer_wait
        self.need_direction = need_direction
        self.currency = currency

    async def open_competition(
        self, days: int = 7, name: str = "Flexibility day"
    ) -> CompetitionOut:
        """A competition over ``days`` from yesterday (clock time), one window open around the
        clock every day, bidding already closed."""
        today = self.clock.now().date()
        hour = f"{self.clock.now().hour:02d}:00:00"
        wall = utcnow().replace(microsecond=0)
        return await self.client.create_competition(
            {
                "ref": f"sim-{uuid.uuid4().hex[:8]}",
                "name": name,
                "need_direction": self.need_direction,
                "power_type": "active",
                "currency": self.currency,
                "postcodes": ["SW1A"],
                "bidding_open": iso(wall - timedelta(days=3)),
                "bidding_close": iso(wall - timedelta(days=2)),
                "service_periods": [
                    {
                        "name": "Simulated days",
                        "start": str(today - timedelta(days=1)),
                        "end": str(today + timedelta(days=days)),
                        "service_windows": [
                            {
                                "name": "Around the clock",
                                "start_time": hour,
                                "end_time": hour,  # at or before the start: runs past midnight
                                "service_days": list(DAYS),
                                "bank_holidays": "included",
                            }
                        ],
                    }
                ],
            }
        )

    async def award(
        self,
        competition: CompetitionOut,
        provider_id: str,
        asset_ids: list[str],
        capacity: Decimal,
        *,
        max_runtime: str = "04:00:00",
    ) -> ObligationOut:
        """An obligation over the competition's first service period and window."""
        period = competition.service_periods[0]
        window = period.service_windows[0]
        return await self.client.award_obligation(
            {
                "competition_id": competition.id,
                "provider": provider_id,
                "bid_id": f"bid-{uuid.uuid4().hex[:8]}",
                "service_window_id": window.id,
                "start": period.start,
                "end": period.end,
                "capacity": str(capacity),
                "need_direction": self.need_direction,
                "max_runtime": max_runtime,
                "rates": [
                    {"type": "availability", "value": "10.00"},
                    {"type": "utilisation", "value": "250.00"},
                ],
                "assets": {"flex": asset_ids, "planned": []},
            }
        )

    def window_origin(self, competition: CompetitionOut) -> datetime:
        """The start of the competition's first (around-the-clock, UTC) service window that
        holds the clock's now: the plan is laid out from there, so that no instruction of a
        day's plan crosses into the next window."""
        window = competition.service_periods[0].service_windows[0]
        hour, minute, second = (int(part) for part in window.start_time.split(":"))
        now = self.clock.now()
        origin = now.replace(hour=hour, minute=minute, second=second, microsecond=0)
        return origin if origin <= now else origin - timedelta(days=1)

    async def run(
        self,
        obligation: ObligationOut,
        competition: CompetitionOut,
        plan: list[PlannedInstruction],
        *,
        origin: datetime | None = None,
    ) -> OperatorRecord:
        """Issue the plan on the clock's schedule from ``origin`` (default
        :meth:`window_origin`) and stop what is planned to stop; return when every planned
        instruction is issued and every planned stop made.

        Times come from the plan, not from when the robot got round to it: an instruction is
        for ``origin + at + start_in``, a stop for ``start + stop_after``. A fast clock may
        leave them in the clock's past by the time they are sent; the platform judges them
        on the wall clock, which a scaled clock is ahead of."""
        record = OperatorRecord(competition, obligation)
        origin = origin or self.window_origin(competition)
        stops: list[asyncio.Task[None]] = []
        for planned in sorted(plan, key=lambda p: p.at):
            await self.clock.sleep_until(origin + planned.at)
            issued = await self._issue(obligation, origin + planned.at + planned.start_in, planned)
            record.issued.append(issued)
            if issued.instruction is not None and planned.stop_after is not None:
                stops.append(asyncio.create_task(self._stop_later(issued)))
        await asyncio.gather(*stops)
        return record

    async def _issue(
        self, obligation: ObligationOut, start: datetime, planned: PlannedInstruction
    ) -> Issued:
        issued = Issued(planned)
        try:
            issued.instruction = await self.client.issue_dispatch(
                obligation.id,
                start=start,
                end=start + planned.duration,
                capacity=planned.capacity,
                need_direction=self.need_direction,
            )
        except ApiError as exc:
            issued.refused = exc.detail
        return issued

    async def _stop_later(self, issued: Issued) -> None:
        """At ``start + stop_after``, once the provider has answered (an SO stops what it
        relies on; it waits at most ``answer_wait`` wall seconds), stop the instruction from
        that moment."""
        assert issued.instruction is not None and issued.planned.stop_after is not None
        at = parse_instant(issued.instruction.start) + issued.planned.stop_after
        await self.clock.sleep_until(at)
        await self._until_answered(issued.instruction)
        try:
            issued.stop = await self.client.stop_dispatch(issued.instruction, start=at)
        except ApiError as exc:
            issued.stop_refused = exc.detail

    async def _until_answered(self, instruction: InstructionOut) -> None:
        """Wait (wall time) until the provider answered, at most ``answer_wait`` seconds."""
        deadline = time.monotonic() + self.answer_wait
        while time.monotonic() < deadline:
            if (await self.client.get_dispatch(instruction.id)).status != "pending":
                return
            await asyncio.sleep(ANSWER_POLL_SECONDS)

    async def read_back(
        self, record: OperatorRecord, *, wait_seconds: float = 0.0
    ) -> OperatorRecord:
        """Fill in each instruction's status, the provider's reason and its webhook
        deliveries. With ``wait_seconds`` (wall time), read again until every instruction has
        been answered and each of its webhooks delivered or given up, or the time is over."""
        deadline = time.monotonic() + wait_seconds
        while True:
            settled = True
            for issued in record.issued:
                if issued.instruction is not None:
                    settled &= await self._read(issued)
            if settled or time.monotonic() >= deadline:
                return record
            await asyncio.sleep(0.2)

    async def _read(self, issued: Issued) -> bool:
        """One read of the instruction (and of its stop: the ``stopped`` event is about the
        stop instruction); True once it is answered and its webhooks are settled."""
        assert issued.instruction is not None
        detail = await self.client.get_dispatch(issued.instruction.id)
        issued.status, issued.reason = detail.status, detail.reason
        notes = list(detail.webhook_deliveries)
        if issued.stop is not None:
            notes += (await self.client.get_dispatch(issued.stop.id)).webhook_deliveries
        issued.deliveries = [
            Delivery(d.event, d.status, d.attempts, _latency(d, detail, issued.stop)) for d in notes
        ]
        answered = detail.status != "pending"
        settled = all(d.status in COMPLETE for d in issued.deliveries)
        return answered and bool(issued.deliveries) and settled


async def play_day(
    client: FlexMarketOperatorClient,
    clock: Clock,
    *,
    provider_id: str,
    asset_ids: list[str],
    capacity: Decimal,
    plan: list[PlannedInstruction] | None = None,
    wait_seconds: float = 10.0,
    answer_wait: float = 30.0,
) -> OperatorRecord:
    """Open, award, issue the plan (default :func:`day_plan`), read back."""
    robot = OperatorRobot(client, clock, answer_wait=answer_wait)
    competition = await robot.open_competition()
    obligation = await robot.award(competition, provider_id, asset_ids, capacity)
    record = await robot.run(obligation, competition, plan or day_plan(capacity))
    return await robot.read_back(record, wait_seconds=wait_seconds)


__all__ = [
    "Delivery",
    "Issued",
    "OperatorRecord",
    "OperatorRobot",
    "PlannedInstruction",
    "day_plan",
    "play_day",
]
