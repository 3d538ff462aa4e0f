"""The API engine over a fake HTTP client, and a keeper of paid answers in memory: what
the API engine's and the hybrid engine's tests call instead of a provider."""

from __future__ import annotations

import base64
import urllib.parse

from batch_ocr.engines.api.client import Recognition
from batch_ocr.engines.api.engine import ApiEngine
from batch_ocr.engines.base import AnswerKeeper, PaidAnswer
from batch_ocr.provider.models import CardData
from batch_ocr.settings import Settings


class FakeClient:
    """Answers each call with the next answer, or raises it when it is an exception; keeps
    the images it was sent, and notes each call in ``events``."""

    def __init__(self, *answers: CardData | Exception, events: list[str] | None = None) -> None:
        self.answers = list(answers)
        self.images: list[bytes] = []
        self.retries = 0
        self.events = events if events is not None else []

    @property
    def calls(self) -> int:
        return len(self.images)

    async def recognise(self, body: bytes) -> Recognition:
        uri = urllib.parse.parse_qs(body.decode())["image"][0]
        self.images.append(base64.b64decode(uri.partition(",")[2]))
        self.events.append(f"call {len(self.images)}")
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return Recognition(answer, attempts=1)


class MemoryKeeper(AnswerKeeper):
    """Answers kept in a dict, as the journal keeps them; each keep noted in ``events``."""

    def __init__(self, events: list[str] | None = None) -> None:
        self.kept: dict[str, PaidAnswer] = {}
        self.events = events if events is not None else []

    async def recall(self, key: str) -> PaidAnswer | None:
        return self.kept.get(key)

    async def keep(self, key: str, answer: PaidAnswer) -> None:
        self.events.append(f"keep {answer.data.side}")
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
