"""Coupled locations: one LP per chunk of locations for HiGHS, the locations' blocks stacked
block-diagonally (they share nothing), and a safe heuristic when the solver gives no answer.

Each device of a location has, per step ``k``: ``p_in``, ``p_out`` (kW drawn and fed back, both
>= 0), the state ``x`` after the step, and slacks ``s`` (below its soft low) and ``e`` (above its
soft high); each location with a limit has an overload ``o`` per step. Rows:

    x[k] - decay[k] x[k-1] - gain_in dt p_in[k] + gain_out dt p_out[k] = drift[k]   (x[-1] = x0)
    x[k] + s[k] >= low[k]            x[k] - e[k] <= high[k]
    sum over the location's devices of (p_in[k] - p_out[k]) - o[k] <= limit[k] - fixed[k]

with the hard limits as bounds, at the cost ``dt price (p_in - p_out) + penalty (s + e) + big dt
o``; ``big`` exceeds anything a kWh can earn, so a limit is broken only where no schedule keeps
it. A two-way device may feed back only at a price >= 0 (``chain.allowed_feedback``); there,
any step that both charges and discharges is replaced by the net power that leaves the same
state (less drawn, so no dearer and no nearer the limit), so the relaxation is exact and the
schedule is what ``LinearStore.next_state`` will do.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import highspy
import numpy as np

from flexhub.agent.optimize.chain import allowed_feedback
from flexhub.agent.optimize.stack import StoreArrays, by_site

VARS = 5  # p_in, p_out, x, s, e per device and step


@dataclass
class Block:
    """The devices of some locations: ``site[i]`` is the location (0 .. L-1) of row ``i``."""

    stores: StoreArrays
    site: np.ndarray
    fixed: np.ndarray  # (L, N) kW
    limit: np.ndarray  # (L, N) kW, inf = none


def solve(
    block: Block, prices: np.ndarray, dt: float, big: float, time_limit: float
) -> tuple[np.ndarray | None, str]:
    """The optimal power (B, N), or None when HiGHS has no optimum within ``time_limit``."""
    a = block.stores
    b, n = a.size, a.steps
    start = time.perf_counter()
    (cost, lower, upper, rows_lo, rows_hi, matrix), free, fixed = _model(block, prices, dt, big)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    h.setOptionValue("presolve", "off")
    # dual simplex with Devex pricing on the unscaled model (the blocks' coefficients are
    # near 1): 40 % less time in HiGHS than the default steepest edge on scaled blocks
    h.setOptionValue("simplex_dual_edge_weight_strategy", 1)
    h.setOptionValue("simplex_scale_strategy", 0)
    h.setOptionValue("time_limit", max(0.01, time_limit - (time.perf_counter() - start)))
    # the model as arrays (setting a ``HighsLp``'s fields converts them element by element:
    # 5-7 times slower, measured); every column continuous
    h.passModel(
        len(cost),
        len(rows_lo),
        len(matrix.data),
        int(highspy.MatrixFormat.kColwise),
        int(highspy.ObjSense.kMinimize),
        0.0,
        cost,
        lower,
        upper,
        rows_lo,
        rows_hi,
        matrix.indptr,
        matrix.indices,
        matrix.data,
        np.zeros(len(cost), dtype=np.int32),
    )
    h.run()
    status = h.getModelStatus()
    if status != highspy.HighsModelStatus.kOptimal:
        return None, h.modelStatusToString(status)
    z = fixed.copy()
    z[free] = h.getSolution().col_value
    z = z[: b * n * VARS].reshape(b, VARS, n)
    return _net(a, z[:, 0], z[:, 1], dt), "optimal"


def _net(a: StoreArrays, p_in: np.ndarray, p_out: np.ndarray, dt: float) -> np.ndarray:
    """One power per step that leaves the LP's states unchanged."""
    p_in, p_out = np.maximum(p_in, 0.0), np.maximum(p_out, 0.0)
    gi, go = a.gain_in[:, None], a.gain_out[:, None]
    both = (p_in > 1e-9) & (p_out > 1e-9) & (go > 0)
    rise = gi * p_in - go * p_out
    go_safe = np.where(go > 0, go, 1.0)
    merged = np.where(rise >= 0, rise / np.where(gi > 0, gi, 1.0), rise / go_safe)
    return np.where(both, merged, p_in - p_out)


