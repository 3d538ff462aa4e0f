"""The local engine over an executor (``batch_ocr/engines/local/engine.py``), with a fake
executor: the engine logic both executors share, with no process or cluster started."""

from __future__ import annotations

import asyncio

import pytest

from batch_ocr.engines.local import LocalEngine, LocalEngineError, LocalRecognition
from batch_ocr.engines.local.engine import executor_for
from batch_ocr.engines.local.executor import Executor, WorkerDied
from batch_ocr.engines.local.processes import ProcessPool
from batch_ocr.errors import ClusterLostError
from batch_ocr.provider.models import CardData, CardInfo
from batch_ocr.settings import LocalSettings, Settings
from batch_ocr.vision.imaging import PreparedImage

CULPRIT = b"culprit"


def image(payload: bytes) -> PreparedImage:
    return PreparedImage("image/png", payload, 10, 10, False)


def recognition(payload: bytes) -> LocalRecognition:
    return LocalRecognition(CardData(result=0, side="back", info=CardInfo(name=payload.decode())),
                            b"portrait", confidence={"authority": 0.9}, warnings=("blurry",))


class FakeExecutor(Executor):
    """A worker that dies on ``CULPRIT`` takes every image of its round down with it."""

    description = "in the tests' fake workers"

    def __init__(self, *, culprit_alone: bool = False) -> None:
        self.culprit_alone = culprit_alone
        self.alone_now = 0
        self.most_alone_at_once = 0
        self.ran: list[bytes] = []
        self.ran_alone: list[bytes] = []
        self.started = self.closed = False

    async def start(self) -> None:
        self.started = True

    async def run(self, payload: bytes) -> LocalRecognition:
        self.ran.append(payload)
        await asyncio.sleep(0)
        if payload == b"lost":
            raise ClusterLostError("the fake cluster went away")
        if payload == b"bad":
            raise LocalEngineError("local_engine_failed", "ValueError: bad")
        if CULPRIT in self.ran:
            raise WorkerDied("a fake worker died", alone=self.culprit_alone)
        return recognition(payload)

    async def run_alone(self, payload: bytes) -> LocalRecognition:
        self.ran_alone.append(payload)
        self.alone_now += 1
        self.most_alone_at_once = max(self.most_alone_at_once, self.alone_now)
        try:
            await asyncio.sleep(0.01)
            if payload == CULPRIT:
                raise WorkerDied("a fake worker died again", alone=True)
            return recognition(payload)
        finally:
            self.alone_now -= 1

    def images_in_flight(self) -> int:
        return 7

    async def aclose(self) -> None:
        self.closed = True


async def test_a_recognition_carries_everything_the_recogniser_read() -> None:
    executor = FakeExecutor()
    engine = LocalEngine(executor)
    await engine.start()
    result = await engine.recognise(image(b"one"))
    await engine.aclose()
    assert (executor.started, executor.closed) == (True, True)
    assert (result.data.info.name, result.attempts, result.portrait_bytes) == ("one", 1, b"portrait")
    assert (dict(result.confidence), result.warnings) == ({"authority": 0.9}, ("blurry",))
    assert (engine.counters().calls, engine.counters().retries) == (1, 0)
    assert engine.images_in_flight() == 7
    assert engine.description == "offline, in the tests' fake workers"


async def test_images_whose_worker_died_run_again_alone_and_only_the_culprit_fails() -> None:
    executor = FakeExecutor()
    engine = LocalEngine(executor)
    payloads = [b"a", CULPRIT, b"b", b"c"]

    results = await asyncio.gather(*(engine.recognise(image(p)) for p in payloads),
                                   return_exceptions=True)

    culprit = results[1]
    assert isinstance(culprit, WorkerDied) and culprit.error_code == "local_worker_died"
    assert culprit.attempts == 2
    innocent = [r for i, r in enumerate(results) if i != 1]
    assert [(r.data.info.name, r.attempts) for r in innocent] == [  # type: ignore[union-attr]
        ("a", 2), ("b", 2), ("c", 2)]
    # Every image the dead worker held ran again, one at a time.
    assert sorted(executor.ran_alone) == sorted(payloads)
    assert executor.most_alone_at_once == 1
    assert (engine.counters().calls, engine.counters().retries) == (8, 4)


async def test_an_image_that_had_its_worker_to_itself_is_not_run_again() -> None:
    executor = FakeExecutor(culprit_alone=True)
    engine = LocalEngine(executor)
    with pytest.raises(WorkerDied) as died:
        await engine.recognise(image(CULPRIT))
    assert died.value.attempts == 1
    assert executor.ran_alone == []
    assert engine.counters().retries == 0


async def test_a_failed_image_and_a_lost_cluster_are_not_run_again() -> None:
    executor = FakeExecutor()
    engine = LocalEngine(executor)
    with pytest.raises(LocalEngineError) as failed:
        await engine.recognise(image(b"bad"))
    assert (failed.value.error_code, failed.value.attempts) == ("local_engine_failed", 1)
    with pytest.raises(ClusterLostError):
        await engine.recognise(image(b"lost"))
    assert executor.ran_alone == []


def test_the_local_engine_owns_its_price_and_the_codes_a_later_run_retries() -> None:
    assert LocalEngine.price_per_call_cny == 0.0 and not LocalEngine.billed
    assert LocalEngine.retried_next_run == frozenset({"local_worker_died"})


def test_the_settings_choose_the_executor() -> None:
    pool = executor_for(LocalSettings(workers=3))
    assert isinstance(pool, ProcessPool) and pool.workers == 3
    assert pool.description == "nothing leaves this machine"
    pytest.importorskip("distributed")
    from batch_ocr.engines.local.dask_cluster import DaskCluster

    cluster = executor_for(Settings.model_validate({"dask": "tcp://127.0.0.1:8786"}).local)
    assert isinstance(cluster, DaskCluster)
    assert cluster.description == "on the Dask cluster at tcp://127.0.0.1:8786"
    # 10 s to reach the scheduler unless the config or the environment says otherwise.
    assert cluster.connect_timeout_s == 10.0
    sooner = executor_for(Settings.model_validate({"dask": "tcp://127.0.0.1:8786",
                                                   "dask_connect_timeout": "2.5"}).local)
    assert isinstance(sooner, DaskCluster) and sooner.connect_timeout_s == 2.5
