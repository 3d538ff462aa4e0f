"""The bounded worker pool: at most ``concurrency`` jobs exist at once, however large the walk.

As in aiometer, task creation is gated, not only execution: ``concurrency`` workers
take items from a queue of twice that size, so memory does not grow with the folder.
A stop (first Ctrl-C, a fatal error) lets the work in flight finish and hands every
item not yet started to ``skipped``. Cancellation (a second Ctrl-C) cancels everything
at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

Item = TypeVar("Item")


async def run_pool(
    items: Iterable[Item],
    work: Callable[[Item], Awaitable[None]],
    *,
    concurrency: int,
    stop: asyncio.Event,
    skipped: Callable[[Item], None],
) -> None:
    """Run ``work`` on each item with at most ``concurrency`` in flight.

    ``work`` must not raise for an item (a failure is a row); if it does, the pool
    stops at once and re-raises, so a bug can never leave the walk blocked on a full
    queue.
    """
    queue: asyncio.Queue[tuple[Item] | None] = asyncio.Queue(maxsize=concurrency * 2)

    async def produce() -> None:
        for item in items:
            if stop.is_set():
                skipped(item)
                continue
            await queue.put((item,))
        await queue.put(None)  # the end: each worker passes it on to the next

    async def worker() -> None:
        while (entry := await queue.get()) is not None:
            if stop.is_set():
                skipped(entry[0])
                continue
            await work(entry[0])
        # Passed on, not counted out per worker: a count taken while workers were
        # still exiting left one waiting for ever (seen with a full queue at a stop).
        queue.put_nowait(None)  # there is room: this worker just took it out

    workers = [asyncio.create_task(worker()) for _ in range(concurrency)]
    producer = asyncio.create_task(produce())
    try:
        # Should a worker die (a bug in ``work``), the walk would wait on a full queue
        # for workers that may never take from it again: watch both, and stop at the
        # first dead worker. A worker only ends before the walk does by raising.
        while not producer.done():
            for task in workers:
                if task.done():
                    task.result()  # re-raises what killed it; everything is cancelled below
            await asyncio.wait([producer, *workers], return_when=asyncio.FIRST_COMPLETED)
        await asyncio.gather(*workers)
    except BaseException:
        for task in (producer, *workers):
            task.cancel()
        await asyncio.gather(producer, *workers, return_exceptions=True)
        raise
    producer.result()
