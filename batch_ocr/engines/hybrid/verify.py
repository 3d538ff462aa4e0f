"""``--engine api --verify``: every card through the API, and a free second opinion.

The API engine reads every picture as it always does (the same calls, the same rows,
``engine`` ``api``); the offline engine reads the original pixels beside it, at no cost,
and every field it read that the API's answer gives otherwise is named in the row's
review reasons (``disagree:<column>``). A misread of the provider's is caught without
paying twice for the card.
"""

from __future__ import annotations

import asyncio
import dataclasses

from batch_ocr.engines.api.engine import ApiEngine
from batch_ocr.engines.base import CardRead, EngineCounters, EngineResult
from batch_ocr.engines.hybrid import vouch
from batch_ocr.engines.hybrid.pair import EnginePair, OfflineReading
from batch_ocr.engines.local.engine import LocalEngine
from batch_ocr.engines.registry import EngineOptions
from batch_ocr.errors import FileError
from batch_ocr.run.cards import CardFailure
from batch_ocr.settings import Settings
from batch_ocr.vision.imaging import PreparedImage


class VerifiedApiEngine(EnginePair):
    """The API engine, its every answer compared with the offline engine's reading."""

    name = ApiEngine.name
    description = "each call may be billed; the offline engine checks every answer for free"

    @classmethod
    def from_settings(cls, settings: Settings, options: EngineOptions) -> VerifiedApiEngine:
        paid = ApiEngine.from_settings(settings, options)
        return cls(LocalEngine.from_settings(settings, options), paid)

    async def recognise(self, image: PreparedImage) -> EngineResult:
        paid_image = await self.paid_image(image)
        # Read offline while the API answers: the second opinion costs no wall time.
        offline = asyncio.ensure_future(self._second_opinion(image))
        try:
            paid = await self.paid.recognise(paid_image)
        except FileError as exc:
            offline.cancel()
            raise self.paid_failure(exc) from None
        except BaseException:
            offline.cancel()
            raise
        reading = await offline
        rows = paid.cards or (CardRead(paid.data, paid.portrait_bytes),)
        reads = [row for row in rows if isinstance(row, CardRead)]
        opinions = iter(vouch.row_disagreements(reading.rows, reads)
                        if reading.result is not None and len(reads) == len(rows)
                        else [() for _ in rows])
        marked = [row if isinstance(row, CardFailure)
                  else dataclasses.replace(row, disagree=next(opinions)) for row in rows]
        return dataclasses.replace(
            paid, cards=tuple(marked), fitted=paid_image.fitted,
            warnings=reading.warnings if reading.result is not None else None)

    async def _second_opinion(self, image: PreparedImage) -> OfflineReading:
        """The offline reading; any failure of it leaves the API's rows as they are."""
        try:
            return await self.read_offline(image)
        except FileError as exc:
            return OfflineReading(None, (), failure=exc)

    async def calls_for(self, image: PreparedImage) -> int:
        return await self.paid.calls_for(await self.paid_image(image))

    def counters(self) -> EngineCounters:
        return self.paid.counters()
