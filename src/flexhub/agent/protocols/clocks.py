"""What the protocol servers need of a clock: ``now()``. The agent's clock (which may run fast,
as the simulated devices' does) fits; the default is the wall clock. Network timeouts and
keep-alives stay on the wall clock whatever the clock says."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from flexhub.clock import utcnow


class Now(Protocol):
    def now(self) -> datetime: ...


class WallClock:
    def now(self) -> datetime:
        return utcnow()
