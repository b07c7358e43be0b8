"""The simulated devices' clock: it starts at ``origin`` and runs ``speed`` times as fast as the
wall, so that a day of charging plays out in minutes. It has the agent's clock interface
(``now``, ``to_wall``, ``sleep_until``), so the CSMS or CEM under test can read the same time.
Only device time runs fast: network timeouts and reconnect delays stay on the wall clock."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta


class SimClock:
    def __init__(self, speed: float = 1.0, origin: datetime | None = None) -> None:
        if speed <= 0:
            raise ValueError("a clock runs forwards: speed must be positive")
        self.speed = float(speed)
        self.origin = (origin or datetime.now(UTC)).astimezone(UTC)
        self._t0 = time.monotonic()

    def now(self) -> datetime:
        return self.origin + timedelta(seconds=(time.monotonic() - self._t0) * self.speed)

    def to_wall(self, duration: timedelta) -> float:
        return max(0.0, duration.total_seconds() / self.speed)

    async def sleep_until(self, when: datetime) -> None:
        while True:  # asyncio may wake a little early: top up
            wait = self.to_wall(when - self.now())
            if wait <= 0:
                return
            await asyncio.sleep(wait)

    async def sleep(self, seconds: float) -> None:
        """Sleep ``seconds`` of this clock's time."""
        await self.sleep_until(self.now() + timedelta(seconds=seconds))
