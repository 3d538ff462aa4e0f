"""The rate limit (``batch_ocr/engines/api/meters.py``) on a fake clock: no test really waits."""

from __future__ import annotations

import asyncio

import pytest

from batch_ocr.engines.api.meters import RateLimit


class FakeTime:
    """A clock that only moves when someone sleeps on it."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.mark.parametrize(("qps", "count"), [(10.0, 6), (2.0, 4), (0.5, 3), (1000.0, 50)])
async def test_sequential_acquires_are_spaced_one_interval_apart(qps: float, count: int) -> None:
    fake = FakeTime()
    limit = RateLimit(qps, clock=fake.clock, sleep=fake.sleep)

    starts = []
    for _ in range(count):
        await limit.acquire()
        starts.append(fake.now)

    assert starts[0] == 1000.0  # the first call does not wait
    gaps = [later - earlier for earlier, later in zip(starts, starts[1:], strict=False)]
    assert gaps == pytest.approx([1 / qps] * (count - 1))
    assert fake.sleeps == pytest.approx([1 / qps] * (count - 1))


async def test_no_wait_when_calls_are_already_slower_than_the_limit() -> None:
    fake = FakeTime()
    limit = RateLimit(4.0, clock=fake.clock, sleep=fake.sleep)

    for _ in range(3):
        await limit.acquire()
        fake.now += 1.0  # the work itself takes longer than the interval

    assert fake.sleeps == []


async def test_concurrent_acquirers_get_distinct_slots() -> None:
    fake = FakeTime()
    recorded: list[float] = []

    async def sleep(seconds: float) -> None:  # the clock does not move: all ask at once
        recorded.append(seconds)
        await asyncio.sleep(0)

    limit = RateLimit(5.0, clock=fake.clock, sleep=sleep)

    await asyncio.gather(*(limit.acquire() for _ in range(8)))

    assert sorted(recorded) == pytest.approx([0.2 * n for n in range(1, 8)])


async def test_default_sleep_really_spaces_calls() -> None:
    limit = RateLimit(200.0)
    loop = asyncio.get_running_loop()

    started = loop.time()
    for _ in range(4):
        await limit.acquire()

    assert loop.time() - started >= 3 / 200.0 * 0.9
