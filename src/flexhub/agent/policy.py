"""The interface between the agent and whatever decides what its devices draw: a policy takes
a :class:`ScheduleRequest` (the horizon, the price per step, the resources behind each meter
and the power limits on each location) and returns a :class:`ScheduleResult` with a schedule
for every controllable resource, always: a target that cannot be met is reported in
``unmet`` with its shortfall and reason, never by failing.

:class:`RuleBasedPolicy` is the simple stand-in: each device on its own, charging or heating
in the cheapest steps it may use, then every location's limit enforced by scaling down.
``flexhub.agent.optimize`` provides the optimizing policy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

import numpy as np

from flexhub.agent.optimize.devices import Controllable, FixedLoad, LinearStore
from flexhub.agent.optimize.schedule import (  # the request and the answer, re-exported
    Resource,
    ScheduleRequest,
    ScheduleResult,
    UnmetTarget,
)

__all__ = [
    "Policy",
    "Resource",
    "RuleBasedPolicy",
    "ScheduleRequest",
    "ScheduleResult",
    "UnmetTarget",
    "controllable",
    "location_load",
    "report_unmet",
]


class Policy(Protocol):
    def schedule(self, request: ScheduleRequest) -> ScheduleResult: ...


def location_load(
    request: ScheduleRequest, power: Mapping[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Each location's total draw per step: its scheduled and its fixed resources."""
    total: dict[str, np.ndarray] = {}
    for r in request.resources:
        if isinstance(r.device, FixedLoad):
            p = r.device.profile(request.horizon)
        else:
            p = power[r.resource_id]
        total[r.location_id] = total.get(r.location_id, 0) + p
    return total


def report_unmet(
    request: ScheduleRequest,
    stores: Mapping[str, LinearStore],
    power: Mapping[str, np.ndarray],
    reasons: Mapping[str, str] | None = None,
) -> list[UnmetTarget]:
    """The soft targets each schedule misses (the worst miss of each resource), and the
    locations a schedule leaves above their limit."""
    out: list[UnmetTarget] = []
    dt = request.horizon.dt
    for rid, store in stores.items():
        misses = store.shortfalls(store.trajectory(power[rid], dt))
        if misses:
            worst = max(miss for _, miss in misses)
            reason = (reasons or {}).get(rid, "the hard limits of the device leave no room")
            out.append(UnmetTarget(rid, store.target, round(float(worst), 6), store.unit, reason))
    for location_id, load in location_load(request, power).items():
        over = float(np.max(load - request.limit(location_id), initial=0.0))
        if over > 1e-6:
            out.append(
                UnmetTarget(
                    location_id,
                    "location limit",
                    round(float(over), 6),
                    "kW",
                    "uncontrolled load alone exceeds the limit",
                )
            )
    return out


class RuleBasedPolicy:
    """Each device alone: storage devices fill up to what their soft targets ask in the
    cheapest steps they may draw in (batteries stay idle); then every location above its limit
    is scaled down step by step. Simple and safe, not optimal."""

    name = "rules"

    def schedule(self, request: ScheduleRequest) -> ScheduleResult:
        h = request.horizon
        stores = request.stores()
        prices = np.asarray(request.prices, dtype=float)
        power = {rid: self._alone(store, prices, h.dt) for rid, store in stores.items()}
        self._within_limits(request, stores, power)
        cost = float(
            sum(
                float(np.dot(np.maximum(p, 0) - np.maximum(-p, 0), prices)) * h.dt
                for p in power.values()
            )
        )
        return ScheduleResult(
            power_kw=power,
            unmet=report_unmet(request, stores, power),
            cost=cost,
            solver=self.name,
        )

    @staticmethod
    def _alone(store: LinearStore, prices: np.ndarray, dt: float) -> np.ndarray:
        """Draw in the cheapest steps first until every soft low target is met."""
        n = len(prices)
        power = np.zeros(n)
        if store.gain_in <= 0:
            return power
        for k in np.argsort(prices, kind="stable"):
            states = store.trajectory(power, dt)
            if not any(limit.step > k and states[limit.step] < limit.low for limit in store.soft):
                continue
            x = states[k]
            power[k] = store.feasible_power(int(k), x, float(store.p_max[k]), dt)
            # drawing more than the targets need later is wasted: trim to the largest deficit
            after = store.trajectory(power, dt)
            excess = min(
                (after[s.step] - s.low for s in store.soft if s.step > k and s.low > -np.inf),
                default=0.0,
            )
            if excess > 0:
                gain = store.gain_in * dt * float(np.prod(store.decay[k + 1 :]))
                power[k] = max(0.0, power[k] - excess / max(gain, 1e-9))
        return power

    @staticmethod
    def _within_limits(
        request: ScheduleRequest,
        stores: Mapping[str, LinearStore],
        power: dict[str, np.ndarray],
    ) -> None:
        by_location: dict[str, list[str]] = {}
        for r in request.resources:
            if r.resource_id in stores:
                by_location.setdefault(r.location_id, []).append(r.resource_id)
        loads = location_load(request, power)
        for location_id, rids in by_location.items():
            limit = request.limit(location_id)
            over = loads[location_id] - limit
            for k in np.nonzero(over > 0)[0]:
                drawing = sum(max(power[rid][k], 0.0) for rid in rids)
                if drawing <= 0:
                    continue
                keep = max(0.0, 1 - over[k] / drawing)
                for rid in rids:
                    if power[rid][k] > 0:
                        power[rid][k] *= keep


def controllable(resources: Sequence[Resource]) -> list[tuple[str, Controllable]]:
    return [(r.resource_id, r.device) for r in resources if not isinstance(r.device, FixedLoad)]
