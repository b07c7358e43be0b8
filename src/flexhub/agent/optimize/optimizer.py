"""The agent's optimizing policy: a schedule for every controllable resource of a request,
minimising the cost of its energy at the request's prices plus the penalties of missed soft
limits, within every hard limit and every location's limit (broken only where nothing can keep
it, and then reported), always with an answer.

How a request is solved:

1. The fleet becomes arrays (``stack``): one row per device, one column per step.
2. Every device is solved alone, exactly, vectorised: EVs without V2G by the fractional
   knapsack (``knapsack``), every other store by the chain dynamic programme (``chain``). A
   location's limit is handed to its device as a cap on power when the device is alone behind
   its meter.
3. A location with a limit and several devices is coupled. If the devices' own optima keep its
   limit at every step, they are its optimum (the coupled problem only adds that limit). The
   others go to HiGHS (``lp``): one LP per chunk of locations, blocks stacked diagonally,
   chunks solved in parallel processes, each within what is left of ``time_limit``. A chunk
   without an optimum in time gets ``lp.fallback`` (own optima scaled into the limit, two-way
   devices idle), which keeps every hard limit.
4. The unmet targets and their reasons come from the final schedule (``explain``).

Measured on the 2-core development machine (24 hourly steps; per device; the machine is
shared, so figures vary by some 30 %):

====================================  ==========  =============================================
method                                 time        note
====================================  ==========  =============================================
``Device.store()`` one by one          24-210 µs   why ``stack`` builds arrays per device type
``stack`` (arrays per type)            4-6 µs      one ``attrgetter`` call a device
knapsack (EV, no V2G)                  ~1 µs       one argsort shared by the fleet
chain DP, chunks of 1,000              30-60 µs    heat pumps the most (two soft limits a step);
                                                   chunks of 250: 55-80, of 4,000: 40-70 µs;
                                                   compacting every step: 1.5x slower, every
                                                   4 steps: 15-25 % faster than never
scipy ``linprog`` per device           ~6 ms       with the tests' model built in Python
HiGHS (highspy) per device             1.7-3 ms    one model a device (``bench/optimize.py``)
HiGHS, 10 locations a model            0.5-0.6 ms  the choice for coupled locations; 1 a model:
                                                   1.5 ms, 50: 1.1 ms; presolve on: 1.5x, IPM:
                                                   2.5-4x slower; a warm-started basis cuts the
                                                   iterations by 4-5x but not the time
====================================  ==========  =============================================

The arrays are built in this process, then the worker processes are forked and solve chunks
of them. Splitting the request by location instead, each worker building and solving its
share, was measured slower (100,000 resources: building the arrays took 3.8 s in the workers
against 1.4 s here, as touching the request's 150,000 Python objects in forked children copies
their pages).

The chain DP was chosen over a greedy with an optimality certificate because it is exact for
every single store (both soft bands, hard ranges, per-step caps, two-way devices) with one code
path, and over HiGHS per device because it is 30-60 times faster; its cost grows with the
number of breakpoints of the value function, ``O(N)`` a step for the thermal stores. At 100,000
resources the coupled LPs, the chain DP and building the arrays dominate, in that order (the
README has the figures of whole fleets).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from flexhub.agent.optimize import chain, explain, knapsack, lp
from flexhub.agent.optimize.devices import EV, FixedLoad, HeatPump, WaterHeater
from flexhub.agent.optimize.schedule import ScheduleRequest, ScheduleResult, UnmetTarget
from flexhub.agent.optimize.stack import StoreArrays, fixed_profiles, stack

log = logging.getLogger(__name__)
TOL = 1e-7


@dataclass
class Stats:
    knapsack: int = 0
    chain: int = 0
    lp_locations: int = 0
    lp_devices: int = 0
    fallback_locations: int = 0
    seconds: dict[str, float] = field(default_factory=dict)  # wall time of each phase

    def lap(self, phase: str, since: float) -> float:
        now = time.perf_counter()
        self.seconds[phase] = self.seconds.get(phase, 0.0) + now - since
        return now

    def __str__(self) -> str:
        text = (
            f"optimizer: knapsack {self.knapsack}, chain {self.chain}, "
            f"lp {self.lp_devices} devices at {self.lp_locations} locations"
        )
        if self.fallback_locations:
            text += f", fallback at {self.fallback_locations} locations (time limit)"
        return text


class Optimizer:
    """The :class:`~flexhub.agent.policy.Policy` that optimizes (see the module docstring).

    ``time_limit``: seconds from the call by which the LPs of coupled locations must be done
    (the vectorised exact phases before them always run; LP chunks not solved by then get the
    fallback schedule); ``workers``: processes for the chain chunks, the LPs and the reasons
    (default: the cores, at most 2; 1 = in this process), used from ``parallel_from`` devices
    on (forking costs some 10-30 ms); ``chunk``: devices per chain chunk; ``lp_chunk``:
    locations per LP.
    """

    name = "optimizer"

    def __init__(
        self,
        time_limit: float = 60.0,
        workers: int | None = None,
        chunk: int = 1000,
        lp_chunk: int = 10,
        parallel_from: int = 2000,
    ) -> None:
        self.time_limit = time_limit
        self.workers = workers if workers is not None else min(2, os.cpu_count() or 1)
        self.chunk = chunk
        self.lp_chunk = lp_chunk
        self.parallel_from = parallel_from
        self.last_stats = Stats()

    def schedule(self, request: ScheduleRequest) -> ScheduleResult:
        prices = np.asarray(request.prices, dtype=float)
        if prices.shape != (request.horizon.steps,) or not np.isfinite(prices).all():
            raise ValueError("prices need one finite value per step of the horizon")
        for loc, limit in request.location_limits.items():
            if np.shape(limit) != (request.horizon.steps,):
                raise ValueError(f"the limit of {loc!r} needs one value (or NaN) per step")
        try:
            return self._schedule(request, prices)
        except Exception as exc:  # a bug here must not leave the caller without a schedule
            log.exception("the optimizer failed; answering with the safe schedule")
            return _safe(request, prices, exc)

    def _schedule(self, request: ScheduleRequest, prices: np.ndarray) -> ScheduleResult:
        deadline = time.monotonic() + self.time_limit
        stats = self.last_stats = Stats()
        t = time.perf_counter()
        h = request.horizon
        dt = h.dt
        problem = _Problem.of(request)
        a = problem.stores
        big = _big(a, prices)

        sizes = np.bincount(problem.site, minlength=len(problem.site_ids))
        limited = np.isfinite(problem.limit).any(axis=1)
        alone_site = limited & (sizes == 1)
        cap = np.full((a.size, h.steps), np.inf)
        rows = np.nonzero(alone_site[problem.site])[0]
        cap[rows] = (problem.limit - problem.fixed)[problem.site[rows]]

        power = np.zeros((a.size, h.steps))
        evs = np.nonzero([type(d) is EV for d in problem.devices])[0]
        by_knapsack = np.zeros(a.size, dtype=bool)
        by_knapsack[evs[knapsack.applies(a.take(evs))]] = True
        by_chain = np.nonzero(~by_knapsack)[0]
        # chunks of one shape: the DP keeps the segments any row of a chunk needs
        shape = (
            4 * a.two_way()
            + 2 * np.isfinite(a.high[:, 1:]).any(axis=1)
            + np.isfinite(cap).any(axis=1)
        )
        by_chain = by_chain[np.argsort(shape[by_chain], kind="stable")]
        stats.knapsack, stats.chain = int(by_knapsack.sum()), len(by_chain)
        unsolved = np.zeros(a.size, dtype=bool)

        t = stats.lap("arrays", t)
        _SHARED.update(problem=problem, prices=prices, dt=dt, cap=cap, big=big, horizon=h)
        workers = self.workers if a.size >= self.parallel_from else 1
        with _Pool(workers) as pool:  # forked now: the workers see ``_SHARED``
            t = stats.lap("processes", t)
            rows = np.nonzero(by_knapsack)[0]
            knapsacks = pool.submit(_knapsack_job, rows)
            parts = _split(by_chain, self.chunk)
            for part, (p, ok) in zip(parts, pool.map(_chain_job, parts), strict=True):
                power[part] = p
                unsolved[part] = ~ok
            power[rows] = knapsacks.result()
            t = stats.lap("knapsack and chain", t)

            drawn = np.zeros_like(problem.fixed)
            np.add.at(drawn, problem.site, power)
            over = ((drawn + problem.fixed) > problem.limit + TOL).any(axis=1)
            coupled = limited & (sizes > 1) & over
            coupled |= np.bincount(problem.site, weights=unsolved, minlength=len(sizes)) > 0
            sites = np.nonzero(coupled)[0]
            stats.lp_locations = len(sites)
            stats.lp_devices = int(sizes[sites].sum())
            chunks = _split(sites, self.lp_chunk)
            futures = [pool.submit(_lp_job, part, deadline) for part in chunks]
            for part, future in zip(chunks, futures, strict=True):
                try:
                    members, result = future.result(timeout=max(deadline - time.monotonic(), 0) + 5)
                except TimeoutError:
                    members, result = problem.members(part), None
                if result is None:
                    stats.fallback_locations += len(part)
                    block = problem.block(part, members)
                    result = lp.fallback(block, power[members], dt)
                power[members] = result
            t = stats.lap("lp", t)
            halves = np.array_split(np.arange(len(problem.site_ids)), workers)
            members = [problem.members(sites) for sites in halves]
            jobs = [
                pool.submit(_explain_job, sites, rows, power[rows])
                for sites, rows in zip(halves, members, strict=True)
                if len(sites)
            ]
            unmet = [u for job in jobs for u in job.result()]
            t = stats.lap("explain", t)
        _SHARED.clear()
        ids = problem.ids
        cost = float((power @ prices).sum() * dt)
        result = ScheduleResult(
            power_kw=dict(zip(ids, power, strict=True)), unmet=unmet, cost=cost, solver=str(stats)
        )
        stats.lap("result", t)
        return result


def _safe(request: ScheduleRequest, prices: np.ndarray, exc: Exception) -> ScheduleResult:
    """What the optimizer answers if it fails (a bug): every charge-only store draws at full
    power in the cheaper half of the steps, within its hard limits and its location's limit;
    two-way stores idle; every resource is reported. If even that fails, nothing draws."""
    try:
        return _safer(request, prices, exc)
    except Exception:
        log.exception("the safe schedule failed too; answering with no power")
    why = f"the optimizer failed ({type(exc).__name__}); nothing is scheduled"
    steps = request.horizon.steps
    ids = [r.resource_id for r in request.resources if not isinstance(r.device, FixedLoad)]
    unmet = [UnmetTarget(i, "schedule", 0.0, "kW", why) for i in ids]
    return ScheduleResult({i: np.zeros(steps) for i in ids}, unmet, 0.0, "none (optimizer failed)")


def _safer(request: ScheduleRequest, prices: np.ndarray, exc: Exception) -> ScheduleResult:
    problem = _Problem.of(request)
    a = problem.stores
    cheap = prices <= np.median(prices)
    wanted = np.where(cheap[None, :], a.p_max, 0.0)
    block = lp.Block(a, problem.site, problem.fixed, problem.limit)
    power = lp.fallback(block, wanted, request.horizon.dt)
    why = f"the optimizer failed ({type(exc).__name__}); this is its safe schedule"
    unmet = [
        UnmetTarget(i, t, 0.0, u, why)
        for i, (t, u) in zip(problem.ids, problem.targets, strict=True)
    ]
    cost = float((power @ prices).sum() * request.horizon.dt)
    return ScheduleResult(
        dict(zip(problem.ids, power, strict=True)), unmet, cost, "safe (optimizer failed)"
    )


def _big(a: StoreArrays, prices: np.ndarray) -> float:
    """A price per kWh over a location's limit above anything a kWh can earn or save."""
    worth = float((a.penalty * a.gain_in).max(initial=0.0)) * (a.steps + 1)
    return 10.0 * (1.0 + float(np.abs(prices).max(initial=0.0)) + worth)


