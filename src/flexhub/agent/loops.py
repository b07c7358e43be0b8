"""A loop that runs a step whenever it is woken (or every ``every`` seconds of the wall
clock), and logs and survives the step's errors: the processor, the scheduler, the report
sender and the reconciler are each one."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


class Loop:
    def __init__(
        self,
        name: str,
        step: Callable[[], Awaitable[float | None]],
        every: float,
        *,
        wait_first: bool = False,
    ) -> None:
        """``step`` returns how many wall seconds to wait at most before the next run
        (``None``: ``every``); ``wait_first``: the first run after ``every`` (it ran just
        before)."""
        self.wait_first = wait_first
        self.name = name
        self._step = step
        self.every = every
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._between = asyncio.Event()  # set while waiting between steps

    def start(self) -> Loop:
        self._task = asyncio.create_task(self._run(), name=f"agent-{self.name}")
        return self

    def wake(self) -> None:
        self._wake.set()

    async def _run(self) -> None:
        if self.wait_first:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.every)
        while True:
            self._wake.clear()
            self._between.clear()
            wait = self.every
            try:
                got = await self._step()
                if got is not None:
                    wait = min(max(got, 0.0), self.every)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s failed; trying again", self.name)
            self._between.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=wait)

    async def stop(self, grace: float = 0.0) -> None:
        """Stop; a step under way is given ``grace`` seconds to end first."""
        if self._task is not None and grace > 0 and not self._task.done():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._between.wait(), timeout=grace)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
