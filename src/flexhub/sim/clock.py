"""The simulated devices' clock is the project's :class:`flexhub.clock.ScaledClock`: it starts
at ``origin`` and runs ``speed`` times as fast as the wall, and the CSMS or CEM under test can
read the same time."""

from __future__ import annotations

from flexhub.clock import ScaledClock as SimClock

__all__ = ["SimClock"]
