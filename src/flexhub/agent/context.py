"""What every part of a running agent shares: its store, fleet, clients, policy, metrics and
clock (built by ``runtime.Agent``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from flexhub.agent.drivers import PowerSchedule
from flexhub.agent.fleet import Fleet
from flexhub.agent.inbox import AgentStore
from flexhub.agent.observe import Metrics
from flexhub.agent.policy import Policy
from flexhub.clients import CoordinationClient, FlexMarketProviderClient
from flexhub.clock import Clock


@dataclass
class Context:
    store: AgentStore
    fleet: Fleet
    metrics: Metrics
    clock: Clock
    policy: Policy
    zone: str = "UTC"
    ec: CoordinationClient | None = None
    fm: FlexMarketProviderClient | None = None
    # asset id -> (event id, the schedule sent to its driver, the price per step): the latest
    # price-curve schedule, for the dashboard
    schedules: dict[str, tuple[str, PowerSchedule, list[float]]] = field(default_factory=dict)

    def now(self) -> datetime:
        return self.clock.now()

    def ts(self, when: datetime | None = None) -> float:
        """Epoch seconds of ``when`` (default: the clock's now), the jobs' time."""
        return (when or self.clock.now()).timestamp()


def from_ts(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)
