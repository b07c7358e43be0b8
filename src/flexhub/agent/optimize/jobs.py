"""What the optimizer's worker processes run: the chain DP and knapsack of chunks of the fleet,
the chain DP of devices under a cap and the LP of a chunk of coupled locations, each reading a
call's entry of ``SHARED`` (set before the workers are forked, so nothing big is pickled).

The chain and knapsack jobs write their schedules to the entry's ``power`` (anonymous shared
memory when the workers are processes, see :func:`shared_zeros`); the capped and LP jobs
return theirs (small; after a time-out the caller writes the LP's fallback in its place, which
a late worker must not overwrite)."""

from __future__ import annotations

import itertools
import logging
import mmap
import time

import numpy as np

from flexhub.agent.optimize import chain, explain, knapsack, lp

log = logging.getLogger(__name__)

# What the worker processes read, by call (``next(CALLS)``), set before they are forked at the
# pool's first job: the problem, prices, dt, the per-device caps, the overload price, the
# horizon and ``power``, where the chain and knapsack jobs write their schedules. Each call has
# its own entry, so calls from several threads do not mix (see ``optimizer.py``).
SHARED: dict[int, dict] = {}
CALLS = itertools.count()


def shared_zeros(shape: tuple[int, int]) -> np.ndarray:
    """A zero float array in anonymous shared memory: what a forked worker writes to it, the
    parent sees (an anonymous ``mmap`` is shared across ``fork``)."""
    size = max(int(np.prod(shape)), 1) * 8
    return np.frombuffer(mmap.mmap(-1, size), dtype=float, count=int(np.prod(shape))).reshape(shape)


def chain_job(key: int, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The chain DP of ``rows`` under their caps, written to the call's ``power``; returns the
    masks of the rows solved and of those that miss a soft limit (``explain.missed``: here,
    while the chunk is in the cache, not over the whole fleet in the caller)."""
    s = SHARED[key]
    a = s["problem"].stores.rows(rows)
    power, ok = chain.solve(a, s["prices"], s["dt"], s["cap"][rows], s["big"])
    _put(s["power"], rows, power)
    return ok, explain.missed(a, power, s["dt"])


def capped_job(key: int, rows: np.ndarray, cap: np.ndarray):
    """The chain DP of ``rows`` under ``cap``: (power, mask of rows solved)."""
    s = SHARED[key]
    return chain.solve(s["problem"].stores.rows(rows), s["prices"], s["dt"], cap, s["big"])


def knapsack_job(key: int, rows: np.ndarray) -> np.ndarray:
    """The knapsack of ``rows``, written to ``power``; returns the mask of those that miss a
    soft limit."""
    s = SHARED[key]
    a = s["problem"].stores.rows(rows)
    power = knapsack.solve(a, s["prices"], s["dt"], s["cap"][rows])
    _put(s["power"], rows, power)
    return explain.missed(a, power, s["dt"])


def lp_job(key: int, work: list[tuple[np.ndarray, np.ndarray, np.ndarray]], deadline: float):
    """For each (sites, rows, extra) of ``work``: the optimal power of the devices ``rows`` at
    ``sites`` (whose other devices draw ``extra`` there), or None if no optimum came before
    ``deadline`` (``time.monotonic``)."""
    return [_lp(key, sites, rows, extra, deadline) for sites, rows, extra in work]


def _lp(key: int, sites: np.ndarray, rows: np.ndarray, extra: np.ndarray, deadline: float):
    s = SHARED[key]
    left = deadline - time.monotonic()
    if left <= 0:
        return None
    try:
        block = s["problem"].block(sites, rows, extra)
        power, _ = lp.solve(block, s["prices"], s["dt"], s["big"], left)
    except Exception:
        log.exception("HiGHS failed on a chunk of locations")
        return None
    return power


def _put(power: np.ndarray, rows: np.ndarray, values: np.ndarray) -> None:
    if len(rows) and rows[-1] - rows[0] + 1 == len(rows):  # one ascending run: a slice
        power[int(rows[0]) : int(rows[-1]) + 1] = values
    else:
        power[rows] = values