def _split(items: np.ndarray, size: int) -> list[np.ndarray]:
    return [items[i : i + size] for i in range(0, len(items), size)]


# What the worker processes need, set before they are forked (so nothing big is pickled):
# the problem, prices, dt, the per-device caps and the overload price.
_SHARED: dict = {}


def _chain_job(rows: np.ndarray):
    s = _SHARED
    return chain.solve(
        s["problem"].stores.take(rows), s["prices"], s["dt"], s["cap"][rows], s["big"]
    )


def _knapsack_job(rows: np.ndarray) -> np.ndarray:
    s = _SHARED
    return knapsack.solve(s["problem"].stores.take(rows), s["prices"], s["dt"], s["cap"][rows])


def _explain_job(sites: np.ndarray, rows: np.ndarray, power: np.ndarray):
    """The unmet targets of the devices and locations at ``sites`` (``rows``: their devices,
    ``power``: their schedules)."""
    s = _SHARED
    pr = s["problem"]
    renumber = np.full(len(pr.site_ids), -1)
    renumber[sites] = np.arange(len(sites))
    listed = rows.tolist()
    return explain.unmet(
        s["horizon"],
        s["prices"],
        [pr.ids[i] for i in listed],
        [pr.devices[i] for i in listed],
        [pr.targets[i] for i in listed],
        pr.stores.take(rows),
        power,
        renumber[pr.site[rows]],
        [pr.site_ids[i] for i in sites.tolist()],
        pr.fixed[sites],
        pr.limit[sites],
    )


