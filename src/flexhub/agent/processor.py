"""The processor: acts on the inbox's unprocessed messages, oldest first, after their webhook
was answered (or after a restart: whatever was stored and not processed is processed then).
A message is marked processed once acted on; a failure to reach the platform leaves it for the
next round, any other failure is recorded as its outcome."""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from typing import Any

from flexhub.agent.context import Context
from flexhub.agent.dispatch import Dispatcher
from flexhub.agent.events import EventHandler
from flexhub.agent.observe import log_context
from flexhub.clients import ApiError, TransportError
from flexhub.wire.flexmarket.dispatches import InstructionOut

log = logging.getLogger(__name__)
RETRY_SECONDS = 2.0
CONCURRENCY = 32  # instructions and events processed side by side


def _thread(message: dict[str, Any]) -> str:
    """What a message is about: a stop belongs with the instruction it stops."""
    if message["source"] == "fm":
        data = message["body"].get("data") or {}
        return "fm:" + str(data.get("stops") or data.get("id") or message["subject"])
    return "ec:" + message["subject"]


def transient(exc: BaseException) -> bool:
    return isinstance(exc, TransportError) or (
        isinstance(exc, ApiError) and (exc.status >= 500 or exc.status == 429)
    )


class Processor:
    def __init__(self, ctx: Context, dispatcher: Dispatcher, events: EventHandler) -> None:
        self.ctx = ctx
        self.dispatcher = dispatcher
        self.events = events
        self.stopping = False  # set at shutdown: the round ends after the messages under way
        self._arrived = False  # set by ``notify``: something new is in the inbox
        self._changed = asyncio.Event()  # something arrived, or a thread of the round ended

    def notify(self) -> None:
        """A message was stored: a round under way takes it in (see ``step``)."""
        self._arrived = True
        self._changed.set()

    async def step(self) -> float | None:
        """One round over what is unprocessed: the messages of one instruction (or event) in
        order, different ones side by side (at most ``CONCURRENCY`` at a time). While the round
        runs, what arrives (``notify``) joins it: a new instruction does not wait for the
        slowest of the round before it (an answer queueing at the platform), and a message of
        an instruction under way runs after that instruction's others. A thread that could not
        reach the platform is taken again ``RETRY_SECONDS`` later. The round ends when
        everything it took has ended, so no message is acted on by two rounds at once; what it
        keeps is bounded by what is unprocessed, however long it lasts."""
        gate = asyncio.Semaphore(CONCURRENCY)
        queues: dict[str, collections.deque[dict[str, Any]]] = {}  # thread -> still to run
        taken: set[int] = set()  # ids in the queues, or fetched while they were being marked
        failed: dict[str, float] = {}  # thread -> when it stopped on an unreachable platform
        running: set[asyncio.Task] = set()
        errors: list[BaseException] = []

        async def run(thread: str) -> None:
            queue = queues[thread]
            async with gate:
                while queue:
                    if self.stopping or not await self._one(queue[0]):
                        failed[thread] = time.monotonic()
                        taken.difference_update(m["id"] for m in queue)  # for a later turn
                        queue.clear()
                        break
                    queue.popleft()
            if queues.get(thread) is queue:
                del queues[thread]

        def done(task: asyncio.Task) -> None:
            running.discard(task)
            if not task.cancelled() and task.exception() is not None:
                errors.append(task.exception())
            self._changed.set()  # the round ends when nothing runs

        async def take() -> None:
            now = time.monotonic()
            for thread in [t for t, at in failed.items() if now - at >= RETRY_SECONDS]:
                del failed[thread]
            fetched = await self.ctx.store.unprocessed(limit=500)
            for message in fetched:
                thread = _thread(message)
                if message["id"] in taken or thread in failed:
                    continue
                taken.add(message["id"])
                queue = queues.get(thread)
                if queue:  # under way: runs after the thread's messages before it
                    queue.append(message)
                    continue
                queues[thread] = collections.deque([message])
                task = asyncio.create_task(run(thread))
                running.add(task)
                task.add_done_callback(done)
            # an id neither unprocessed any more nor queued was processed: forget it
            taken.intersection_update(
                {m["id"] for m in fetched} | {m["id"] for q in queues.values() for m in q}
            )

        self._arrived = False
        await take()
        if not running:
            return None
        while running:
            await self._changed.wait()
            self._changed.clear()
            if self._arrived and not self.stopping:
                self._arrived = False
                await take()
        for failure in errors:  # every thread has ended (an error in one left none running)
            log.error("processing a message failed", exc_info=failure)
        return RETRY_SECONDS if failed or errors else 0.0

    async def _one(self, message: dict[str, Any]) -> bool:
        """Process one message; ``False`` when the platform could not be reached."""
        if message["source"] == "ec":
            ids = {"event": message["subject"]}
        else:
            ids = {"instruction": message["subject"], "event": message["body"].get("jti")}
        with log_context(**ids):
            try:
                outcome = await self.handle(message)
            except Exception as exc:
                if transient(exc):
                    log.warning("the platform could not be reached (%s); later", exc)
                    return False
                log.exception("processing failed")
                outcome = f"error: {type(exc).__name__}: {exc}"
            try:
                await self.ctx.store.mark_processed(message["id"], outcome)
            except Exception:  # the store was busy: acted on, so the next round's retry finds
                # it done (the dispatcher and the event handler check what they did before)
                log.warning("could not mark the message processed; later", exc_info=True)
                return False
            log.info("processed: %s", outcome)
        return True

    async def handle(self, message: dict[str, Any]) -> str:
        body = message["body"]
        if message["source"] == "ec":
            return await self.events.on_event(body["eventId"], body["payload"])
        event = body["event"]
        if event in ("dispatch_instruction.created", "dispatch_instruction.stopped"):
            return await self.dispatcher.on_instruction(InstructionOut.model_validate(body["data"]))
        if event == "dispatch_instruction.expired":
            return "expired before it was answered"
        return f"noted {event}"
