"""The demo's day played for a test: ``scenario.play`` at a small size in the test's own
directory (SQLite), read back with ``figures.collect``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

from flexhub.demo import figures, scenario


async def played_day(
    workdir: Path, *, size: int = 16, seed: int = 7, day_seconds: float = 40.0
) -> AsyncIterator[tuple[scenario.Played, figures.Figures]]:
    async with scenario.play(size, seed, day_seconds=day_seconds, workdir=workdir) as played:
        yield played, await figures.collect(played)
