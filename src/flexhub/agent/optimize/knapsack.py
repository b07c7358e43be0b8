"""EVs without V2G, the whole fleet at once: a fractional knapsack over the plugged steps.

An EV that only charges has a store with no decay and no drift (``x[k+1] = x[k] + eff * dt *
p[k]``), power bounds that are zero outside its plugged steps, the hard range ``0 .. capacity``
and one soft limit, ``x >= target`` at departure (after every plugged step). Its state only
rises, so the hard range holds at every step exactly when the energy stored in all is at most
``capacity - soc``; the soft limit sees all of it too. With ``e[k]`` the kWh drawn in step
``k`` (``0 <= e[k] <= dt * p_max[k]``, where ``p_max`` is also capped by what a location's
limit leaves), the problem is

    minimise  sum_k price[k] e[k] + penalty * max(0, target - soc - eff * sum_k e[k])
    s.t.      eff * sum_k e[k] <= capacity - soc,

a linear cost per step and a concave value of the total drawn: each kWh is worth ``penalty *
eff`` until the target is met, then 0 until the battery is full. Taking the steps cheapest
first, each as far as its kWh is still worth more than its price, is optimal (the exchange
argument of the fractional knapsack: any schedule that draws in a dearer step while a cheaper
one has room is improved by moving energy to the cheaper one, which changes neither the total
nor any limit). Prices are shared by the whole fleet, so one ``argsort`` serves every EV; the
rest is a cumulative sum and a clip over a ``(B, N)`` array.
"""

from __future__ import annotations

import numpy as np

from flexhub.agent.optimize.stack import StoreArrays


def applies(a: StoreArrays) -> np.ndarray:
    """Rows the knapsack solves exactly: charge-only stores without decay or drift, at most
    one soft limit (a lower one, after the last step with power) and a constant hard top."""
    n = a.steps
    has_power = a.p_max > 0
    last_power = np.where(has_power.any(axis=1), n - np.argmax(has_power[:, ::-1], axis=1), 0)
    soft = np.isfinite(a.low[:, 1:])
    soft_step = np.where(soft.any(axis=1), np.argmax(soft, axis=1) + 1, n)
    return (
        (a.p_min >= 0).all(axis=1)
        & (a.decay == 1).all(axis=1)
        & (a.drift == 0).all(axis=1)
        & (soft.sum(axis=1) <= 1)
        & ~np.isfinite(a.high[:, 1:]).any(axis=1)
        & (soft_step >= last_power)
        & (a.x_max[:, 1:] == a.x_max[:, -1:]).all(axis=1)
        & (a.x_min[:, 1:] <= a.x0[:, None]).all(axis=1)
        & (a.gain_in > 0)
    )


def solve(a: StoreArrays, prices: np.ndarray, dt: float, cap: np.ndarray | None = None):
    """The optimal power (B, N) of rows for which :func:`applies` holds."""
    p_max = a.p_max if cap is None else np.clip(np.minimum(a.p_max, cap), 0.0, None)
    order = np.argsort(prices, kind="stable")
    room = dt * p_max[:, order]  # kWh each step may take, cheapest step first
    before = np.cumsum(room, axis=1) - room
    low = a.low[:, 1:]
    target = np.where(np.isfinite(low), low, -np.inf).max(axis=1)
    need = np.clip((target - a.x0) / a.gain_in, 0.0, None)  # kWh to draw for the target
    full = np.clip((a.x_max[:, -1] - a.x0) / a.gain_in, 0.0, None)  # kWh until full
    need = np.minimum(need, full)
    price = prices[order][None, :]
    worth = a.penalty[:, None] * a.gain_in[:, None]
    limit = np.where(price < 0, full[:, None], np.where(price < worth, need[:, None], 0.0))
    take = np.clip(limit - before, 0.0, room)
    energy = np.empty_like(take)
    energy[:, order] = take
    return energy / dt
