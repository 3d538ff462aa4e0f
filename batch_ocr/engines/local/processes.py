"""The local engine's executor on this machine: ``recognise`` in N worker processes.

N workers use N cores. A worker that dies breaks its whole ``concurrent.futures`` pool,
failing every image in it, not only the one that killed it: the pool is recreated for
the next image, and each image it held is ``WorkerDied`` (not alone), so the engine
runs it again in a second pool of one worker, the quarantine (``run_alone``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool

from batch_ocr.engines.local._recognise import recognise
from batch_ocr.engines.local._result import LocalEngineError, LocalRecognition
from batch_ocr.engines.local.executor import ENGINE_FAILED, Executor, WorkerDied

#: A worker is replaced after this many images, so a slow leak cannot grow unbounded.
MAX_TASKS_PER_WORKER = 1000

Task = Callable[[bytes], LocalRecognition]
#: How often a worker checks that the process that started it is still there.
PARENT_CHECK_S = 1.0


def _worker_init() -> None:
    """Ignore Ctrl-C, pin each worker to one thread, load the models before the first image,
    and end with the parent.

    A terminal's Ctrl-C reaches the whole process group, workers included. The parent
    decides what an interrupt means (docs/resume.md: finish, then stop); a
    worker that raised KeyboardInterrupt printed its traceback and sent it back to the
    parent as the job's exception, which killed the parent too.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_end_with_parent, args=(os.getppid(),), daemon=True,
                     name="batch-ocr-parent-watch").start()
    os.environ["OMP_NUM_THREADS"] = "1"
    from batch_ocr.engines.local import _ocr

    _ocr.models()


def _end_with_parent(parent_pid: int) -> None:
    """Exit once the parent is gone. A parent killed outright (``kill -9``, the
    out-of-memory killer, a cron timeout) cannot shut its pool down, and an idle worker
    would wait on its queue for ever, holding its models' memory (about 250 MB)."""
    while True:
        time.sleep(PARENT_CHECK_S)
        if os.getppid() != parent_pid:
            os._exit(0)


class WorkerPool:
    """One pool of ``workers`` processes running ``task``, made on first use.

    ``task`` is what the workers run; tests inject one that crashes. A worker that dies
    breaks the whole pool: the images that were in it fail with ``WorkerDied`` and the
    next image gets a fresh pool.
    """

    def __init__(self, workers: int, task: Task = recognise, *, alone: bool = False) -> None:
        self.workers = workers
        self._task = task
        #: Whether each image has its worker to itself (a pool of one, one at a time).
        self._alone = alone
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
            raise WorkerDied("a local OCR worker process died while recognising this image",
                             alone=self._alone) from exc
        except LocalEngineError:
            raise
        except Exception as exc:
            # Any other failure inside the worker is this file's problem, not the run's.
            raise LocalEngineError(ENGINE_FAILED, f"{type(exc).__name__}: {exc}") from exc

    async def aclose(self) -> None:
        """Stop the workers (waiting for running jobs to end, off the event loop)."""
        self._closed = True
        executor, self._executor = self._executor, None
        if executor is not None:
            await asyncio.to_thread(executor.shutdown, wait=True, cancel_futures=True)


class ProcessPool(Executor):
    """``workers`` processes (one per core by default), and a quarantine of one."""

    description = "nothing leaves this machine"

    def __init__(self, workers: int | None = None, *, task: Task = recognise) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)
        self._shared = WorkerPool(self.workers, task)
        self._quarantine = WorkerPool(1, task, alone=True)

    async def run(self, payload: bytes) -> LocalRecognition:
        return await self._shared.recognise(payload)

    async def run_alone(self, payload: bytes) -> LocalRecognition:
        return await self._quarantine.recognise(payload)

    async def aclose(self) -> None:
        await asyncio.gather(self._shared.aclose(), self._quarantine.aclose())
