"""What stands before every paid call (``batch_ocr/engines/api/call_gate.py``), alone and
inside the API engine (``batch_ocr/engines/api/engine.py``), against a mocked endpoint."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aioresponses import aioresponses

from batch_ocr.engines.api.call_gate import UNREACHABLE_FILES_LIMIT, CallGate, UnreachableBreaker
from batch_ocr.engines.api.engine import ApiEngine
from batch_ocr.engines.api.meters import RateLimit
from batch_ocr.engines.base import EngineCounters, PortraitUnavailable
from batch_ocr.engines.registry import EngineOptions
from batch_ocr.errors import (
    AuthError,
    CallBudgetExhausted,
    FatalRunError,
    TransientApiError,
    UnreachableError,
)
from batch_ocr.settings import Settings
from batch_ocr.vision.imaging import PreparedImage

URL = "https://ocr.example.test/release/idcard_ocr/post"
FRONT = {
    "msg": "", "success": True, "code": 200,
    "data": {"order_no": "1", "result": 0, "side": "front",
             "info": {"name": "张三", "number": "360429199010090000"},
             "validity": {"name": True, "number": True},
             "image_url": "http://example.test/20.png"},
}
IMAGE = PreparedImage("image/jpeg", b"\xff\xd8\xff\xe0 not really a jpeg", 400, 250, False)


class FakeTime:
    """A clock that only moves when someone sleeps on it."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


async def no_sleep(seconds: float) -> None:
    pass


# -- the gate alone ---------------------------------------------------------------------


async def test_the_budget_admits_n_calls_then_refuses() -> None:
    gate = CallGate(max_calls=3)
    for _ in range(3):
        await gate.admit()
    assert gate.calls == 3
    for _ in range(2):
        with pytest.raises(CallBudgetExhausted, match="--max-calls 3 reached"):
            await gate.admit()
    assert gate.calls == 3, "a refused call must not be counted"


async def test_a_zero_budget_admits_nothing_and_no_budget_admits_all() -> None:
    with pytest.raises(CallBudgetExhausted):
        await CallGate(max_calls=0).admit()
    unlimited = CallGate()
    for _ in range(100):
        await unlimited.admit()
    assert unlimited.calls == 100


async def test_concurrent_callers_cannot_overshoot_the_budget() -> None:
    fake = FakeTime()
    gate = CallGate(max_calls=5, rate=RateLimit(10.0, clock=fake.clock, sleep=fake.sleep))
    outcomes = await asyncio.gather(*(gate.admit() for _ in range(12)), return_exceptions=True)
    admitted = [o for o in outcomes if o is None]
    refused = [o for o in outcomes if isinstance(o, CallBudgetExhausted)]
    assert (len(admitted), len(refused), gate.calls) == (5, 7, 5)


async def test_after_stop_every_admit_raises_that_error() -> None:
    gate = CallGate(max_calls=10)
    await gate.admit()
    first = AuthError("the API refused the credentials")
    gate.stop(first)
    gate.stop(FatalRunError("a later one"))  # the first reason stands
    for _ in range(2):
        with pytest.raises(AuthError) as caught:
            await gate.admit()
        assert caught.value is first
    assert gate.calls == 1


async def test_the_rate_spaces_starts_evenly() -> None:
    fake = FakeTime()
    gate = CallGate(rate=RateLimit(4.0, clock=fake.clock, sleep=fake.sleep))
    for _ in range(5):
        await gate.admit()
    assert fake.sleeps == pytest.approx([0.25] * 4)


# -- the breaker alone ------------------------------------------------------------------


@pytest.mark.parametrize("code", ["connection_error", "timeout"])
def test_the_breaker_trips_on_the_third_unreachable_file(code: str) -> None:
    breaker = UnreachableBreaker()
    assert UNREACHABLE_FILES_LIMIT == 3
    assert breaker.file_failed(code, "cannot connect to ocr.example.test") is None
    assert breaker.file_failed(code, "cannot connect to ocr.example.test") is None
    tripped = breaker.file_failed(code, "cannot connect to ocr.example.test")
    assert isinstance(tripped, UnreachableError)
    assert str(tripped) == (
        "cannot reach the API (cannot connect to ocr.example.test) for 3 files in a row and "
        "it has not answered once; check --endpoint and the network")


def test_the_breaker_never_trips_once_the_api_answered() -> None:
    breaker = UnreachableBreaker()
    assert breaker.file_failed("timeout", "no answer") is None
    breaker.answered()
    for _ in range(10):
        assert breaker.file_failed("timeout", "no answer") is None


def test_the_breaker_ignores_other_failures() -> None:
    breaker = UnreachableBreaker()
    for code in ("500", "503", "429", "400", "1001"):
        assert breaker.file_failed(code, "HTTP error") is None
    assert breaker.file_failed("timeout", "x") is None
    assert breaker.file_failed("timeout", "x") is None
    assert breaker.file_failed("timeout", "x") is not None


# -- inside the API engine --------------------------------------------------------------


def settings() -> Settings:
    return Settings.model_validate({"secret_id": "AKIDtest", "secret_key": "k" * 24,
                                    "endpoint": URL, "max_attempts": 2, "timeout": 5})


@pytest.fixture
async def engine() -> AsyncIterator[ApiEngine]:
    started = ApiEngine(settings(), EngineOptions(max_calls=None, sleep=no_sleep))
    await started.start()
    yield started
    await started.aclose()


