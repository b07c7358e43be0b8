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
   limit at every step, they are its optimum (the coupled problem only adds that limit). Else
   the problem is made smaller, exactly (``_reduce``): a device whose own optimum draws its
   least at every limited step keeps it (it is part of an optimum of the coupled problem) and
   counts as fixed load; a device then left alone at its location goes to the chain DP under
   the cap the limit leaves it. (At 100,000 resources of ``bench/optimize.py``: 8,074 devices
   at 3,083 coupled locations become 4,765 for the LP, 957 for the chain.) The
   others go to HiGHS (``lp``): one LP per chunk of locations, blocks stacked diagonally,
   chunks solved in parallel processes, each within what is left of ``time_limit``. A chunk
   without an optimum in time gets ``lp.fallback`` (own optima scaled into the limit, two-way
   devices idle), which keeps every hard limit.
4. The unmet targets and their reasons come from the final schedule (``explain``): the jobs
   of step 2 return which of their rows miss a soft limit, and this process words the reasons
   of those at locations step 3 leaves alone while the LPs run, of the others after them.

Measured on the 2-core development machine (24 hourly steps; per device; the machine is
shared, so figures vary by some 30 %):

====================================  ==========  =============================================
method                                 time        note
====================================  ==========  =============================================
``Device.store()`` one by one          24-210 µs   why ``stack`` builds arrays per device type
``stack`` (arrays per type)            4-6 µs      one ``attrgetter`` call a device
knapsack (EV, no V2G)                  ~1 µs       one argsort shared by the fleet
chain DP, chunks of 1,000              15-30 µs    heat pumps the most (two soft limits a step);
                                                   segments slot-major, per-step arrays
                                                   step-major: 2-2.5x faster than row-major
                                                   (30-70 µs); chunks of 500: 10 % slower,
                                                   2,000-4,000: the same; compacting every 3,
                                                   6 or 8 steps: 5-15 % slower than every 4
scipy ``linprog`` per device           ~6 ms       with the tests' model built in Python
HiGHS (highspy) per device             1.7-3 ms    one model a device (``bench/optimize.py``)
HiGHS, 10 locations a model            0.27 ms     the choice for coupled locations; 1 a model:
                                                   1.5 ms, 50: 1.1 ms; presolve on: 1.5x, IPM:
                                                   2.5-4x slower; a warm-started basis cuts the
                                                   iterations by 4-5x but not the time; dual
                                                   simplex with Devex pricing, unscaled (the
                                                   default, steepest edge on a scaled model:
                                                   0.44 ms on the same 59 LPs)
====================================  ==========  =============================================

The arrays are built in this process, then the worker processes are forked and solve chunks
of them. Splitting the request by location instead, each worker building and solving its
share, was measured slower (100,000 resources: building the arrays took 3.8 s in the workers
against 1.4 s here, as touching the request's 150,000 Python objects in forked children copies
their pages).

The workers write the schedules of the chain and knapsack jobs into one array in anonymous
shared memory (an ``mmap`` made before the fork), instead of pickling each chunk's schedule
back; an LP chunk's schedule is returned (it is small, and after a time-out the caller writes
the fallback in its place, which a late worker must not overwrite). Measured at 100,000
resources of ``bench/optimize.py`` (2026-12-02, load average 0.7): 2.8 s wall and 4.4 s of CPU
before (155,000 page faults against 33,000 in one process), 2.35-2.43 s and 3.8-3.9 s after.

Order of the work (2026-12-03). The pool runs its jobs in the order they are submitted, so
the phases overlap instead of waiting for each other (``_solve``): the own optima of the
devices at locations that may be coupled go first, and their LPs are submitted as soon as
those are in, behind the chain of the rest of the fleet; the reasons of the unaffected devices
are worded here while the LPs run (in the workers they cost 0.6 s of CPU, 32,000 page faults:
slicing the lists of ids and devices touched 50,000 objects each); LP chunks go four to a job
(fewer, longer jobs keep the workers fed while this process is busy). The garbage collector is
set aside for the call: its full passes walked the request's objects while the arrays were
built (first call in a process: 1.19-1.33 s -> 0.76-1.18 s for the arrays, at a load of 2,
measured with the request frozen, ``gc.freeze``; it is now switched off for the call instead,
which skips the same passes and leaves alone what a long-running agent froze at start-up).
Other changes of that round: HiGHS gets the model as arrays (``Highs.passModel``:
LP CPU 1.61 -> 1.35 s on the 213 models, identical solutions), the chain DP counts along its
slots as bytes and shifts only the slots that move (10-15 % less CPU, identical schedules),
the fleet's arrays live in small pages (``stack._filled``: arrays 0.95-1.29 -> 0.64-0.94 s).
Schedules, cost and unmet targets are identical to before at 100,000 resources. Measured
(``bench/optimize.py --repeat 2``, alternately with the code before, load average 2.0-2.3 on
the shared 2 cores): 3.17-3.20 s wall and 4.91-4.99 s of CPU before, 2.54-2.74 s and
4.13-4.61 s after; phases after: arrays 0.70 s, knapsack and chain 1.0 s, the reasons of the
unaffected devices 0.25 s (while the LPs run), the LPs 0.4-0.5 s more, result 0.06 s.

