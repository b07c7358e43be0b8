"""The agent's decision engine: device models (``devices``) and the schedulers that answer price
curves and power limits for a whole fleet: :class:`Optimizer` (``optimizer``), built from the
fleet as arrays (``stack``), the EV knapsack (``knapsack``), the chain dynamic programme for
single stores (``chain``), the LPs of coupled locations (``lp``), the reasons for unmet
targets (``explain``) and the worker processes they run in (``pool``)."""

from flexhub.agent.optimize.optimizer import Optimizer

__all__ = ["Optimizer"]