async def test_counters_before_start_are_zeros() -> None:
    fresh = ApiEngine(settings())
    assert fresh.counters() == EngineCounters(calls=0, retries=0)
    with pytest.raises(PortraitUnavailable):
        await fresh.fetch_portrait("http://example.test/20.png")
    await fresh.aclose()  # closing what never started is harmless


async def test_the_engine_counts_calls_and_retries(engine: ApiEngine) -> None:
    with aioresponses() as mocked:
        mocked.post(URL, status=503, body="busy")
        mocked.post(URL, payload=FRONT)
        result = await engine.recognise(IMAGE)
    assert result.attempts == 2
    assert result.data.info.name == "张三"
    assert engine.counters() == EngineCounters(calls=2, retries=1)


async def test_the_engine_stops_after_three_unreachable_files(engine: ApiEngine) -> None:
    with aioresponses() as mocked:
        mocked.post(URL, exception=aiohttp.ServerDisconnectedError(), repeat=True)
        for _ in range(3):
            with pytest.raises(TransientApiError) as caught:
                await engine.recognise(IMAGE)
            assert caught.value.error_code == "connection_error"
        calls = engine.counters().calls
        assert calls == 3 * 2
        with pytest.raises(UnreachableError):
            await engine.recognise(IMAGE)
    assert engine.counters().calls == calls, "no call may start after the breaker tripped"


async def test_an_engine_that_was_answered_keeps_going(engine: ApiEngine) -> None:
    with aioresponses() as mocked:
        mocked.post(URL, payload=FRONT)
        mocked.post(URL, exception=aiohttp.ServerDisconnectedError(), repeat=True)
        await engine.recognise(IMAGE)
        for _ in range(5):
            with pytest.raises(TransientApiError):
                await engine.recognise(IMAGE)


async def test_a_fatal_answer_stops_every_later_call(engine: ApiEngine) -> None:
    with aioresponses() as mocked:
        mocked.post(URL, status=401, payload={"message": "HMAC signature does not match"},
                    repeat=True)
        with pytest.raises(AuthError) as first:
            await engine.recognise(IMAGE)
        with pytest.raises(AuthError) as second:
            await engine.recognise(IMAGE)
    assert second.value is first.value
    assert engine.counters().calls == 1


async def test_the_engine_honours_max_calls() -> None:
    engine = ApiEngine(settings(), EngineOptions(max_calls=2, sleep=no_sleep))
    await engine.start()
    try:
        with aioresponses() as mocked:
            mocked.post(URL, payload=FRONT, repeat=True)
            await engine.recognise(IMAGE)
            await engine.recognise(IMAGE)
            with pytest.raises(CallBudgetExhausted):
                await engine.recognise(IMAGE)
        assert engine.counters().calls == 2
    finally:
        await engine.aclose()


def test_the_api_engine_declares_itself() -> None:
    assert ApiEngine.name == "api"
    assert ApiEngine.billed is True
    assert ApiEngine.image_limits is not None


async def test_a_halted_gate_refuses_waiting_calls_with_the_reason() -> None:
    from batch_ocr.errors import RunStopping

    gate = CallGate(max_in_flight=1)
    entered = asyncio.Event()
    release = asyncio.Event()

    async def first() -> None:
        async with gate.slot():
            entered.set()
            await release.wait()

    holder = asyncio.create_task(first())
    await entered.wait()

    async def second() -> None:
        async with gate.slot():
            raise AssertionError("a call started after the stop")

    waiting = asyncio.create_task(second())
    await asyncio.sleep(0)
    gate.stop(RunStopping("the run is stopping"))
    release.set()
    await holder
    with pytest.raises(RunStopping):
        await waiting
    assert gate.calls == 1


async def _first_call_then_others(gate: CallGate, first_error: BaseException | None
                                  ) -> tuple[list[str], list[BaseException | None]]:
    """A first call held open while seven more ask for a slot; what happened in order."""
    events: list[str] = []
    release = asyncio.Event()

    async def call(index: int) -> None:
        async with gate.slot():
            events.append(f"start {index}")
            if index == 0:
                await release.wait()
                if first_error is not None:
                    raise first_error

    tasks = [asyncio.create_task(call(0))]
    await asyncio.sleep(0)
    tasks += [asyncio.create_task(call(index)) for index in range(1, 8)]
    for _ in range(5):
        await asyncio.sleep(0)
    assert events == ["start 0"], "no call may start before the first one has ended"
    release.set()
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    return events, [outcome if isinstance(outcome, BaseException) else None
                    for outcome in outcomes]


async def test_the_first_call_goes_alone_and_a_fatal_answer_to_it_is_the_only_request() -> None:
    gate = CallGate(max_in_flight=8)
    refused = AuthError("the API refused the credentials")
    events, outcomes = await _first_call_then_others(gate, refused)
    assert events == ["start 0"]
    assert outcomes == [refused] * 8  # the same error, told to each waiting call
    assert gate.calls == 1


@pytest.mark.parametrize("first_error", [None, TransientApiError("500", "provider error"),
                                         TransientApiError("connection_error", "reset")],
                         ids=["answered", "500", "network"])
async def test_once_the_first_call_has_ended_the_others_go_together(
        first_error: BaseException | None) -> None:
    """An answer, or a failure that says nothing of the credentials (a 500, the network),
    opens the gate to every slot at once."""
    gate = CallGate(max_in_flight=8)
    events, outcomes = await _first_call_then_others(gate, first_error)
    assert sorted(events) == [f"start {index}" for index in range(8)]
    assert outcomes == [first_error] + [None] * 7
    assert gate.calls == 8
