"""Callbacks for what a protocol server learns: each listener gets every event, in order; a
listener may be a plain function or a coroutine function (run as a task, so that a slow
listener never holds up the connection it came from). :meth:`Listeners.wait_for` waits until a
condition holds, checked after every event."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable
from typing import Any

from flexhub.tasks import cancel_and_wait

log = logging.getLogger(__name__)

Listener = Callable[[Any], Any]


class Listeners:
    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._tasks: set[asyncio.Task] = set()
        self._changed: asyncio.Event | None = None

    def add(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def remove(self, listener: Listener) -> None:
        self._listeners.remove(listener)

    def emit(self, event: object) -> None:
        for listener in list(self._listeners):
            try:
                result = listener(event)
            except Exception:
                log.exception("a listener failed on %s", type(event).__name__)
                continue
            if inspect.isawaitable(result):
                task = asyncio.ensure_future(result)
                self._tasks.add(task)
                task.add_done_callback(self._done)
        if self._changed is not None:
            self._changed.set()
            self._changed = None

    def _done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("a listener failed", exc_info=task.exception())

    async def wait_for(self, condition: Callable[[], Any], timeout: float = 10.0) -> Any:
        """The first true value of ``condition()``, checked now and after every event;
        TimeoutError after ``timeout`` wall seconds."""
        async with asyncio.timeout(timeout):
            while True:
                value = condition()
                if value:
                    return value
                if self._changed is None:
                    self._changed = asyncio.Event()
                await self._changed.wait()

    async def aclose(self) -> None:
        await cancel_and_wait(self._tasks)
