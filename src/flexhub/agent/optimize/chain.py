"""Exact schedules for single stores, the whole fleet at once: dynamic programming over convex
piecewise-linear value functions ("slope trick"), vectorised with numpy.

The model. Scale each store's state by its cumulative decay ``A[k] = decay[0] ... decay[k-1]``:
``y[k] = x[k] / A[k]``. Then ``y[k+1] = y[k] + (drift[k] + gain * dt * p[k]) / A[k+1]``: no decay
left, so the state is a free part ``yf[k]`` plus the running sum ``V[k] = v[0] + ... + v[k-1]``
of what the device adds, ``v[j] = gain * dt * p[j] / A[j+1]`` (``gain_in`` when drawing,
``gain_out`` when feeding back). A step's cost is convex piecewise-linear in ``v[j]`` (the price
per unit of ``v``; where ``p`` would exceed a location's limit, a big extra price ``big`` that
makes the limit hard wherever it can be met), and every limit on ``x[k]`` is a limit on
``V[k]``: hard bounds cut ``V[k]``'s domain, a soft lower (upper) limit adds
``penalty * A[k] * max(0, D[k] - V[k])`` (``... max(0, V[k] - E[k])``). So the problem is

    minimise  sum_j phi_j(V[j+1] - V[j]) + sum_k h_k(V[k]),  V[0] = 0,

a chain of convex pieces, which forward dynamic programming solves exactly:
``F_k = (F_{k-1} infconv phi_{k-1}) + h_k``. ``F_k`` stays convex piecewise-linear and is held
as its leftmost point and its segments sorted by slope; the infimal convolution with ``phi``
merges ``phi``'s segments into that sorted list, ``h_k`` splits a segment at ``D[k]`` (or
``E[k]``) and lowers (raises) the slopes to its left (right), a hard bound drops what lies
outside. ``V[N]`` is where ``F_N``'s slope crosses zero; going back, the best step before
``V[k]`` fills each segment of ``phi_{k-1}`` while the slope of ``F_{k-1}`` there exceeds the
segment's, which needs only the points ``t`` where ``F_{k-1}``'s slope crosses each segment's
slope, kept from the forward pass. No values are kept; the cost is computed from the schedule.

Exact wherever each ``phi_j`` is convex: always for heating stores (one segment) and EVs
without V2G, and for two-way stores (a battery, V2G) where drawing costs at least as much per
unit of state as feeding back earns, i.e. at a price >= 0. At a negative price a two-way store
would gain by charging and discharging at once, burning energy to make room for more paid
charging, which no device can do (``next_state`` sees only the net power), and the exact
problem is not convex; there the optimizer lets a two-way store only draw or idle
(``allowed_feedback``), in every path alike (the LP's too, where this same rule makes the
relaxation with separate charge and discharge exact), and the README says so.

Cost: a few dozen numpy passes over the ``(segments, B)`` arrays per step; segments grow by
at most one per ``phi`` piece and one per soft limit each step, only as far as some row of the
chunk needs them; every ``COMPACT_EVERY`` steps the segments that can no longer matter are
merged or cut and empty ones dropped (:class:`_Future`). Measured figures are in
``optimizer.py``'s docstring.
"""

from __future__ import annotations

from functools import reduce

import numpy as np

from flexhub.agent.optimize.stack import StoreArrays

TINY_DECAY = 1e-9
COMPACT_EVERY = 4  # steps between compactions (every step: slower, measured)


def allowed_feedback(prices: np.ndarray) -> np.ndarray:
    """Where a two-way device may feed back: at a price >= 0 (N,)."""
    return prices >= 0


def lowest_power(a: StoreArrays, prices: np.ndarray) -> np.ndarray:
    """The least power (B, N) each store may draw at each step: its ``p_min`` where it may
    feed back (``allowed_feedback``), else 0."""
    p_lo = np.where(allowed_feedback(prices)[None, :] & (a.gain_out[:, None] > 0), a.p_min, 0.0)
    return np.minimum(p_lo, 0.0)


