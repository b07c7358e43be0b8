"""What every benchmark hands to the one table of ``make bench``: a :class:`Figure` is one
measured value beside the bare reference measured in the same run (a bare HTTP hop, a bare
POST loop, a trivial PostgreSQL commit, a plain numpy pass...), so that a figure from a busy
machine still says something: the ratio.

A benchmark module under ``bench/`` that takes part in the table defines
``figures(quick: bool) -> list[Figure]`` (``quick``: the smaller size of ``make bench-quick``)
and keeps its own ``main()`` for running it alone. ``free_port`` and ``percentile`` are the
small helpers they all use.
"""

from __future__ import annotations

import socket
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Figure:
    name: str  # what was measured, e.g. "signed deliveries, 2 workers"
    value: float
    unit: str  # "ms", "/s", "s", "MB"...
    reference: str  # the bare reference, e.g. "bare aiohttp POST loop"
    reference_value: float
    higher_is_better: bool = False  # throughput: True; latency, time, memory: False
    target: str = ""  # the target in words, e.g. "≥ 5,000/s and ≥ 50 % of bare"

    @property
    def ratio(self) -> float | None:
        """value / reference (``None`` when the reference is zero)."""
        if not self.reference_value:
            return None
        return self.value / self.reference_value

    def as_dict(self) -> dict:
        return {**asdict(self), "ratio": self.ratio}


def free_port() -> int:
    """A loopback TCP port free at the moment of asking."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values`` by rank (NaN when there are none)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else float("nan")