def _model(block: Block, prices, dt, big):
    a = block.stores
    b, n = a.size, a.steps
    sites = len(block.fixed)
    ks = np.arange(n)
    base = (np.arange(b) * VARS * n)[:, None]  # first column of each device
    names = ("pin", "pout", "x", "s", "e")
    col = {name: base + i * n + ks[None, :] for i, name in enumerate(names)}
    over_col = b * VARS * n + np.arange(sites)[:, None] * n + ks[None, :]
    ncol = b * VARS * n + sites * n

    feed = allowed_feedback(prices)[None, :] & (a.gain_out[:, None] > 0)
    cost = np.zeros(ncol)
    lower = np.zeros(ncol)
    upper = np.zeros(ncol)
    price = np.broadcast_to(prices * dt, (b, n))
    cost[col["pin"]], upper[col["pin"]] = price, np.maximum(a.p_max, 0.0)
    cost[col["pout"]], upper[col["pout"]] = -price, np.where(feed, np.maximum(-a.p_min, 0.0), 0.0)
    lower[col["x"]], upper[col["x"]] = a.x_min[:, 1:], a.x_max[:, 1:]
    pen = np.broadcast_to(a.penalty[:, None], (b, n))
    cost[col["s"]], upper[col["s"]] = pen, np.where(np.isfinite(a.low[:, 1:]), np.inf, 0.0)
    cost[col["e"]], upper[col["e"]] = pen, np.where(np.isfinite(a.high[:, 1:]), np.inf, 0.0)
    limited = np.isfinite(block.limit)
    cost[over_col], upper[over_col] = big * dt, np.where(limited, np.inf, 0.0)

    dyn = (np.arange(b)[:, None] * n + ks[None, :]).ravel()  # row of device i, step k
    soft_lo = b * n + dyn
    soft_hi = 2 * b * n + dyn
    site_row = 3 * b * n + (np.arange(sites)[:, None] * n + ks[None, :])
    nrow = 3 * b * n + sites * n
    r, c, v = [], [], []

    def put(rows, cols, vals):
        rows, cols = np.broadcast_arrays(rows, cols)
        r.append(rows.ravel())
        c.append(cols.ravel())
        v.append(np.broadcast_to(vals, rows.shape).ravel())

    put(dyn, col["x"].ravel(), 1.0)
    prev = col["x"][:, :-1]
    put(dyn.reshape(b, n)[:, 1:], prev, -a.decay[:, 1:])
    put(dyn, col["pin"].ravel(), np.broadcast_to(-a.gain_in[:, None] * dt, (b, n)).ravel())
    put(dyn, col["pout"].ravel(), np.broadcast_to(a.gain_out[:, None] * dt, (b, n)).ravel())
    put(soft_lo, col["x"].ravel(), 1.0)
    put(soft_lo, col["s"].ravel(), 1.0)
    put(soft_hi, col["x"].ravel(), 1.0)
    put(soft_hi, col["e"].ravel(), -1.0)
    put(site_row[block.site], col["pin"], 1.0)
    put(site_row[block.site], col["pout"], -1.0)
    put(site_row, over_col, -1.0)
    r, c, v = np.concatenate(r), np.concatenate(c), np.concatenate(v)

    rows_lo = np.full(nrow, -np.inf)
    rows_hi = np.full(nrow, np.inf)
    rhs = a.drift.copy()
    rhs[:, 0] += a.decay[:, 0] * a.x0
    rows_lo[: b * n] = rows_hi[: b * n] = rhs.ravel()
    rows_lo[b * n : 2 * b * n] = a.low[:, 1:].ravel()
    rows_hi[2 * b * n : 3 * b * n] = a.high[:, 1:].ravel()
    rows_hi[3 * b * n :] = np.where(limited, block.limit - block.fixed, np.inf).ravel()
    return _trim(cost, lower, upper, rows_lo, rows_hi, (r, c, v))


def _trim(cost, lower, upper, rows_lo, rows_hi, entries):
    """Drop the columns fixed by their bounds (no soft limit, no feedback, no power: most of
    them) and the rows without bounds, and give the rest column-wise (CSC). HiGHS then needs no
    presolve, which on these small blocks costs more than it saves (measured: 0.6 against 0.9
    ms a device), and numpy builds the matrix in a quarter of scipy.sparse's time."""
    r, c, v = entries
    free = upper > lower
    fixed = np.where(free, 0.0, lower)
    shift = np.bincount(r, weights=v * fixed[c], minlength=len(rows_lo))
    bounded = np.isfinite(rows_lo) | np.isfinite(rows_hi)
    keep = free[c] & bounded[r]
    new_col = np.cumsum(free) - 1
    new_row = np.cumsum(bounded) - 1
    r, c, v = new_row[r[keep]], new_col[c[keep]], v[keep]
    order = np.lexsort((r, c))
    start = np.zeros(int(free.sum()) + 1, dtype=np.int32)
    np.cumsum(np.bincount(c, minlength=len(start) - 1), out=start[1:])
    matrix = _Csc(start, r[order].astype(np.int32), v[order])
    trimmed = (
        cost[free],
        lower[free],
        upper[free],
        (rows_lo - shift)[bounded],
        (rows_hi - shift)[bounded],
        matrix,
    )
    return trimmed, free, fixed


@dataclass
class _Csc:
    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray


def fallback(block: Block, alone: np.ndarray, dt: float) -> np.ndarray:
    """A schedule that keeps every hard limit without a solver: each device's own optimum
    (two-way devices idle), scaled down at every step where its location would be over its
    limit, then clipped step by step to what the device's hard limits allow."""
    a = block.stores
    power = np.where(a.two_way()[:, None], 0.0, np.maximum(alone, 0.0))
    sites = len(block.fixed)
    drawn = by_site(block.site, power, sites)
    room = np.where(np.isfinite(block.limit), block.limit - block.fixed, np.inf)
    with np.errstate(divide="ignore", invalid="ignore"):
        keep = np.where(drawn > room, np.clip(room, 0.0, None) / drawn, 1.0)
    power = power * np.nan_to_num(keep, nan=1.0)[block.site]
    x = a.x0.copy()
    gi = np.where(a.gain_in > 0, a.gain_in, 1.0) * dt
    for k in range(a.steps):
        free = a.decay[:, k] * x + a.drift[:, k]
        p = np.clip(power[:, k], np.maximum(a.p_min[:, k], 0.0), a.p_max[:, k])
        p = np.minimum(p, np.maximum((a.x_max[:, k + 1] - free) / gi, 0.0))
        power[:, k] = p
        x = free + a.gain_in * dt * p
    return power
