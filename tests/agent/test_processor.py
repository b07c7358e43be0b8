"""The processor's rounds on a real agent store (SQLite file): a message whose processed mark
cannot be written is left for a later round, and a round ends only when every message it took
has ended, so no message is acted on by two rounds at once."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from sqlalchemy.exc import OperationalError

from flexhub.agent import processor as processor_module
from flexhub.agent.inbox import AgentStore
from flexhub.agent.loops import Loop
from flexhub.agent.processor import RETRY_SECONDS, Processor
from flexhub.clients import TransportError


class SlowEvents:
    """The event handler: ``slow`` events wait for ``release``; every call is counted."""

    def __init__(self, slow: set[str]) -> None:
        self.slow, self.calls, self.release = slow, [], asyncio.Event()

    async def on_event(self, event_id: str, payload: dict) -> str:
        self.calls.append(event_id)
        if event_id in self.slow:
            await self.release.wait()
        return f"handled {event_id}"


async def _message(store: AgentStore, event_id: str) -> None:
    body = {"eventId": event_id, "payload": {"payloadType": "PriceCurve"}}
    await store.store_message("ec", "PriceCurve", event_id, body, [f"ec:event:{event_id}"])


async def test_a_failed_mark_leaves_the_message_and_the_round_waits_for_the_others(tmp_path):
    store = await AgentStore(f"sqlite+aiosqlite:///{tmp_path / 'agent.db'}").open()
    try:
        await _message(store, "fails-to-mark")
        await _message(store, "slow")
        events = SlowEvents({"slow"})
        processor = Processor(SimpleNamespace(store=store), dispatcher=None, events=events)
        mark = store.mark_processed
        failures = []

        async def flaky_mark(message_id: int, outcome: str) -> None:
            if outcome == "handled fails-to-mark" and not failures:
                failures.append(message_id)
                raise OperationalError("UPDATE inbox", {}, Exception("database is locked"))
            await mark(message_id, outcome)

        store.mark_processed = flaky_mark
        first = asyncio.create_task(processor.step())
        while len(events.calls) < 2:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)
        assert not first.done()  # the slow message is still being processed: the round waits
        events.release.set()
        assert await first == RETRY_SECONDS  # one message could not be marked
        assert [m["subject"] for m in await store.unprocessed()] == ["fails-to-mark"]

        assert await processor.step() == 0.0
        assert await store.unprocessed() == []
        assert sorted(events.calls) == ["fails-to-mark", "fails-to-mark", "slow"]
    finally:
        await store.close()


async def test_a_stop_lets_the_messages_under_way_finish_and_starts_no_new_ones(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(processor_module, "CONCURRENCY", 3)  # the 4th waits for a turn
    store = await AgentStore(f"sqlite+aiosqlite:///{tmp_path / 'agent.db'}").open()
    try:
        for name in ("slow-0", "slow-1", "slow-2", "waiting"):
            await _message(store, name)
        events = SlowEvents({"slow-0", "slow-1", "slow-2"})
        processor = Processor(SimpleNamespace(store=store), dispatcher=None, events=events)
        loop = Loop("processor", processor.step, 1.0).start()
        while len(events.calls) < 3:
            await asyncio.sleep(0.01)
        processor.stopping = True
        stopping = asyncio.create_task(loop.stop(grace=10))
        await asyncio.sleep(0.2)
        assert not stopping.done()  # waiting for the three under way
        events.release.set()
        await stopping
        assert [m["subject"] for m in await store.unprocessed()] == ["waiting"]  # not started
        assert sorted(events.calls) == ["slow-0", "slow-1", "slow-2"]
    finally:
        await store.close()


async def test_a_message_stored_during_a_round_joins_it(tmp_path):
    """A round under way takes in what arrives: a new event is handled while a slow one of the
    round is still being processed; a later message of the slow one's thread runs after it;
    the round ends with all of them."""
    store = await AgentStore(f"sqlite+aiosqlite:///{tmp_path / 'agent.db'}").open()
    try:
        await _message(store, "slow")
        events = SlowEvents({"slow"})
        processor = Processor(SimpleNamespace(store=store), dispatcher=None, events=events)
        round_ = asyncio.create_task(processor.step())
        while events.calls != ["slow"]:
            await asyncio.sleep(0.01)
        await _message(store, "newcomer")
        processor.notify()
        while "newcomer" not in events.calls:
            await asyncio.sleep(0.01)
        for _ in range(50):  # the newcomer is marked processed while "slow" still runs
            if [m["subject"] for m in await store.unprocessed()] == ["slow"]:
                break
            await asyncio.sleep(0.01)
        assert [m["subject"] for m in await store.unprocessed()] == ["slow"]
        # a second message of the slow event's thread waits for the first to end
        body = {"eventId": "slow", "payload": {"payloadType": "PriceCurve"}}
        await store.store_message("ec", "PriceCurve", "slow", body, ["ec:notification:again"])
        processor.notify()
        await asyncio.sleep(0.2)
        assert events.calls == ["slow", "newcomer"]
        assert not round_.done()
        events.release.set()
        assert await round_ == 0.0
        assert await store.unprocessed() == []
        assert events.calls == ["slow", "newcomer", "slow"]
    finally:
        await store.close()


async def test_a_thread_that_could_not_reach_the_platform_is_taken_again_in_a_long_round(
    tmp_path, monkeypatch
):
    """Under steady load a round may last: a message whose platform call failed is not left
    until the round ends, but taken again after the retry delay, when the round looks again."""
    monkeypatch.setattr(processor_module, "RETRY_SECONDS", 0.1)
    store = await AgentStore(f"sqlite+aiosqlite:///{tmp_path / 'agent.db'}").open()
    try:
        await _message(store, "slow")
        await _message(store, "flaky")
        events = SlowEvents({"slow"})
        handle = events.on_event

        async def on_event(event_id: str, payload: dict) -> str:
            if event_id == "flaky" and events.calls.count("flaky") == 0:
                events.calls.append(event_id)
                raise TransportError("POST", "http://platform/reports", OSError("refused"))
            return await handle(event_id, payload)

        events.on_event = on_event
        processor = Processor(SimpleNamespace(store=store), dispatcher=None, events=events)
        round_ = asyncio.create_task(processor.step())
        while "flaky" not in events.calls:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.15)
        await _message(store, "later")  # the round looks again: flaky's delay is over
        processor.notify()
        for _ in range(100):
            if [m["subject"] for m in await store.unprocessed()] == ["slow"]:
                break
            await asyncio.sleep(0.01)
        assert [m["subject"] for m in await store.unprocessed()] == ["slow"]
        assert events.calls.count("flaky") == 2 and not round_.done()
        events.release.set()
        assert await round_ == 0.0
    finally:
        await store.close()
