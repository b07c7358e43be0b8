"""What a policy is asked and what it answers: a :class:`ScheduleRequest` (the horizon, the
price per step, the resources behind each meter and the power limits on each location) and a
:class:`ScheduleResult` (a schedule for every controllable resource, and the targets it leaves
unmet, each with its shortfall and reason). ``flexhub.agent.policy`` re-exports them with the
``Policy`` protocol; they live here so that the optimizer can build its answers without an
import cycle (``policy`` imports the device models of this package).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from flexhub.agent.optimize.devices import Device, FixedLoad, Horizon, LinearStore, store_of


@dataclass(frozen=True)
class Resource:
    resource_id: str
    location_id: str
    device: Device


@dataclass
class ScheduleRequest:
    horizon: Horizon
    prices: np.ndarray  # per step, per kWh drawn (the price-curve delta, plus spot if known)
    resources: Sequence[Resource]
    # kW the whole location may draw per step (an LPC); NaN or missing = no limit
    location_limits: Mapping[str, np.ndarray] = field(default_factory=dict)
    outdoor_temperature: np.ndarray | None = None  # °C per step, for heat pumps

    def stores(self) -> dict[str, LinearStore]:
        """The linear form of every controllable resource, by resource id."""
        return {
            r.resource_id: store_of(r.device, self.horizon, self.outdoor_temperature)
            for r in self.resources
            if not isinstance(r.device, FixedLoad)
        }

    def limit(self, location_id: str) -> np.ndarray:
        """The location's limit per step (``inf`` where there is none)."""
        raw = self.location_limits.get(location_id)
        if raw is None:
            return np.full(self.horizon.steps, np.inf)
        values = np.asarray(raw, dtype=float)
        return np.where(np.isnan(values), np.inf, values)


@dataclass(frozen=True)
class UnmetTarget:
    resource_id: str
    target: str  # e.g. "energy by departure", "comfort band", "location limit"
    shortfall: float
    unit: str
    reason: str


@dataclass
class ScheduleResult:
    power_kw: dict[str, np.ndarray]  # by resource id, per step (controllable resources)
    unmet: list[UnmetTarget] = field(default_factory=list)
    cost: float = 0.0  # of the controllable resources' energy at the request's prices
    solver: str = ""

    def energy_kwh(self, resource_id: str, dt: float) -> np.ndarray:
        return self.power_kw[resource_id] * dt
