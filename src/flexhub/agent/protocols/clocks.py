"""What the protocol servers need of a clock: ``now()``, and ``sleep_until(when)`` if it has
one. The agent's clock (which may run fast, as the simulated devices' does) fits; the default
is the wall clock. Network timeouts and keep-alives stay on the wall clock whatever the clock
says."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Protocol

from flexhub.clock import utcnow


class Now(Protocol):
    def now(self) -> datetime: ...


class WallClock:
    def now(self) -> datetime:
        return utcnow()


async def sleep_until(clock: Now, when: datetime) -> None:
    """Return at ``when`` of ``clock`` (its own ``sleep_until`` if it has one)."""
    own = getattr(clock, "sleep_until", None)
    if own is not None:
        await own(when)
        return
    wait = (when - clock.now()).total_seconds()
    if wait > 0:
        await asyncio.sleep(wait)