def solve(
    a: StoreArrays,
    prices: np.ndarray,
    dt: float,
    cap: np.ndarray | None = None,
    big: float = 1e6,
) -> tuple[np.ndarray, np.ndarray]:
    """The optimal power (B, N) of every store alone, each under its own per-step cap on power
    (``cap``: kW, ``inf`` = none; what a location's limit leaves the store), and a mask of the
    rows solved (False: a decay of zero or hard limits that no schedule meets; the caller
    decides)."""
    b, n = a.size, a.steps
    cap = np.full((b, n), np.inf) if cap is None else cap
    ok = (a.decay > TINY_DECAY).all(axis=1)
    decay = np.where(ok[:, None], a.decay, 1.0)
    big_a = np.ones((b, n + 1))
    big_a[:, 1:] = np.cumprod(decay, axis=1)
    yf = np.empty((b, n + 1))
    yf[:, 0] = a.x0
    yf[:, 1:] = a.x0[:, None] + np.cumsum(a.drift / big_a[:, 1:], axis=1)
    with np.errstate(invalid="ignore"):
        v_lo, v_hi = a.x_min / big_a - yf, a.x_max / big_a - yf
        d_low, d_high = a.low / big_a - yf, a.high / big_a - yf
    w_low = np.where(np.isfinite(d_low), a.penalty[:, None] * big_a, 0.0)
    w_high = np.where(np.isfinite(d_high), a.penalty[:, None] * big_a, 0.0)

    starts, lengths, slopes = _pieces(a, prices, dt, cap, big, big_a)
    live = [i for i in range(3) if (lengths[:, i] > 0).any()]
    future = _Future.of(slopes, lengths, v_lo, d_low, d_high)
    per_step = len(live) + int(np.isfinite(d_low).any()) + int(np.isfinite(d_high).any())
    seg = _Segments(b, 2 + n * per_step)
    # step-major (``_pieces`` too): each step of the loops reads whole contiguous rows
    lo_k, hi_k, dl_k, dh_k, wl_k, wh_k = (
        np.ascontiguousarray(x.T) for x in (v_lo, v_hi, d_low, d_high, w_low, w_high)
    )
    bounded = (np.isfinite(lo_k) | np.isfinite(hi_k)).any(axis=1)
    soft_low, soft_high = np.isfinite(dl_k).any(axis=1), np.isfinite(dh_k).any(axis=1)
    crossings = np.zeros((n, 3, b))
    for k in range(1, n + 1):
        j = k - 1
        for i in live:
            crossings[j, i] = seg.crossing(slopes[j, i])
        seg.move(starts[j, 0])
        for i in live:
            seg.insert(slopes[j, i], lengths[j, i])
        if bounded[k]:
            ok &= seg.clip(lo_k[k], hi_k[k])
        if soft_low[k]:
            seg.soft(dl_k[k], -wl_k[k], left=True)
        if soft_high[k]:
            seg.soft(dh_k[k], wh_k[k], left=False)
        if k < n and COMPACT_EVERY and k % COMPACT_EVERY == 0:
            seg.compact(*future.at(k))

    v_end = seg.crossing(np.zeros(b))
    added = np.zeros((n, b))
    for j in range(n - 1, -1, -1):
        step = starts[j, 0].copy()
        for i in live:
            step += np.clip(v_end - crossings[j, i] - starts[j, i], 0.0, lengths[j, i])
        added[j] = step
        v_end = v_end - step
    added = added.T
    gain_out = np.where(a.gain_out > 0, a.gain_out, 1.0)
    scale = big_a[:, 1:] / dt
    power = np.where(
        added > 0, added * scale / a.gain_in[:, None], added * scale / gain_out[:, None]
    )
    power = np.nan_to_num(power)
    return power, ok


class _Future:
    """What the steps after state ``k`` can still do to a segment, so that the segments that
    can no longer matter are dropped (exactly: no crossing nor the optimum changes):

    - a segment whose slope is below every slope a later step adds (and below 0), and which
      ends below every later soft upper limit (so no later penalty raises it), is counted in
      every later crossing: it merges into the leftmost point;
    - a segment whose slope is at or above every later step's slope (and 0), and which begins
      beyond every later soft lower limit and hard lower bound (so nothing lowers its slope or
      forces ``V`` into it), is never counted: it is cut off the right end.
    """

    def __init__(self, low, high, left, right) -> None:
        self.low, self.high, self.left, self.right = low, high, left, right

    @classmethod
    def of(cls, slopes, lengths, v_lo, d_low, d_high) -> _Future:
        # step-major (steps, rows): the accumulations run over whole rows, ``at`` reads rows
        live = lengths > 0  # (N, 3, B), like ``slopes``
        pieces = range(slopes.shape[1])
        step_min = reduce(np.minimum, [np.where(live[:, i], slopes[:, i], np.inf) for i in pieces])
        step_max = reduce(np.maximum, [np.where(live[:, i], slopes[:, i], -np.inf) for i in pieces])
        low = np.minimum(np.minimum.accumulate(step_min[::-1], axis=0)[::-1], 0.0)
        high = np.maximum(np.maximum.accumulate(step_max[::-1], axis=0)[::-1], 0.0)
        ceiling = np.minimum.accumulate(np.nan_to_num(d_high.T[::-1], nan=np.inf), axis=0)
        floors = np.maximum(np.nan_to_num(d_low, nan=-np.inf), v_lo).T
        floor = np.maximum.accumulate(floors[::-1], axis=0)
        return cls(low, high, ceiling[::-1], floor[::-1])

    def at(self, k: int):
        """Thresholds for the segments after state ``k`` (later steps: ``k`` on; later states:
        ``k + 1`` on)."""
        return self.low[k], self.high[k], self.left[k + 1], self.right[k + 1]