Concurrent calls. Each call keeps what its workers read under its own key of ``jobs.SHARED``
(its workers are forked after it is set and see only that entry's objects by their key) and its
own pool, so calls from several threads at once each get their own optimum (tested). The agent
still serializes its calls (``agent/events.py``), and that is the right design: a call already
uses every core (two workers on a 2-core machine), so two calls at once would each take about
twice as long, delaying the first answer for no gain in the second, and each call's fork would
copy the pages of the other's fleet. ``last_stats`` is that of the last call to begin.

The chain DP was chosen over a greedy with an optimality certificate because it is exact for
every single store (both soft bands, hard ranges, per-step caps, two-way devices) with one code
path, and over HiGHS per device because it is 60-100 times faster; its cost grows with the
number of breakpoints of the value function, ``O(N)`` a step for the thermal stores. At 100,000
resources the coupled LPs, the chain DP and building the arrays (serial, in this process: now
the largest part of the wall time) dominate (the README has the figures of whole fleets).
"""

from __future__ import annotations

import gc
import itertools
import logging
import os
import time
from dataclasses import dataclass, field
from operator import attrgetter

import numpy as np

from flexhub.agent.optimize import chain, explain, jobs, knapsack, lp
from flexhub.agent.optimize.devices import EV, FixedLoad, HeatPump, WaterHeater
from flexhub.agent.optimize.pool import WorkerPool
from flexhub.agent.optimize.schedule import ScheduleRequest, ScheduleResult, UnmetTarget
from flexhub.agent.optimize.stack import StoreArrays, by_site, fixed_profiles, stack

log = logging.getLogger(__name__)
TOL = 1e-7
LP_JOB = 4  # LP chunks a worker's job: fewer, longer jobs keep the workers fed (see _solve)


@dataclass
class Stats:
    knapsack: int = 0
    chain: int = 0
    lp_locations: int = 0
    lp_devices: int = 0
    settled: int = 0  # devices of coupled locations that keep their own optimum
    chain_alone: int = 0  # devices of coupled locations left alone there: chain under a cap
    fallback_locations: int = 0
    seconds: dict[str, float] = field(default_factory=dict)  # wall time of each phase

    def lap(self, phase: str, since: float) -> float:
        now = time.perf_counter()
        self.seconds[phase] = self.seconds.get(phase, 0.0) + now - since
        return now

    def __str__(self) -> str:
        text = (
            f"optimizer: knapsack {self.knapsack}, chain {self.chain}, "
            f"lp {self.lp_devices} devices at {self.lp_locations} locations "
            f"(coupled locations: {self.settled} devices kept their own optimum, "
            f"{self.chain_alone} were left alone under a cap)"
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
        # the collector's full passes would walk the request's objects (and, in the forked
        # workers, copy their pages): it is off for the call (see the docstring). Off rather
        # than the request frozen: a long-running agent has frozen its start-up objects
        # already (flexhub/heap.py), and unfreezing after the call would let those go too
        collecting = gc.isenabled()
        gc.disable()
        try:
            return self._schedule(request, prices)
        except Exception as exc:  # a bug here must not leave the caller without a schedule
            log.exception("the optimizer failed; answering with the safe schedule")
            return _safe(request, prices, exc)
        finally:
            if collecting:
                gc.enable()

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
        evs = np.arange(*problem.kinds[EV].indices(a.size)) if EV in problem.kinds else []
        evs = np.asarray(evs, dtype=int)
        by_knapsack = np.zeros(a.size, dtype=bool)
        by_knapsack[evs[knapsack.applies(a.rows(evs))]] = True
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
        workers = self.workers if a.size >= self.parallel_from else 1
        # this call's own entry (a call in another thread has its own): what the workers,
        # forked at the pool's first job, read; the schedules they write (``power``: shared
        # memory when they are processes, so nothing big is pickled back)
        key = next(jobs.CALLS)
        power = jobs.shared_zeros((a.size, h.steps)) if workers > 1 else power
        jobs.SHARED[key] = dict(
            problem=problem, prices=prices, dt=dt, cap=cap, big=big, horizon=h, power=power
        )
        try:
            with WorkerPool(workers) as pool:
                unmet = self._solve(
                    pool,
                    key,
                    by_knapsack=by_knapsack,
                    by_chain=by_chain,
                    unsolved=unsolved,
                    limited=limited,
                    sizes=sizes,
                    deadline=deadline,
                    stats=stats,
                    since=t,
                )
            power = np.array(power) if workers > 1 else power  # private memory for the answer
        finally:
            del jobs.SHARED[key]
        ids = problem.ids
        cost = float((power @ prices).sum() * dt)
        t = time.perf_counter()
        result = ScheduleResult(
            power_kw=dict(zip(ids, power, strict=True)), unmet=unmet, cost=cost, solver=str(stats)
        )
        stats.lap("result", t)
        return result

    def _solve(
        self,
        pool: WorkerPool,
        key: int,
        *,
        by_knapsack: np.ndarray,
        by_chain: np.ndarray,
        unsolved: np.ndarray,
        limited: np.ndarray,
        sizes: np.ndarray,
        deadline: float,
        stats: Stats,
        since: float,
    ) -> list[UnmetTarget]:
        """The phases after the arrays (see ``_schedule``), on the call's entry ``key`` of
        ``jobs.SHARED`` (the problem and prices are read there); the schedules go to its
        shared ``power``; returns the unmet targets.

        The pool runs its jobs in the order they are submitted: first the own optima of the
        devices at locations that may be coupled (a limit and several devices), then those
        of the rest of the fleet. As soon as the first are in, the coupled locations' LPs are
        submitted (they queue behind the rest's chain, so the workers never wait for this
        process); while the LPs run, this process finds the unmet targets of the devices
        whose locations the LPs do not touch, then those of the others once their LPs are in.
        """
        s = jobs.SHARED[key]
        problem, prices = s["problem"], s["prices"]
        power, h, a = s["power"], s["horizon"], problem.stores
        t = stats.lap("processes", since)
        maybe = (limited & (sizes > 1))[problem.site]
        groups = []
        for first in (True, False):
            pick = maybe == first
            rows = np.nonzero(by_knapsack & pick)[0]
            knapsacks = [(rows, pool.submit(jobs.knapsack_job, key, rows))] if len(rows) else []
            parts = _split(by_chain[pick[by_chain]], self.chunk)
            chains = [(part, pool.submit(jobs.chain_job, key, part)) for part in parts]
            groups.append((knapsacks, chains))
        rounds = []
        touched = np.zeros(len(sizes), dtype=bool)  # locations whose LP or capped chain runs
        missed = np.zeros(a.size, dtype=bool)  # devices whose own optimum misses a soft limit
        for first, (knapsacks, chains) in zip((True, False), groups, strict=True):
            for part, future in chains:
                ok, missed[part] = future.result()
                unsolved[part] = ~ok
            for rows, future in knapsacks:
                missed[rows] = future.result()
            failed = np.bincount(problem.site, weights=unsolved, minlength=len(sizes)) > 0
            if first:  # every device at these locations is in: are they coupled?
                rows = np.nonzero(maybe)[0]
                drawn = by_site(problem.site[rows], power[rows], len(sizes))
                over = ((drawn + problem.fixed) > problem.limit + TOL).any(axis=1)
                coupled = limited & (sizes > 1) & (over | failed)
            else:  # a device the chain could not solve: its location goes to the LP
                coupled = failed & ~touched
            if coupled.any():
                sites = np.nonzero(coupled)[0]
                rounds.append(self._couple(pool, key, sites, unsolved, deadline, stats))
                touched |= coupled
        t = stats.lap("knapsack and chain", t)

        drawn = by_site(problem.site, power, len(problem.site_ids))
        rows = np.nonzero(missed & ~touched[problem.site])[0]
        rows, unmet = _unmet(problem, h, prices, power, drawn, rows=rows)
        t = stats.lap("explain", t)
        for r in rounds:
            r.collect(power, problem, s["dt"], deadline, stats)
        t = stats.lap("lp", t)

        drawn = by_site(problem.site, power, len(problem.site_ids))
        again = np.nonzero(touched[problem.site])[0]
        if len(again):  # the devices at the locations of the LPs and capped chains
            more, found = _unmet(problem, h, prices, power, drawn, rows=again)
            order = np.argsort(np.concatenate([rows, more]), kind="stable")
            unmet = [*map((unmet + found).__getitem__, order.tolist())]  # by row, as before
        over = explain.over_limits(
            h, prices, a, problem.site, problem.site_ids, problem.fixed, problem.limit, drawn
        )
        stats.lap("explain", t)
        return unmet + over

    def _couple(self, pool, key, sites, unsolved, deadline, stats) -> _Round:
        """Submits the jobs of coupled locations ``sites`` (made smaller by ``_reduce``): the
        chain under a cap of the devices left alone, one LP per chunk of locations."""
        s = jobs.SHARED[key]
        problem, power = s["problem"], s["power"]
        sites, alone, extra, settled = _reduce(problem, sites, power, unsolved, s["prices"])
        room = (problem.limit - problem.fixed - extra)[problem.site[alone]]
        by_cap = pool.submit(jobs.capped_job, key, alone, room) if len(alone) else None
        chunks = _split(sites, self.lp_chunk)
        members = [m[~settled[m]] for m in map(problem.members, chunks)]
        stats.lp_locations += len(sites)
        stats.chain_alone += len(alone)
        stats.lp_devices += sum(map(len, members))
        stats.settled += int(settled.sum())
        work = [(part, rows, extra[part]) for part, rows in zip(chunks, members, strict=True)]
        futures = [
            pool.submit(jobs.lp_job, key, work[i : i + LP_JOB], deadline)
            for i in range(0, len(work), LP_JOB)
        ]
        return _Round(alone, by_cap, chunks, members, extra, futures)


@dataclass
class _Round:
    """The jobs of a set of coupled locations, submitted (see ``Optimizer._couple``)."""

    alone: np.ndarray
    by_cap: object
    chunks: list[np.ndarray]
    members: list[np.ndarray]
    extra: np.ndarray
    futures: list

    def collect(self, power, problem: _Problem, dt: float, deadline: float, stats: Stats):
        """Their schedules, written to ``power``; the fallback for an LP not done in time."""
        if self.by_cap is not None:  # a cap changes no hard limit: these are all solved
            p, ok = self.by_cap.result()
            power[self.alone[ok]] = p[ok]
        results = []
        for i, future in enumerate(self.futures):
            try:
                results += future.result(timeout=max(deadline - time.monotonic(), 0) + 5)
            except TimeoutError:
                results += [None] * len(self.chunks[i * LP_JOB : (i + 1) * LP_JOB])
        for part, rows, result in zip(self.chunks, self.members, results, strict=True):
            if result is None:
                stats.fallback_locations += len(part)
                block = problem.block(part, rows, self.extra[part])
                result = lp.fallback(block, power[rows], dt)
            power[rows] = result


def _unmet(problem: _Problem, h, prices, power, drawn, rows: np.ndarray):
    """``explain.devices_unmet`` of the devices ``rows``: (the rows of their unmet targets,
    ascending, and the targets)."""
    p, pick = problem, rows.tolist()
    ids, devices = [*map(p.ids.__getitem__, pick)], [*map(p.devices.__getitem__, pick)]
    targets, a, site = [*map(p.targets.__getitem__, pick)], p.stores.take(rows), p.site[rows]
    args = (h, prices, ids, devices, targets, a, power[rows], site, p.fixed, p.limit, drawn)
    found, out = explain.devices_unmet(*args)
    return rows[found], out


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


def _reduce(problem, sites, power, unsolved, prices):
    """Coupled locations made smaller, exactly: a device whose own optimum draws its least
    power (``chain.lowest_power``) at every step its location limits is part of an optimum
    of the coupled problem too (any schedule of the location stays within the limit and no
    dearer with that device's own optimum in place of its schedule), so it keeps it and counts
    as fixed load. Returns the locations left for the LP (two devices or more, or a device the
    chain could not solve), the rows of the devices left alone at their location (the chain
    solves them under the cap that the limit leaves), the fixed power added per location
    (L, N) and a mask of the devices that keep their own optimum (B,)."""
    rows = problem.members(sites)
    site = problem.site[rows]
    limited = np.isfinite(problem.limit[site])
    least = chain.lowest_power(problem.stores.take(rows), prices)
    settled = ((power[rows] <= least + TOL) | ~limited).all(axis=1) & ~unsolved[rows]
    extra = by_site(site[settled], power[rows[settled]], len(problem.site_ids))
    free = rows[~settled]
    left = np.bincount(problem.site[free], minlength=len(problem.site_ids))
    failed = np.bincount(problem.site[free], weights=unsolved[free], minlength=len(left)) > 0
    single = (left == 1) & ~failed
    alone = free[single[problem.site[free]]]
    mask = np.zeros(len(power), dtype=bool)
    mask[rows[settled]] = True
    return sites[(left[sites] > 1) | failed[sites]], alone, extra, mask


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
    kinds: dict[type, slice] = field(default_factory=dict)  # the rows of each device type
    _order: np.ndarray | None = None
    _starts: np.ndarray | None = None

    @classmethod
    def of(cls, request: ScheduleRequest) -> _Problem:
        h = request.horizon
        resources = request.resources
        ids, locs, devices = (
            [*map(attrgetter(name), resources)] for name in ("resource_id", "location_id", "device")
        )
        site_ids = list(dict.fromkeys(locs))
        site_index = {loc: i for i, loc in enumerate(site_ids)}
        site = np.fromiter(map(site_index.__getitem__, locs), dtype=int, count=len(locs))
        types = [*map(type, devices)]
        kind_index = {kind: i for i, kind in enumerate(dict.fromkeys(types))}
        kind = np.fromiter(map(kind_index.__getitem__, types), dtype=int, count=len(types))
        is_load = kind == kind_index.get(FixedLoad, -1)
        loads = np.nonzero(is_load)[0]
        # one block of rows per device type (in the order types first appear): ``stack`` then
        # fills slices
        rows = np.nonzero(~is_load)[0]
        rows = rows[np.argsort(kind[rows], kind="stable")].tolist()
        profiles = fixed_profiles([*map(devices.__getitem__, loads.tolist())], h)
        fixed = by_site(site[loads], profiles, len(site_ids))
        limit = np.full((len(site_ids), h.steps), np.inf)
        known = [loc for loc in request.location_limits if loc in site_index]
        if known:
            values = np.array([request.location_limits[loc] for loc in known], dtype=float)
            limit[[site_index[loc] for loc in known]] = np.where(np.isnan(values), np.inf, values)
        ids = [*map(ids.__getitem__, rows)]  # (``map`` over a bound method: a C loop)
        devices = [*map(devices.__getitem__, rows)]
        stores = stack(devices, h, request.outdoor_temperature)
        counts = np.bincount(kind[rows], minlength=len(kind_index))
        targets = [
            target
            for k, n in zip(kind_index, counts.tolist(), strict=True)
            for target in itertools.repeat(_target_of(k), n)
        ]
        ends = np.cumsum(counts)
        kinds = {
            k: slice(int(end - n), int(end))
            for k, n, end in zip(kind_index, counts, ends, strict=True)
            if n and k is not FixedLoad
        }
        return cls(ids, devices, targets, stores, site[rows], site_ids, fixed, limit, kinds)

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

    def block(
        self, sites: np.ndarray, members: np.ndarray, extra: np.ndarray | None = None
    ) -> lp.Block:
        """The LP block of the devices ``members`` at ``sites``; ``extra``: more fixed load
        there (L, N), the power of the locations' other devices."""
        renumber = np.full(len(self.site_ids), -1)
        renumber[sites] = np.arange(len(sites))
        fixed = self.fixed[sites] if extra is None else self.fixed[sites] + extra
        return lp.Block(
            self.stores.take(members), renumber[self.site[members]], fixed, self.limit[sites]
        )


def _target_of(kind: type) -> tuple[str, str]:
    """What the soft limits of a device type are, and their unit."""
    if issubclass(kind, EV):
        return "energy by departure", "kWh"
    if issubclass(kind, WaterHeater):
        return "hot water temperature", "°C"
    if issubclass(kind, HeatPump):
        return "comfort band", "°C"
    return "state of charge", "kWh"
