"""The hybrid engine's parts for its tests: an offline engine that says what it is told,
the API engine over a fake client, and a keeper of answers in memory."""

from __future__ import annotations

from batch_ocr.engines.base import Engine, EngineResult
from batch_ocr.engines.local.executor import WORKER_DIED
from batch_ocr.errors import BatchOcrError
from batch_ocr.vision.imaging import PreparedImage
from tests.engines.fake_api import FakeClient, MemoryKeeper, api_engine


class ScriptedOffline(Engine):
    """Reads every picture as ``result`` (or fails with ``error``)."""

    name = "local"
    retried_next_run = frozenset({WORKER_DIED})

    def __init__(self, result: EngineResult | None = None,
                 error: BatchOcrError | None = None) -> None:
        self.result = result
        self.error = error
        self.read: list[bytes] = []
        self.started = False

    async def start(self) -> None:
        self.started = True

    async def recognise(self, image: PreparedImage) -> EngineResult:
        self.read.append(image.payload)
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result


__all__ = ["FakeClient", "MemoryKeeper", "ScriptedOffline", "api_engine"]