def _lp_job(sites: np.ndarray, deadline: float):
    """The optimal power of the devices at ``sites`` (their rows, and None if no optimum came
    before ``deadline``, on ``time.monotonic``)."""
    s = _SHARED
    members = s["problem"].members(sites)
    left = deadline - time.monotonic()
    if left <= 0:
        return members, None
    try:
        block = s["problem"].block(sites, members)
        power, _ = lp.solve(block, s["prices"], s["dt"], s["big"], left)
    except Exception:
        log.exception("HiGHS failed on a chunk of locations")
        return members, None
    return members, power


@dataclass
class _Problem:
    ids: list[str]
    devices: list
    targets: list[tuple[str, str]]
    stores: StoreArrays
    site: np.ndarray  # location index of each controllable
    site_ids: list[str]
    fixed: np.ndarray  # (L, N)
    limit: np.ndarray  # (L, N), inf = none
    _order: np.ndarray | None = None
    _starts: np.ndarray | None = None

    @classmethod
    def of(cls, request: ScheduleRequest) -> _Problem:
        h = request.horizon
        site_index: dict[str, int] = {}
        number = site_index.setdefault
        by_kind: dict[type, tuple[list, list, list]] = {}
        loads, load_site = [], []
        for r in request.resources:
            s = number(r.location_id, len(site_index))
            kind = type(r.device)
            if kind is FixedLoad:
                loads.append(r.device)
                load_site.append(s)
                continue
            group = by_kind.get(kind)
            if group is None:
                group = by_kind[kind] = ([], [], [])
            group[0].append(r.resource_id)
            group[1].append(r.device)
            group[2].append(s)
        # one block of rows per device type: ``stack`` then copies slices
        ids = [i for g in by_kind.values() for i in g[0]]
        devices = [d for g in by_kind.values() for d in g[1]]
        site = [x for g in by_kind.values() for x in g[2]]
        site_ids = list(site_index)
        fixed = np.zeros((len(site_ids), h.steps))
        if loads:
            np.add.at(fixed, np.array(load_site), fixed_profiles(loads, h))
        limit = np.full((len(site_ids), h.steps), np.inf)
        known = [loc for loc in request.location_limits if loc in site_index]
        if known:
            values = np.array([request.location_limits[loc] for loc in known], dtype=float)
            limit[[site_index[loc] for loc in known]] = np.where(np.isnan(values), np.inf, values)
        stores = stack(devices, h, request.outdoor_temperature)
        targets = [_target(g[1][0]) for g in by_kind.values() for _ in g[1]]
        return cls(ids, devices, targets, stores, np.array(site, dtype=int), site_ids, fixed, limit)

    def members(self, sites: np.ndarray) -> np.ndarray:
        """The rows of the devices at ``sites``."""
        if self._order is None:
            self._order = np.argsort(self.site, kind="stable")
            self._starts = np.searchsorted(
                self.site[self._order], np.arange(len(self.site_ids) + 1)
            )
        starts = self._starts
        return np.concatenate(
            [self._order[starts[i] : starts[i + 1]] for i in sites] or [[]]
        ).astype(int)

    def block(self, sites: np.ndarray, members: np.ndarray) -> lp.Block:
        renumber = np.full(len(self.site_ids), -1)
        renumber[sites] = np.arange(len(sites))
        block = lp.Block(
            self.stores.take(members),
            renumber[self.site[members]],
            self.fixed[sites],
            self.limit[sites],
        )
        return block


def _target(device) -> tuple[str, str]:
    if isinstance(device, EV):
        return "energy by departure", "kWh"
    if isinstance(device, WaterHeater):
        return "hot water temperature", "°C"
    if isinstance(device, HeatPump):
        return "comfort band", "°C"
    return "state of charge", "kWh"


class _Pool:
    """Worker processes (forked, so nothing is imported again), or this process."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.executor = None

    def __enter__(self) -> _Pool:
        if self.workers > 1 and "fork" in multiprocessing.get_all_start_methods():
            context = multiprocessing.get_context("fork")
            self.executor = ProcessPoolExecutor(self.workers, mp_context=context)
        return self

    def __exit__(self, *exc) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)

    def map(self, fn, jobs):
        if self.executor is None or len(jobs) < 2:
            return [fn(j) for j in jobs]
        return list(self.executor.map(fn, jobs))

    def submit(self, fn, *args):
        if self.executor is None:
            return _Done(fn(*args))
        return self.executor.submit(fn, *args)


class _Done:
    def __init__(self, value) -> None:
        self.value = value

    def result(self, timeout=None):
        return self.value
