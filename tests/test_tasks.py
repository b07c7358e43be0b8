"""Stopping tasks for certain: a task that swallows a cancellation (as one awaiting
``asyncio.wait_for`` can on Python 3.11) is cancelled again until it ends; one that never ends
is given up on after the grace and named, instead of being waited for forever."""

from __future__ import annotations

import asyncio

import pytest

from flexhub.tasks import cancel_and_wait

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_a_task_that_swallows_its_first_cancel_is_cancelled_again():
    never = asyncio.Event()
    swallowed = 0

    async def worker():
        nonlocal swallowed
        while True:
            try:
                await never.wait()
            except asyncio.CancelledError:
                if swallowed:
                    raise
                swallowed += 1  # lost, as wait_for loses a cancel that meets an answer

    task = asyncio.create_task(worker())
    await asyncio.sleep(0)
    left = await cancel_and_wait([task], grace=5.0, every=0.05)
    assert left == set()
    assert task.cancelled()
    assert swallowed == 1


async def test_a_task_that_never_ends_is_named_and_not_waited_for(caplog):
    stop = asyncio.Event()

    async def stubborn():
        while not stop.is_set():
            try:
                await stop.wait()
            except asyncio.CancelledError:
                continue

    task = asyncio.create_task(stubborn(), name="stubborn")
    await asyncio.sleep(0)
    left = await cancel_and_wait([task], grace=0.2, every=0.05)
    assert left == {task}
    assert not task.done()
    assert "stubborn" in caplog.text
    stop.set()
    await task


async def test_finished_and_failing_tasks_are_fine():
    async def fails():
        raise ValueError("boom")

    done = asyncio.create_task(asyncio.sleep(0))
    failing = asyncio.create_task(fails())
    await asyncio.sleep(0.01)
    assert await cancel_and_wait([done, failing]) == set()
