"""What the agent asked of each asset, and which of it is in force: the part the protocol
drivers share.

The protocol servers (the CSMS, the CEM) keep one schedule per device and one cap; the driver
protocol has a setpoint, a schedule and a limit. :class:`IntentDriver` keeps the three per
asset and gives the device the strongest: a setpoint while one is held, else the schedule
while it lasts, else nothing (the device's own control). A driver subclasses it with the
three sends (:meth:`_hold`, :meth:`_follow`, :meth:`_let_go`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flexhub.agent.drivers.base import CommandResult, PowerSchedule
from flexhub.agent.optimize.devices import Horizon

_OUTCOMES = {
    "Accepted": "accepted",
    "Rejected": "rejected",
    "Queued": "pending",  # the device is offline: sent when it is back
    "Failed": "pending",  # no answer: sent again when it is back
}


@dataclass
class Intent:
    setpoint: float | None = None
    schedule: PowerSchedule | None = None
    limit: float | None = None


def horizon_of(schedule: PowerSchedule) -> Horizon:
    """A schedule as the protocol servers take it: one value per step of a :class:`Horizon`."""
    if schedule.step <= timedelta(0):
        raise ValueError("a schedule's step must be positive")
    if not schedule.kw:
        raise ValueError("a schedule has at least one step")
    return Horizon(schedule.start, len(schedule.kw), dt=schedule.step.total_seconds() / 3600)


def command_result(outcome: str, reason: str = "") -> CommandResult:
    """A protocol server's answer (its ``Outcome`` value) as the driver protocol's."""
    return CommandResult(_OUTCOMES[str(outcome)], reason)  # type: ignore[arg-type]


def worst(*results: CommandResult | None) -> CommandResult:
    """Rejected before pending before accepted (no result counts as accepted)."""
    order = {"rejected": 0, "pending": 1, "accepted": 2}
    present = [r for r in results if r is not None]
    return min(present, key=lambda r: order[r.outcome], default=CommandResult("accepted"))


class IntentDriver:
    """Setpoint over schedule over the device's own control, per asset."""

    def __init__(self) -> None:
        self._intents: dict[str, Intent] = {}

    def intent(self, asset_id: str) -> Intent:
        return self._intents.setdefault(asset_id, Intent())

    def now(self) -> datetime:
        raise NotImplementedError

    async def set_power(self, asset_id: str, kw: float | None) -> CommandResult:
        self._check(asset_id)
        intent = self.intent(asset_id)
        if kw is None:
            intent.setpoint = None
            return await self._resume(asset_id)
        try:
            result = await self._hold(asset_id, float(kw))
        except ValueError as exc:
            return CommandResult("rejected", str(exc))
        intent.setpoint = float(kw)
        return result

    async def set_schedule(self, asset_id: str, schedule: PowerSchedule | None) -> CommandResult:
        self._check(asset_id)
        intent = self.intent(asset_id)
        if schedule is not None:
            try:
                horizon_of(schedule)
            except ValueError as exc:
                return CommandResult("rejected", str(exc))
        intent.schedule = schedule
        if intent.setpoint is not None:
            kept = "kept" if schedule is not None else "cleared"
            return CommandResult("accepted", f"{kept}: a setpoint holds until it is released")
        return await self._resume(asset_id)

    async def _resume(self, asset_id: str) -> CommandResult:
        """Give the device the schedule if it still runs, else hand it back."""
        intent = self.intent(asset_id)
        schedule = intent.schedule
        if schedule is not None and schedule.end > self.now():
            try:
                return await self._follow(asset_id, schedule)
            except ValueError as exc:
                return CommandResult("rejected", str(exc))
        intent.schedule = None
        return await self._let_go(asset_id)

    # --- what a driver provides ----------------------------------------------------------

    def _check(self, asset_id: str) -> None:
        """Raise :class:`~flexhub.agent.drivers.base.DriverError` for an unknown asset."""
        raise NotImplementedError

    async def _hold(self, asset_id: str, kw: float) -> CommandResult:
        raise NotImplementedError

    async def _follow(self, asset_id: str, schedule: PowerSchedule) -> CommandResult:
        raise NotImplementedError

    async def _let_go(self, asset_id: str) -> CommandResult:
        """No setpoint and no schedule: the device back on its own control."""
        raise NotImplementedError