def _pieces(a: StoreArrays, prices, dt, cap, big, big_a):
    """Each step's cost as three segments in ``v`` (start, length, slope; (N, 3, B)): feeding
    back within the cap, feeding back over it, drawing (over the cap or not)."""
    p_lo = lowest_power(a, prices)
    over = cap < 0
    q = np.where(over, np.clip(cap, p_lo, 0.0), 0.0)
    r = np.where(over, a.p_max, np.clip(np.minimum(a.p_max, cap), 0.0, None))
    r = np.maximum(r, 0.0)
    after = big_a[:, 1:]
    gi = a.gain_in[:, None] * dt / after
    go = a.gain_out[:, None] * dt / after
    go_safe = np.where(go > 0, go, 1.0)
    gi_safe = np.where(gi > 0, gi, 1.0)
    price = np.broadcast_to(prices[None, :], p_lo.shape)
    extra = np.where(over, big, 0.0)
    starts = _step_major([go * p_lo, go * q, np.zeros_like(q)])
    lengths = _step_major([go * (q - p_lo), go * (0.0 - q), gi * r])
    slopes = _step_major(
        [price * dt / go_safe, (price + extra) * dt / go_safe, (price + extra) * dt / gi_safe]
    )
    return starts, np.maximum(lengths, 0.0), slopes


def _step_major(parts: list[np.ndarray]) -> np.ndarray:
    """(B, N) arrays as one (N, len(parts), B) array, so that a step's rows are contiguous."""
    return np.stack([p.T for p in parts], axis=1)


