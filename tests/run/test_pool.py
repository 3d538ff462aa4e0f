"""The bounded worker pool (``batch_ocr/run/pool.py``): the limit, a stop, a bug, a cancel.

No test sleeps for real: work items yield to the loop with ``asyncio.sleep(0)`` or wait
on events, and every run is bounded by ``asyncio.wait_for`` so a hang fails fast.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator

import pytest

from batch_ocr.run.pool import run_pool

BOUND_S = 5.0


async def yield_a_few(times: int = 5) -> None:
    for _ in range(times):
        await asyncio.sleep(0)


@pytest.mark.parametrize(("concurrency", "count"), [(1, 10), (4, 40), (8, 5)])
async def test_at_most_concurrency_items_run_at_once(concurrency: int, count: int) -> None:
    running = 0
    most = 0
    done: list[int] = []

    async def work(item: int) -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await yield_a_few()
        running -= 1
        done.append(item)

    stop = asyncio.Event()
    skipped: list[int] = []
    await asyncio.wait_for(
        run_pool(range(count), work, concurrency=concurrency, stop=stop, skipped=skipped.append),
        BOUND_S)
    assert sorted(done) == list(range(count))
    assert skipped == []
    # The limit is reached (work does overlap) and never passed.
    assert most == min(concurrency, count)


async def test_the_walk_is_not_drawn_far_ahead_of_the_work() -> None:
    """Task creation is gated: an endless walk is only read a bounded distance ahead."""
    concurrency = 3
    drawn = 0
    finished = 0
    lead = 0
    stop = asyncio.Event()

    def endless() -> Iterator[int]:
        nonlocal drawn, lead
        for item in itertools.count():
            drawn += 1
            # Items skipped after the stop are not held: they do not count.
            lead = max(lead, drawn - finished - len(skipped))
            yield item

    async def work(item: int) -> None:
        nonlocal finished
        await yield_a_few(2)
        finished += 1
        if finished == 200:
            stop.set()

    skipped: list[int] = []

    def skip(item: int) -> None:
        skipped.append(item)
        if len(skipped) > 50:
            raise StopWalk

    class StopWalk(Exception):
        pass

    # An endless walk only ends when the producer raises; that reaches the caller.
    with pytest.raises(StopWalk):
        await asyncio.wait_for(
            run_pool(endless(), work, concurrency=concurrency, stop=stop, skipped=skip),
            BOUND_S)
    # queue (2 x concurrency) + one per worker + the one the producer holds.
    assert lead <= concurrency * 3 + 1


async def test_a_stop_skips_every_unstarted_item_and_lets_in_flight_ones_finish() -> None:
    items = list(range(30))
    stop = asyncio.Event()
    started: list[int] = []
    finished: list[int] = []
    started_after_stop: list[int] = []
    skipped: list[int] = []

    async def work(item: int) -> None:
        if stop.is_set():
            started_after_stop.append(item)
        started.append(item)
        if item == 5:
            stop.set()
        await yield_a_few()
        finished.append(item)

    await asyncio.wait_for(
        run_pool(items, work, concurrency=3, stop=stop, skipped=skipped.append), BOUND_S)

    assert started_after_stop == []
    assert 5 in started
    assert sorted(finished) == sorted(started), "an item in flight was dropped"
    assert not set(started) & set(skipped)
    assert sorted(started + skipped) == items, "an item was neither done nor skipped"
    assert 29 in skipped
    assert len(started) <= 5 + 3


async def test_work_that_raises_stops_the_pool_and_reraises() -> None:
    started: list[int] = []
    cancelled: list[int] = []
    gate = asyncio.Event()

    async def work(item: int) -> None:
        started.append(item)
        if item == 2:
            raise ValueError("a bug in work")
        try:
            await gate.wait()
        except asyncio.CancelledError:
            cancelled.append(item)
            raise

    stop = asyncio.Event()
    with pytest.raises(ValueError, match="a bug in work"):
        await asyncio.wait_for(
            run_pool(range(100), work, concurrency=3, stop=stop, skipped=lambda item: None),
            BOUND_S)
    # Stopped at once: the items in flight were cancelled, the rest never started.
    assert sorted(cancelled) == [0, 1]
    assert started == [0, 1, 2]


async def test_work_that_raises_while_others_progress_stops_the_walk() -> None:
    """One worker's bug must not let the others run the rest of the walk first."""
    started: list[int] = []

    async def work(item: int) -> None:
        started.append(item)
        if item == 4:
            raise RuntimeError("boom")
        await yield_a_few()

    stop = asyncio.Event()
    with pytest.raises(RuntimeError, match="boom"):
        await asyncio.wait_for(
            run_pool(range(1000), work, concurrency=4, stop=stop, skipped=lambda item: None),
            BOUND_S)
    assert len(started) < 4 * 4, f"{len(started)} items started after the bug struck"


async def test_every_worker_raising_does_not_hang_a_full_walk() -> None:
    async def work(item: int) -> None:
        raise KeyError(item)

    stop = asyncio.Event()
    with pytest.raises(KeyError):
        await asyncio.wait_for(
            run_pool(range(10_000), work, concurrency=2, stop=stop, skipped=lambda item: None),
            BOUND_S)


async def test_cancelling_the_pool_cancels_every_item_in_flight() -> None:
    entered = 0
    all_in = asyncio.Event()
    cancelled: list[int] = []
    never = asyncio.Event()

    async def work(item: int) -> None:
        nonlocal entered
        entered += 1
        if entered == 4:
            all_in.set()
        try:
            await never.wait()
        except asyncio.CancelledError:
            cancelled.append(item)
            raise

    stop = asyncio.Event()
    skipped: list[int] = []
    pool = asyncio.create_task(
        run_pool(range(50), work, concurrency=4, stop=stop, skipped=skipped.append))
    await asyncio.wait_for(all_in.wait(), BOUND_S)
    pool.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(pool, BOUND_S)
    assert sorted(cancelled) == [0, 1, 2, 3]
    assert entered == 4
    assert skipped == []
