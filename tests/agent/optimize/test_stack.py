"""The fleet's arrays (``stack``) hold exactly the stores ``Device.store`` defines, for every
device type, on ordinary and DST days and on quarter-hour steps."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from flexhub.agent.optimize.devices import FixedLoad, store_of
from flexhub.agent.optimize.stack import fixed_profiles, from_stores, stack
from support.optimize_fleets import device, local_day


@pytest.mark.parametrize(
    ("day", "dt", "steps"),
    [(date(2026, 6, 10), 1.0, 24), (date(2026, 3, 29), 1.0, 23), (date(2026, 10, 25), 0.25, 100)],
)
def test_stack_equals_the_device_stores(day, dt, steps):
    rng = np.random.default_rng(7)
    h = local_day(day, dt=dt)
    assert h.steps == steps
    devices = [device(rng, h, kind % 5) for kind in range(60)]
    outdoor = rng.uniform(-5, 10, h.steps)
    fast = stack(devices, h, outdoor)
    slow = from_stores([store_of(d, h, outdoor) for d in devices], h.steps)
    for name in fast.__dataclass_fields__:
        np.testing.assert_allclose(
            getattr(fast, name), getattr(slow, name), rtol=1e-12, err_msg=name
        )


def test_fixed_profiles_equal_each_profile():
    rng = np.random.default_rng(3)
    h = local_day(date(2026, 10, 25))
    loads = [FixedLoad(tuple(rng.uniform(-3, 3, 24))) for _ in range(5)] + [FixedLoad((1.5,))]
    np.testing.assert_array_equal(fixed_profiles(loads, h), [f.profile(h) for f in loads])


def test_an_ev_is_plugged_in_for_whole_steps_only():
    """An EV that plugs in at 18:30 cannot charge in the step 18:00-19:00."""
    from datetime import timedelta

    from flexhub.agent.optimize.devices import EV

    h = local_day(date(2026, 6, 10))
    ev = EV(60, 11, h.start + timedelta(hours=18.5), h.start + timedelta(hours=21.5), 20)
    store = ev.store(h)
    assert list(np.nonzero(store.p_max)[0]) == [19, 20]
    assert store.soft[0].step == 21
