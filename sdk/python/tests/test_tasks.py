"""Stopping background tasks is bounded, even when a task swallows a cancellation."""

from __future__ import annotations

import asyncio

from toolpath._tasks import cancel_and_wait


async def _swallows_first_cancel(state: dict) -> None:
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        state["swallowed"] = True  # as a racing wait_for inside a client library can
    await asyncio.sleep(3600)


async def test_a_task_that_swallows_one_cancellation_is_cancelled_again():
    state: dict = {}
    task = asyncio.get_running_loop().create_task(_swallows_first_cancel(state))
    await asyncio.sleep(0)
    left = await cancel_and_wait([task], rounds=5, round_seconds=0.05)
    assert left == 0
    assert state == {"swallowed": True}
    assert task.cancelled()


async def _ignores_cancellation(stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            await stop.wait()
        except asyncio.CancelledError:
            pass


async def test_a_task_that_ignores_cancellation_is_left_after_the_rounds():
    stop = asyncio.Event()
    task = asyncio.get_running_loop().create_task(_ignores_cancellation(stop))
    await asyncio.sleep(0)
    assert await cancel_and_wait([task], rounds=3, round_seconds=0.01) == 1
    assert not task.done()
    stop.set()  # the test's own cleanup
    await task


async def test_failures_of_stopped_tasks_are_retrieved_not_raised():
    async def fails() -> None:
        raise ValueError("boom")

    task = asyncio.get_running_loop().create_task(fails())
    await asyncio.sleep(0)
    assert await cancel_and_wait([task]) == 0
    assert isinstance(task.exception(), ValueError)
