"""Stopping asyncio tasks for certain.

A cancelled task can swallow its cancellation: on Python 3.11 ``asyncio.wait_for`` (which the
``ocpp`` library awaits every answer with) loses a cancel that arrives as the awaited answer
does, and the task goes back to waiting for work that never comes. Gathering such a task after
one ``cancel()`` waits forever. :func:`cancel_and_wait` cancels again, every ``every`` seconds,
until each task has ended or ``grace`` has passed, and says which ones did not end."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

log = logging.getLogger(__name__)


async def cancel_and_wait(
    tasks: Iterable[asyncio.Task], grace: float = 10.0, every: float = 0.5
) -> set[asyncio.Task]:
    """Cancel ``tasks`` and wait for them to end (their results and exceptions are dropped);
    the ones still running after ``grace`` seconds are returned (and logged), not awaited."""
    pending = {t for t in tasks if not t.done()}
    loop = asyncio.get_running_loop()
    until = loop.time() + grace
    while pending:
        for task in pending:
            task.cancel()
        left = until - loop.time()
        if left <= 0:
            break
        _, pending = await asyncio.wait(pending, timeout=min(every, left))
    for task in pending:
        log.warning("task %s did not end %.0f s after being cancelled", task.get_name(), grace)
    return pending
