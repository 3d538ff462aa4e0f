"""The offline engine as an engine: worker processes, nothing leaves the machine."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from batch_ocr.engines.base import Engine, EngineResult
from batch_ocr.engines.local import LocalEngine, LocalEngineError, LocalRecognition, recognise
from batch_ocr.imaging import PreparedImage


class OfflineEngine(Engine):
    """Runs ``batch_ocr.engines.local.recognise`` in ``workers`` processes.

    A worker that dies breaks its whole process pool, failing every job in it, not only
    the one that killed it. So a job that failed that way runs once more, alone, in a
    one-worker quarantine pool: an innocent job succeeds there, and the culprit dies
    again and gets its ``error`` row, without taking anyone else with it.
    """

    name = "local"

    def __init__(
        self,
        workers: int | None = None,
        *,
        task: Callable[[bytes], LocalRecognition] = recognise,
    ) -> None:
        self.pool = LocalEngine(workers, task=task)
        self._quarantine = LocalEngine(1, task=task)
        self._quarantine_lock = asyncio.Lock()

    async def recognise(self, image: PreparedImage) -> EngineResult:
        try:
            result = await self.pool.recognise(image.payload)
        except LocalEngineError as exc:
            exc.attempts = 1
            if exc.error_code != "local_worker_died":
                raise
            async with self._quarantine_lock:
                try:
                    result = await self._quarantine.recognise(image.payload)
                except LocalEngineError as again:
                    again.attempts = 2
                    raise
            return EngineResult(result.data, 2, result.portrait_jpeg)
        return EngineResult(result.data, 1, result.portrait_jpeg)

    async def aclose(self) -> None:
        await asyncio.gather(self.pool.aclose(), self._quarantine.aclose())
