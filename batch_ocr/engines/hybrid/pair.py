"""What the hybrid engine and ``--verify`` share: the offline engine beside the API's.

Both hold the offline engine (local processes, or the Dask cluster with ``--dask``) and
the API engine, and are one engine to the run (STYLE.md, habit 13): the run prepares
original pixels for them (``image_limits`` None, as for the offline engine), and the
API's payload (``imaging.prepare`` with the API engine's limits) is made here, only for
the pictures the API reads. Answers the API is paid for are kept where the run says
(``keep_answers_in``), portraits behind its links are fetched by it, and a stop halts
both.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence

from batch_ocr import statuses
from batch_ocr.engines.api.engine import ApiEngine
from batch_ocr.engines.base import AnswerKeeper, CardRead, Engine, EngineResult
from batch_ocr.engines.local.engine import LocalEngine
from batch_ocr.errors import BatchOcrError, FileError
from batch_ocr.run.cards import CardFailure
from batch_ocr.vision import image_warnings, imaging
from batch_ocr.vision.imaging import PreparedImage


@dataclasses.dataclass(frozen=True, slots=True)
class OfflineReading:
    """What the offline engine read on one picture, ready to be judged.

    ``result`` is None when it could not read the picture at all (``failure``).
    """

    result: EngineResult | None
    #: The picture's image warnings (the offline engine's, else computed here).
    warnings: tuple[str, ...]
    failure: FileError | None = None

    @property
    def rows(self) -> list[CardRead]:
        """The rows the offline reading makes, each saying it was read offline."""
        result = self.result
        if result is None:
            return []
        reads = result.cards or (CardRead(result.data, result.portrait_bytes,
                                          confidence=result.confidence),)
        return [read for read in reads if isinstance(read, CardRead)]


def read_by(reads: Sequence[CardRead], engine: str) -> list[CardRead]:
    """``reads`` saying ``engine`` read them (a row's ``engine``)."""
    return [dataclasses.replace(read, engine=engine) for read in reads]


class EnginePair(Engine):
    """The offline engine and the API engine as one engine (see the module docstring)."""

    billed = True
    image_limits = None
    #: A failure either engine's next run retries (attempts ran out, a worker died).
    retried_next_run = ApiEngine.retried_next_run | LocalEngine.retried_next_run

    def __init__(self, offline: Engine, paid: ApiEngine) -> None:
        self.offline = offline
        self.paid = paid
        #: What is paid for is paid at the API's price.
        self.price_per_call_cny = paid.price_per_call_cny

    async def start(self) -> None:
        await self.offline.start()
        await self.paid.start()

    def keep_answers_in(self, keeper: AnswerKeeper) -> None:
        self.paid.keep_answers_in(keeper)

    async def paid_image(self, image: PreparedImage) -> PreparedImage:
        """What the API is sent for ``image`` (fitted to its limits), off the event loop.

        Raises ``ImageRejected`` when it cannot be fitted, as the API engine's run would.
        """
        return await asyncio.to_thread(imaging.prepare, image.payload, self.paid.image_limits)

    async def read_offline(self, image: PreparedImage) -> OfflineReading:
        """The offline reading of ``image``; a failure of this picture's own is a value
        (the API may read what the offline engine could not), a transient one (a worker
        that died) and a fatal one are raised: the next run reads it again."""
        try:
            result = await self.offline.recognise(image)
        except FileError as exc:
            if statuses.retry_next_run(statuses.ERROR, exc.error_code,
                                       self.offline.retried_next_run):
                exc.engine = self.offline.name
                raise
            return OfflineReading(None, await _warnings(None, image), failure=exc)
        return OfflineReading(result, await _warnings(result, image))

    def paid_failure(self, error: FileError) -> FileError:
        """``error`` of the API's, named so on its row."""
        error.engine = self.paid.name
        return error

    def images_in_flight(self) -> int:
        return max(self.offline.images_in_flight(), self.paid.images_in_flight())

    def halt(self, reason: BatchOcrError) -> None:
        self.paid.halt(reason)
        self.offline.halt(reason)

    async def fetch_portrait(self, url: str) -> bytes:
        return await self.paid.fetch_portrait(url)

    async def aclose(self) -> None:
        try:
            await self.paid.aclose()
        finally:
            await self.offline.aclose()


async def _warnings(result: EngineResult | None, image: PreparedImage) -> tuple[str, ...]:
    """The picture's warnings: the offline engine's, else measured here, off the loop."""
    if result is not None and result.warnings is not None:
        return tuple(result.warnings)
    return tuple(await asyncio.to_thread(image_warnings.warnings_for, image.picture))


def failed_cards(found: Sequence[CardRead | CardFailure]) -> bool:
    """Whether any card of a page failed (its page's answers wait for the next run)."""
    return any(isinstance(card, CardFailure) for card in found)
