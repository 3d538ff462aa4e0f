"""The offline engine as an engine: worker processes, nothing leaves the machine."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from batch_ocr.engines.base import Engine, EngineCounters, EngineResult
from batch_ocr.engines.registry import EngineOptions
from batch_ocr.errors import ConfigError
from batch_ocr.settings import Settings
from batch_ocr.vision.imaging import PreparedImage


def _require_local_extra() -> None:
    """A clear configuration error when the ``local`` extra is not installed."""
    try:
        from batch_ocr.engines.local import available
    except ImportError:
        available = None  # type: ignore[assignment]
    if available is None or not available():
        raise ConfigError(
            "the local engine is not installed: pip install 'batch-ocr[local]' "
            "(or configure API credentials to use the API)"
        )


class OfflineEngine(Engine):
    """Runs ``batch_ocr.engines.local.recognise`` in ``workers`` processes.

    It reads the original pixels (``image_limits`` is None): the API's re-encoded,
    shrunk payload would only lose detail. A worker that dies breaks its whole process
    pool, failing every job in it, not only the one that killed it. So a job that failed
    that way runs once more, alone, in a one-worker quarantine pool: an innocent job
    succeeds there, and the culprit dies again and gets its ``error`` row, without
    taking anyone else with it.
    """

    name = "local"
    billed = False
    image_limits = None
    description = "offline, nothing leaves this machine"

    def __init__(
        self,
        workers: int | None = None,
        *,
        task: Callable[[bytes], object] | None = None,
    ) -> None:
        from batch_ocr.engines.local import LocalEngine, recognise

        chosen = task or recognise
        self.pool = LocalEngine(workers, task=chosen)  # type: ignore[arg-type]
        self._quarantine = LocalEngine(1, task=chosen)  # type: ignore[arg-type]
        self._quarantine_lock = asyncio.Lock()
        self._runs = 0
        self._reruns = 0

    @classmethod
    def from_settings(cls, settings: Settings, options: EngineOptions) -> Engine:
        """Local processes, or the Dask cluster at ``settings.local.dask`` (the same
        recognition, and the same rows, run elsewhere)."""
        _require_local_extra()
        if settings.local.dask is None:
            return cls(settings.local.workers)
        try:
            from batch_ocr.engines.dask_engine import DaskEngine
        except ImportError:
            raise ConfigError(
                "--dask needs the 'dask' extra: pip install 'batch-ocr[local,dask]'"
            ) from None
        return DaskEngine(settings.local.dask)

    async def recognise(self, image: PreparedImage) -> EngineResult:
        from batch_ocr.engines.local import LocalEngineError

        self._runs += 1
        try:
            result = await self.pool.recognise(image.payload)
        except LocalEngineError as exc:
            exc.attempts = 1
            if exc.error_code != "local_worker_died":
                raise
            async with self._quarantine_lock:
                self._runs += 1
                self._reruns += 1
                try:
                    result = await self._quarantine.recognise(image.payload)
                except LocalEngineError as again:
                    again.attempts = 2
                    raise
            return EngineResult(result.data, 2, result.portrait_jpeg,
                                confidence=result.confidence, warnings=result.warnings,
                                cards=result.cards)
        return EngineResult(result.data, 1, result.portrait_jpeg,
                            confidence=result.confidence, warnings=result.warnings,
                            cards=result.cards)

    def counters(self) -> EngineCounters:
        return EngineCounters(calls=self._runs, retries=self._reruns)

    async def aclose(self) -> None:
        await asyncio.gather(self.pool.aclose(), self._quarantine.aclose())