class _Segments:
    """Convex piecewise-linear functions of ``V``, one per row: the leftmost point ``lo`` and
    the segments in slope order, each as its slope and its right end relative to ``lo``
    (``ends``, nondecreasing). The last used segment is a sentinel of slope ``inf`` and
    length 0. Stored slot-major, ``(slots, rows)``: every operation is a few passes over the
    used slots, each a contiguous block, and the counts along the slots are sums of whole
    rows of ``rows`` values (1.3-1.6 times faster than row-major, measured)."""

    def __init__(self, rows: int, slots: int) -> None:
        self.lo = np.zeros(rows)
        self.floor = np.zeros(rows)  # the domain's left end (``lo`` less what was merged)
        self.slopes = np.full((slots, rows), np.inf)
        self.ends = np.zeros((slots, rows))
        self.used = 1
        self.rows = np.arange(rows)
        self.idx = np.arange(slots)[:, None]

    def move(self, by: np.ndarray) -> None:
        self.lo += by
        self.floor += by

    def _at(self, count: np.ndarray) -> np.ndarray:
        """The right end of segment ``count - 1`` of each row (0 where ``count`` is 0)."""
        flat = np.maximum(count - 1, 0) * len(self.rows) + self.rows  # ``take``: 1D, faster
        return np.where(count > 0, self.ends.ravel().take(flat), 0.0)

    def crossing(self, slope: np.ndarray) -> np.ndarray:
        """The left end of the first segment whose slope is not below ``slope``."""
        return self.lo + self._at(_count(self.slopes[: self.used] < slope))

    def _shift(self, pos: np.ndarray, grow: np.ndarray | None) -> None:
        """Open a slot at ``pos`` (the segments from ``pos`` on move one on, their ends grown
        by ``grow``, if given)."""
        u = self.used
        m = int(pos.min(initial=u))  # the slots below the lowest ``pos`` stay (a fifth)
        after = self.idx[m + 1 : u + 1] > pos
        np.copyto(self.slopes[m + 1 : u + 1], self.slopes[m:u], where=after)  # (overlap-safe)
        grown = self.ends[m:u] if grow is None else self.ends[m:u] + grow
        np.copyto(self.ends[m + 1 : u + 1], grown, where=after)
        self.used = u + 1

    def insert(self, slope: np.ndarray, length: np.ndarray) -> None:
        pos = _count(self.slopes[: self.used] < slope)
        before = self._at(pos)
        self._shift(pos, length)
        self.slopes[pos, self.rows] = slope
        self.ends[pos, self.rows] = before + length

    def clip(self, low: np.ndarray, high: np.ndarray) -> np.ndarray:
        """Keep ``low <= V <= high``; False for rows where nothing is left. A ``high`` inside
        the merged part leaves only merged segments (all counted): ``lo`` moves to it."""
        u = self.used
        total = self.ends[u - 1]
        feasible = (high >= self.floor - 1e-9) & (low <= self.lo + total + 1e-9)
        floor = np.maximum(self.floor, low)
        lo = np.maximum(self.lo, low)
        lo = np.where(high < lo, np.maximum(high, floor), lo)
        lo = np.where(feasible, lo, self.lo)
        room = np.maximum(high - lo, 0.0)
        self.ends[:u] = np.clip(self.ends[:u] - (lo - self.lo), 0.0, room)
        self.lo = lo
        self.floor = np.where(feasible, np.minimum(floor, lo), self.floor)
        return feasible

    def compact(self, low, high, left, right) -> None:
        """Merge and cut what can no longer matter (see :class:`_Future`), drop empty
        segments, and shrink to the longest row."""
        u = self.used
        if u < 2:
            return
        slopes, ends = self.slopes[: u - 1], self.ends[: u - 1]  # without the sentinel
        begins = np.concatenate([np.zeros((1, len(self.rows))), ends[:-1]], axis=0)
        merge = (slopes < low) & (self.lo + ends <= left)
        merge = np.logical_and.accumulate(merge, axis=0)
        cut = (slopes >= high) & (self.lo + begins >= right)
        cut = np.logical_and.accumulate(cut[::-1], axis=0)[::-1]
        keep = ~merge & ~cut & (ends > begins)
        length = self._at(_count(merge))
        count = _count(keep)
        width = int(count.max(initial=0)) + 1
        place = np.cumsum(keep, axis=0) - 1
        slots, rows = np.nonzero(keep)
        new_slopes = np.full((width, len(self.rows)), np.inf)
        new_ends = np.zeros((width, len(self.rows)))
        new_slopes[place[slots, rows], rows] = slopes[slots, rows]
        new_ends[place[slots, rows], rows] = ends[slots, rows] - length[rows]
        total = np.where(count > 0, new_ends[np.maximum(count - 1, 0), self.rows], 0.0)
        self.slopes[:width] = new_slopes
        self.ends[:width] = np.where(self.idx[:width] < count, new_ends, total)
        self.lo = self.lo + length
        self.used = width

    def soft(self, at: np.ndarray, change: np.ndarray, left: bool) -> None:
        """Add ``change`` to the slopes left (or right) of ``at``, splitting the segment there."""
        u = self.used
        d = at - self.lo
        pos = np.minimum(_count(self.ends[:u] < d), u - 1)
        cut = np.clip(d, self._at(pos), self.ends[pos, self.rows])
        self._shift(pos, None)
        self.ends[pos, self.rows] = cut
        if left:  # slots up to the highest ``pos``
            top = int(pos.max(initial=-1)) + 1
            side, used = self.idx[:top] <= pos, self.slopes[:top]
        else:  # slots from the lowest ``pos`` on
            low = int(pos.min(initial=self.used)) + 1
            side, used = self.idx[low : self.used] > pos, self.slopes[low : self.used]
        np.add(used, change, out=used, where=side)


def _count(mask: np.ndarray) -> np.ndarray:
    """``mask.sum(axis=0)`` for a boolean (slots, rows) array, as ``intp``: summed as bytes
    while the count fits one (5-6 times faster than numpy's sum of booleans, measured)."""
    if len(mask) < 256:
        return np.add.reduce(mask.view(np.uint8), axis=0, dtype=np.uint8).astype(np.intp)
    return mask.sum(axis=0)
