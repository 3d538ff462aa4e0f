"""Where the offline recogniser runs: the small interface the local engine is handed.

An executor only runs ``recognise`` on image bytes somewhere and says how it failed;
what a result becomes, what is counted and the rerun of an image whose worker died are
the local engine's (``engine.LocalEngine``), written once for both executors:

- ``processes.ProcessPool``: worker processes on this machine (``--workers``);
- ``dask_cluster.DaskCluster``: the workers of a Dask cluster (``--dask``).

A worker process that dies takes down every image it held, not only the one that
killed it. So an executor says ``WorkerDied`` with ``alone`` False when the image may
have shared its worker with the culprit; the engine then runs it once more through
``run_alone``, one image at a time, where an innocent image succeeds and the culprit
dies again and gets its ``error`` row (README, "Running on a cluster").
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from batch_ocr.engines.local._result import LocalEngineError, LocalRecognition

#: The error code of an image whose worker process died (a later run tries it again).
WORKER_DIED = "local_worker_died"
#: The error code of an unexpected failure of the recogniser on one image.
ENGINE_FAILED = "local_engine_failed"


class WorkerDied(LocalEngineError):
    """The worker process running this image died.

    ``alone``: the image had its worker to itself, so it is the one that killed it and
    running it again would only kill another worker.
    """

    def __init__(self, message: str, *, alone: bool) -> None:
        super().__init__(WORKER_DIED, message)
        self.alone = alone


class Executor(ABC):
    """Runs the recogniser on image bytes; see the module docstring for the contract.

    Lifecycle: create (cheap) -> ``start()`` -> ``run``/``run_alone`` any number of
    times, concurrently -> ``aclose()`` (once, also after a failed start).
    """

    #: Where the recognition runs, said after "offline, " at the start of a run.
    description: str = ""

    async def start(self) -> None:  # noqa: B027 - an executor made on first use skips it
        """Reach the workers (a cluster raises ``ClusterUnreachableError`` here)."""

    @abstractmethod
    async def run(self, payload: bytes) -> LocalRecognition:
        """Recognise one image, perhaps beside others on the same worker.

        Raises ``WorkerDied`` when its worker died, ``LocalEngineError`` when the image
        failed, and a ``FatalRunError`` when nothing more can run (a lost cluster).
        """

    @abstractmethod
    async def run_alone(self, payload: bytes) -> LocalRecognition:
        """Recognise one image with no other image on its worker (the engine calls it
        for one image at a time); raises as ``run`` does, ``WorkerDied`` with
        ``alone`` True."""

    def images_in_flight(self) -> int:
        """Images the run should hold at once to keep the workers busy; 0: no wish
        beyond ``--concurrency`` (see ``Engine.images_in_flight``)."""
        return 0

    @abstractmethod
    async def aclose(self) -> None:
        """Stop the workers (or leave the cluster); images still waiting fail."""
