"""The offline engine's process pool: ``recognise`` in N worker processes.

``LocalEngine`` runs ``recognise`` (``_recognise``) in a pool of worker processes so
N workers use N cores, and survives a worker dying (the pool is recreated; the job
that was running becomes an error).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import importlib.util
import multiprocessing
import os
import signal
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool

from batch_ocr.engines.local._recognise import recognise
from batch_ocr.engines.local._result import LocalEngineError, LocalRecognition

#: Modules the ``local`` extra installs.
REQUIRED_MODULES = ("rapidocr", "onnxruntime", "cv2", "numpy")
#: A worker is replaced after this many images, so a slow leak cannot grow unbounded.
MAX_TASKS_PER_WORKER = 1000


def available() -> bool:
    """Whether the ``local`` extra is installed (its modules and shipped models)."""
    if any(importlib.util.find_spec(name) is None for name in REQUIRED_MODULES):
        return False
    from batch_ocr.engines.local import _ocr

    return not _ocr.missing_models()


# --------------------------------------------------------------------------- pool


def _worker_init() -> None:
    """Ignore Ctrl-C, pin each worker to one thread, load the models before the first image.

    A terminal's Ctrl-C reaches the whole process group, workers included. The parent
    decides what an interrupt means (docs/resume.md: finish, then stop); a
    worker that raised KeyboardInterrupt printed its traceback and sent it back to the
    parent as the job's exception, which killed the parent too.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ["OMP_NUM_THREADS"] = "1"
    from batch_ocr.engines.local import _ocr

    _ocr.models()


class LocalEngine:
    """Async facade over a process pool running :func:`recognise`.

    ``task`` is what the workers run; tests inject one that crashes. A worker that dies
    breaks the whole pool: the jobs that were in it fail with ``LocalEngineError`` and
    the next call gets a fresh pool.
    """

    def __init__(
        self,
        workers: int | None = None,
        *,
        task: Callable[[bytes], LocalRecognition] = recognise,
    ) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)
        self._task = task
        self._executor: concurrent.futures.ProcessPoolExecutor | None = None
        self._closed = False

    def _pool(self) -> concurrent.futures.ProcessPoolExecutor:
        if self._closed:
            raise LocalEngineError("local_engine_closed", "the local engine is closed")
        if self._executor is None:
            # spawn, not fork: onnxruntime's thread pools do not survive a fork safely.
            self._executor = concurrent.futures.ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_worker_init,
                max_tasks_per_child=MAX_TASKS_PER_WORKER,
            )
        return self._executor

    def _discard(self, executor: concurrent.futures.ProcessPoolExecutor) -> None:
        # Only the pool that broke is dropped: a concurrent caller may have replaced it.
        if self._executor is executor:
            self._executor = None
        executor.shutdown(wait=False, cancel_futures=True)

    async def recognise(self, image_bytes: bytes) -> LocalRecognition:
        """Recognise one image in a worker process."""
        executor = self._pool()
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(executor, self._task, image_bytes)
        except BrokenProcessPool as exc:
            self._discard(executor)
            raise LocalEngineError(
                "local_worker_died",
                "a local OCR worker process died while recognising this image",
            ) from exc
        except LocalEngineError:
            raise
        except Exception as exc:
            # Any other failure inside the worker is this file's problem, not the run's.
            raise LocalEngineError("local_engine_failed", f"{type(exc).__name__}: {exc}") from exc

    async def aclose(self) -> None:
        """Stop the workers (waiting for running jobs to end, off the event loop)."""
        self._closed = True
        executor, self._executor = self._executor, None
        if executor is not None:
            await asyncio.to_thread(executor.shutdown, wait=True, cancel_futures=True)
