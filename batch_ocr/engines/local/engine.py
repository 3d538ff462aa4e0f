"""The offline engine as an engine: the recogniser on an executor, nothing billed.

One class whatever runs the recognition (``executor``): worker processes on this
machine (``processes.ProcessPool``) or a Dask cluster (``dask_cluster.DaskCluster``,
``--dask``). The same recogniser reads the same original pixels (``image_limits`` is
None: the API's re-encoded, shrunk payload would only lose detail), so the rows are
identical whichever executor ran them.
"""

from __future__ import annotations

import asyncio
import importlib.util

from batch_ocr.engines.base import Engine, EngineCounters, EngineResult
from batch_ocr.engines.local._result import LocalEngineError, LocalRecognition
from batch_ocr.engines.local.executor import WORKER_DIED, Executor, WorkerDied
from batch_ocr.engines.local.processes import ProcessPool, Task
from batch_ocr.engines.registry import EngineOptions
from batch_ocr.errors import ConfigError
from batch_ocr.settings import LocalSettings, Settings
from batch_ocr.vision.imaging import PreparedImage

#: Modules the ``local`` extra installs.
REQUIRED_MODULES = ("rapidocr", "onnxruntime", "cv2", "numpy")


def available() -> bool:
    """Whether the ``local`` extra is installed (its modules and shipped models)."""
    if any(importlib.util.find_spec(name) is None for name in REQUIRED_MODULES):
        return False
    from batch_ocr.engines.local import _ocr

    return not _ocr.missing_models()


def _require_local_extra() -> None:
    """A clear configuration error when the ``local`` extra is not installed."""
    if not available():
        raise ConfigError(
            "the local engine is not installed: pip install 'batch-ocr[local]' "
            "(or configure API credentials to use the API)"
        )


def executor_for(local: LocalSettings, *, verbose: bool = False) -> Executor:
    """Local processes, or the Dask cluster at ``local.dask`` (whose log lines stay off
    the terminal unless ``verbose``)."""
    if local.dask is None:
        return ProcessPool(local.workers)
    try:
        from batch_ocr.engines.local.dask_cluster import DaskCluster
    except ImportError:
        raise ConfigError(
            "--dask needs the 'dask' extra: pip install 'batch-ocr[local,dask]'"
        ) from None
    return DaskCluster(local.dask, connect_timeout_s=local.dask_connect_timeout,
                       verbose=verbose)


def _result(recognition: LocalRecognition, attempts: int) -> EngineResult:
    # All the recogniser's result carries (a page's cards, confidence, warnings).
    return EngineResult(recognition.data, attempts, recognition.portrait_jpeg,
                        confidence=recognition.confidence, warnings=recognition.warnings,
                        cards=recognition.cards, found=recognition.found)


class LocalEngine(Engine):
    """Runs ``batch_ocr.engines.local.recognise`` on ``executor``.

    An image whose worker died beside other images (``WorkerDied``, not alone) runs once
    more alone, one such image at a time: an innocent image succeeds there, and the
    culprit dies again and gets its ``error`` row (``local_worker_died``, 2 attempts),
    without taking anyone else with it.
    """

    name = "local"
    billed = False
    image_limits = None
    #: 2: stamped fields read again with the print's darkest ink, offices and nations
    #: confirmed by their lists, glare placed on the fields, cards found on a busy desk.
    #: 3: each card of a copy page levelled by its own tilt, confidence of offices and of
    #: fields a check confirms under a stamp or a spot, no side read off a bank card
    #: (docs/offline-engine.md).
    #: 4: a character's traditional or Japanese forms counted with it and turned to the
    #: simplified one; a 长期 period's confidence not taken from its label's 期.
    #: 5: stamp remnants cut off an address's end, a stamped sex and name read off their
    #: place, cards found by their print levelled, a label never taken for a name or an
    #: office, a glare spot no longer splitting a card in two.
    #: 6: pale cards whose lines a stamp joins found by their print and read one by one;
    #: addresses cut among their divisions, periods with other centuries' years and
    #: glare spots weighed anew; a doubted row looked at again with its darkest ink.
    #: 7: a character the recogniser nearly gave and left out doubts its neighbour; a
    #: number under a stamp read with its darkest ink; a period read where its label
    #: places it, its dot read as a colon or a full stop; a front beside its back found
    #: by two of its labels among six lines, where its number shows no birth date.
    #: ``--redo-engine-older-than 7`` reads the pages earlier versions recorded again,
    #: free of charge (docs/resume.md).
    version = "7"
    #: A worker that died may not die again: the next run tries its image again.
    retried_next_run = frozenset({WORKER_DIED})

    def __init__(self, executor: Executor) -> None:
        self.executor = executor
        self.description = f"offline, {executor.description}"
        self._alone_lock = asyncio.Lock()
        self._runs = 0
        self._reruns = 0

    @classmethod
    def from_settings(cls, settings: Settings, options: EngineOptions) -> LocalEngine:
        """Local processes, or the Dask cluster at ``settings.local.dask`` (the same
        recognition, and the same rows, run elsewhere)."""
        _require_local_extra()
        return cls(executor_for(settings.local, verbose=options.verbose))

    @classmethod
    def on_processes(cls, workers: int | None = None, *, task: Task | None = None
                     ) -> LocalEngine:
        """The engine on ``workers`` local processes (tests inject a ``task``)."""
        return cls(ProcessPool(workers) if task is None else ProcessPool(workers, task=task))

    async def start(self) -> None:
        await self.executor.start()

    async def recognise(self, image: PreparedImage) -> EngineResult:
        self._runs += 1
        try:
            return _result(await self.executor.run(image.payload), 1)
        except WorkerDied as died:
            if died.alone:
                died.attempts = 1
                raise
        except LocalEngineError as exc:
            exc.attempts = 1
            raise
        return await self._rerun_alone(image.payload)

    async def _rerun_alone(self, payload: bytes) -> EngineResult:
        """The second run of an image whose worker died beside others."""
        async with self._alone_lock:
            self._runs += 1
            self._reruns += 1
            try:
                return _result(await self.executor.run_alone(payload), 2)
            except LocalEngineError as again:
                again.attempts = 2
                raise

    def images_in_flight(self) -> int:
        return self.executor.images_in_flight()

    def counters(self) -> EngineCounters:
        """Images handed to the executor (reruns included), and the reruns alone."""
        return EngineCounters(calls=self._runs, retries=self._reruns)

    async def aclose(self) -> None:
        await self.executor.aclose()
