"""The processor: acts on the inbox's unprocessed messages, oldest first, after their webhook
was answered (or after a restart: whatever was stored and not processed is processed then).
A message is marked processed once acted on; a failure to reach the platform leaves it for the
next round, any other failure is recorded as its outcome."""

from __future__ import annotations

import asyncio
import logging
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

    async def step(self) -> float | None:
        """One round over what is unprocessed: the messages of one instruction (or event) in
        order, different ones side by side (at most ``CONCURRENCY`` at a time)."""
        groups: dict[str, list[dict[str, Any]]] = {}
        for message in await self.ctx.store.unprocessed(limit=500):
            groups.setdefault(_thread(message), []).append(message)
        if not groups:
            return None
        gate = asyncio.Semaphore(CONCURRENCY)

        async def run(messages: list[dict[str, Any]]) -> bool:
            async with gate:
                for message in messages:
                    if self.stopping or not await self._one(message):
                        return False
                return True

        # every group ends before the round does (an error in one does not leave the others
        # running into the next round, which would fetch and act on their messages again)
        done = await asyncio.gather(*(run(g) for g in groups.values()), return_exceptions=True)
        for failed in (d for d in done if isinstance(d, BaseException)):
            log.error("processing a message failed", exc_info=failed)
        return RETRY_SECONDS if not all(d is True for d in done) else 0.0

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
