"""The plan limits: calls per second (token bucket) and the billable-call quota."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from batch_ocr.emulator.config import EmulatorConfig
from batch_ocr.emulator.server import running_emulator
from batch_ocr.provider.gateway import MSG_QUOTA_EXCEEDED, MSG_RATE_LIMITED
from batch_ocr.provider.limits import Quota, TokenBucket


class FakeClock:
    def __init__(self) -> None:
        self.now_s = 100.0

    def __call__(self) -> float:
        return self.now_s


def test_token_bucket_bursts_one_second_then_refills() -> None:
    clock = FakeClock()
    bucket = TokenBucket(5, clock=clock)
    assert [bucket.try_take() for _ in range(7)] == [True] * 5 + [False] * 2
    clock.now_s += 0.2  # one token's worth
    assert [bucket.try_take(), bucket.try_take()] == [True, False]
    clock.now_s += 10  # never more than the burst
    assert sum(bucket.try_take() for _ in range(10)) == 5
    bucket.reset()
    assert sum(bucket.try_take() for _ in range(10)) == 5


def test_token_bucket_below_one_per_second() -> None:
    clock = FakeClock()
    bucket = TokenBucket(0.5, clock=clock)
    assert [bucket.try_take(), bucket.try_take()] == [True, False]
    clock.now_s += 2
    assert bucket.try_take()


def test_quota_reserves_in_flight_calls() -> None:
    quota = Quota(2)
    assert quota.reserve() and quota.reserve()
    assert not quota.reserve()  # both slots in flight
    quota.settle(billable=False)  # a faulted call gives its slot back
    assert quota.reserve()
    quota.settle(billable=True)
    quota.settle(billable=True)
    assert quota.used == 2 and not quota.reserve()


@pytest.mark.serial  # counts the tokens a rate refills in time
async def test_qps_over_http(api: Any, cards: Any, helpers: Any) -> None:
    body = helpers.form_body(cards.front)
    async with running_emulator(EmulatorConfig(qps=5)) as emu:
        answers = await asyncio.gather(*(api.post(emu.url, body) for _ in range(12)))
        statuses = sorted(a.status for a in answers)
        assert statuses.count(200) in (5, 6)  # the burst, plus a refill at most
        limited = [a for a in answers if a.status == 429]
        assert limited and all(a.json() == {"message": MSG_RATE_LIMITED} for a in limited)
        await asyncio.sleep(0.45)  # ~2 tokens back
        assert (await api.post(emu.url, body)).status == 200
        stats = emu.stats()
    assert stats["faults"]["rate_limited"] == len(limited)
    assert stats["billable"] == statuses.count(200) + 1


async def test_quota_over_http(api: Any, cards: Any, helpers: Any) -> None:
    body = helpers.form_body(cards.front)
    async with running_emulator(EmulatorConfig(quota=3)) as emu:
        # A 400 is not billable, so it does not use the quota.
        assert (await api.post(emu.url, helpers.form_body(b"junk"))).json()["code"] == 400
        answers = [await api.post(emu.url, body) for _ in range(5)]
        assert [a.status for a in answers] == [200, 200, 200, 429, 429]
        assert answers[-1].json() == {"message": MSG_QUOTA_EXCEEDED}
        stats = emu.stats()
        emu.reset()  # a new day
        assert (await api.post(emu.url, body)).status == 200
    assert stats["billable"] == 3
    assert stats["faults"]["quota_exceeded"] == 2
    assert stats["by_status"] == {"200": 4, "429": 2}


async def test_quota_holds_under_concurrency(api: Any, cards: Any, helpers: Any) -> None:
    body = helpers.form_body(cards.front)
    async with running_emulator(EmulatorConfig(quota=4, latency_ms=50)) as emu:
        answers = await asyncio.gather(*(api.post(emu.url, body) for _ in range(10)))
        assert emu.stats()["billable"] == 4
    assert sorted(a.status for a in answers) == [200] * 4 + [429] * 6


async def test_faulted_calls_do_not_use_the_quota(api: Any, cards: Any, helpers: Any) -> None:
    body = helpers.form_body(cards.front)
    async with running_emulator(EmulatorConfig(quota=1, fail_rate=1.0, seed=5)) as emu:
        answers = [await api.post(emu.url, body) for _ in range(4)]
        stats = emu.stats()
    assert all(a.json()["code"] in (500, 501) for a in answers)
    assert stats["billable"] == 0 and stats["faults"]["quota_exceeded"] == 0
