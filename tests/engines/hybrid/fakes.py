"""The hybrid engine's parts for its tests: an offline engine that says what it is told,
the API engine over a fake client, and a keeper of answers in memory."""

from __future__ import annotations

import base64
import urllib.parse

from batch_ocr.engines.api.client import Recognition
from batch_ocr.engines.api.engine import ApiEngine
from batch_ocr.engines.base import AnswerKeeper, Engine, EngineResult, PaidAnswer
from batch_ocr.engines.local.executor import WORKER_DIED
from batch_ocr.errors import BatchOcrError
from batch_ocr.provider.models import CardData
from batch_ocr.settings import Settings
from batch_ocr.vision.imaging import PreparedImage


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


class FakeClient:
    """Answers each call with the next answer (or raises it); keeps what it was sent."""

    def __init__(self, *answers: CardData | BatchOcrError) -> None:
        self.answers = list(answers)
        self.images: list[bytes] = []
        self.retries = 0

    @property
    def calls(self) -> int:
        return len(self.images)

    async def recognise(self, body: bytes) -> Recognition:
        uri = urllib.parse.parse_qs(body.decode())["image"][0]
        self.images.append(base64.b64decode(uri.partition(",")[2]))
        answer = self.answers.pop(0)
        if isinstance(answer, BatchOcrError):
            raise answer
        return Recognition(answer, attempts=1)


class MemoryKeeper(AnswerKeeper):
    """Answers kept in a dict, as the journal keeps them."""

    def __init__(self) -> None:
        self.kept: dict[str, PaidAnswer] = {}

    async def recall(self, key: str) -> PaidAnswer | None:
        return self.kept.get(key)

    async def keep(self, key: str, answer: PaidAnswer) -> None:
        self.kept[key] = answer

    async def holds_any(self) -> bool:
        return bool(self.kept)


def api_engine(client: FakeClient, keeper: AnswerKeeper | None = None) -> ApiEngine:
    """The API engine with its HTTP client replaced by ``client`` (never started)."""
    engine = ApiEngine(Settings())
    engine._client = client  # type: ignore[assignment]
    if keeper is not None:
        engine.keep_answers_in(keeper)
    return engine
