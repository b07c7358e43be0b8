"""Clocks. Everything may import this module (platform, agent, sim, store).

``utcnow()`` is the wall clock in UTC. A :class:`Clock` is what long-running parts (the agent,
the simulated devices, the demo) read time from: :class:`SystemClock` is the wall clock,
:class:`ScaledClock` starts at ``origin`` and runs ``speed`` times as fast as the wall, so that a
day plays out in a minute. Only the clock's time runs fast: network timeouts, retries and
reconnect delays stay on the wall clock whatever the clock says.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


def utcnow() -> datetime:
    return datetime.now(UTC)


class Clock(Protocol):
    def now(self) -> datetime: ...

    def to_wall(self, duration: timedelta) -> float:
        """Wall-clock seconds that ``duration`` of this clock's time takes."""
        ...

    async def sleep_until(self, when: datetime) -> None: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    speed = 1.0

    def now(self) -> datetime:
        return utcnow()

    def to_wall(self, duration: timedelta) -> float:
        return max(0.0, duration.total_seconds())

    async def sleep_until(self, when: datetime) -> None:
        while True:  # asyncio may wake a little early: top up
            wait = (when - self.now()).total_seconds()
            if wait <= 0:
                return
            await asyncio.sleep(wait)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class ScaledClock:
    def __init__(
        self, speed: float = 1.0, origin: datetime | None = None, *, held: bool = False
    ) -> None:
        """``held``: the clock stands at ``origin`` until ``release()`` (the demo sets up what
        its day needs before the day's time starts to run)."""
        if speed <= 0:
            raise ValueError("a clock runs forwards: speed must be positive")
        self.speed = float(speed)
        self.origin = (origin or utcnow()).astimezone(UTC)
        self._t0: float | None = None if held else time.monotonic()

    @property
    def held(self) -> bool:
        return self._t0 is None

    def release(self) -> None:
        """Start a clock made with ``held=True`` (it stood at ``origin`` until now)."""
        if self._t0 is None:
            self._t0 = time.monotonic()

    def now(self) -> datetime:
        if self._t0 is None:
            return self.origin
        return self.origin + timedelta(seconds=(time.monotonic() - self._t0) * self.speed)

    def to_wall(self, duration: timedelta) -> float:
        return max(0.0, duration.total_seconds() / self.speed)

    async def sleep_until(self, when: datetime) -> None:
        while True:
            wait = self.to_wall(when - self.now())
            if wait <= 0:
                return
            await asyncio.sleep(wait)

    async def sleep(self, seconds: float) -> None:
        """Sleep ``seconds`` of this clock's time."""
        await self.sleep_until(self.now() + timedelta(seconds=seconds))
