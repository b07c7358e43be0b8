"""Helpers for the driver tests: drivers loaded through the registry with a config table and
an inventory, simulated devices on their endpoints, waiting for what the devices see, and the
schedule an optimizer gives an asset as the driver protocol's :class:`PowerSchedule`."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from flexhub.agent.drivers import AssetSpec, PowerSchedule, load_driver
from flexhub.agent.optimize.devices import Horizon
from flexhub.agent.policy import ScheduleRequest, ScheduleResult
from flexhub.clock import Clock


async def started(
    name: str, options: Mapping[str, Any], clock: Clock, assets: Sequence[AssetSpec]
) -> Any:
    """The driver ``name`` as the agent builds it: factory from the registry, then start."""
    driver = load_driver(name)(options, clock)
    await driver.start(assets)
    return driver


def next_step(clock: Clock, step: timedelta, lead: timedelta = timedelta(minutes=10)) -> datetime:
    """The first whole ``step`` at least ``lead`` from now (the clock's time)."""
    t = clock.now() + lead
    epoch = datetime(2000, 1, 1, tzinfo=UTC)
    return epoch + -(-(t - epoch) // step) * step


async def eventually(condition, timeout: float = 10.0):
    """Poll ``condition()`` (a function, or an async one) until it is true."""
    async with asyncio.timeout(timeout):
        while True:
            value = condition()
            if inspect.isawaitable(value):
                value = await value
            if value:
                return value
            await asyncio.sleep(0.02)


def as_schedule(horizon: Horizon, result: ScheduleResult, resource_id: str) -> PowerSchedule:
    """A policy's answer for one resource, as the driver protocol's schedule."""
    return PowerSchedule(
        horizon.start,
        timedelta(hours=horizon.dt),
        [float(kw) for kw in result.power_kw[resource_id]],
    )


def planned(policy: Any, request: ScheduleRequest, resource_id: str) -> PowerSchedule:
    return as_schedule(request.horizon, policy.schedule(request), resource_id)


def assert_follows(energy_kwh, schedule: PowerSchedule, tolerance: float = 0.02) -> None:
    """``energy_kwh(start, end)`` (the device's own record) matches the schedule per step."""
    hours = schedule.step.total_seconds() / 3600
    for k, kw in enumerate(schedule.kw):
        start = schedule.start + k * schedule.step
        got = energy_kwh(start, start + schedule.step)
        want = kw * hours
        assert got == pytest.approx(want, abs=tolerance * max(abs(want), 1.0)), (k, got, want)
