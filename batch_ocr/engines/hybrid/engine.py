"""``--engine hybrid``: every card read offline first, the API paid only for doubt.

Each picture is read by the offline engine. A card it can vouch for (``vouch``: its row
would need no review for a reason about the reading) costs nothing and its row says
``engine`` ``local``. A card it cannot vouch for is sent to the API and its row is the
API's answer (``engine`` ``api``), with the offline reasons in ``escalated_for`` and
every field the offline engine read otherwise named in its review reasons
(``disagree:<column>``), so a misread of the provider's is caught without paying twice.

A page of several cards is escalated card by card when the offline engine's cards and
the API engine's crops are the same cards: both come from ``vision.layout``'s finder in
reading order (the API engine's looks of its own, ``vision.card_search``, only add cards
where the finder saw fewer than two), so the same count means the same cards in the same
order (a card found in one and not the other would shift every number after it, and no
number can be trusted then). Otherwise (the finders saw different cards on the two pictures, the
offline engine read the page whole) the whole page goes to the API as the API engine
sends it, a call per crop.

Every answer paid for is kept in the run's ``AnswerKeeper`` (the journal) under the
sha256 of what was sent before it is used, a single picture's too: a run stopped or
killed after the call never pays for it again, and a rerun recalls it.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from batch_ocr.engines.api.engine import ApiEngine, answer_key
from batch_ocr.engines.base import CardRead, Engine, EngineCounters, EngineResult, PaidAnswer
from batch_ocr.engines.hybrid import vouch
from batch_ocr.engines.hybrid.pair import EnginePair, OfflineReading, failed_cards, read_by
from batch_ocr.engines.local.engine import LocalEngine
from batch_ocr.engines.registry import EngineOptions
from batch_ocr.errors import FileError, ImageRejected
from batch_ocr.run.cards import CardFailure, assemble, partly_read
from batch_ocr.settings import Settings
from batch_ocr.vision.imaging import PreparedImage

if TYPE_CHECKING:
    from batch_ocr.vision.card_cut import CardCrop


@dataclasses.dataclass(frozen=True, slots=True)
class Plan:
    """What to pay for on one picture, decided from its offline reading alone."""

    reading: OfflineReading
    #: Per card found on a page of several (``EngineResult.found``), why it is doubted.
    card_doubts: tuple[tuple[str, ...], ...] = ()
    #: Why the picture's rows are doubted when it was not read card by card.
    row_doubts: tuple[str, ...] = ()

    @property
    def doubted(self) -> bool:
        return bool(self.row_doubts) or any(self.card_doubts)

    @property
    def doubts(self) -> tuple[str, ...]:
        """Every reason, once: what a page escalated whole was escalated for."""
        return tuple(dict.fromkeys([*self.row_doubts, *(r for d in self.card_doubts for r in d)]))


def plan(reading: OfflineReading, *, as_of: datetime.date) -> Plan:
    """Which of a picture's cards to pay for: a pure function of its offline reading."""
    result = reading.result
    if result is None:
        return Plan(reading, row_doubts=(vouch.OFFLINE_FAILED,))
    if len(result.found) >= 2:
        return Plan(reading, card_doubts=tuple(
            vouch.card_doubts(card, reading.warnings, as_of=as_of) for card in result.found))
    doubts = [r for row in reading.rows
              for r in vouch.row_doubts(row, reading.warnings, as_of=as_of)]
    return Plan(reading, row_doubts=tuple(dict.fromkeys(doubts)))


class HybridEngine(EnginePair):
    """The offline engine first, the API for the cards it cannot vouch for."""

    name = "hybrid"
    description = "offline first; the API is paid only for the cards it cannot vouch for"
    reads_in_dry_run = True

    def __init__(self, offline: Engine, paid: ApiEngine, *, dry_run: bool = False,
                 today: Callable[[], datetime.date] = datetime.date.today) -> None:
        super().__init__(offline, paid)
        self._dry_run = dry_run
        self._today = today
        self._cards_offline = 0
        self._cards_escalated = 0

    @classmethod
    def from_settings(cls, settings: Settings, options: EngineOptions) -> HybridEngine:
        offline = LocalEngine.from_settings(settings, options)
        paid = ApiEngine.from_settings(settings, options)
        return cls(offline, paid, dry_run=options.dry_run)

    async def start(self) -> None:
        if self._dry_run:
            await self.offline.start()  # a dry run reads offline, and calls nothing
            return
        await super().start()

    async def _plan(self, image: PreparedImage) -> Plan:
        return plan(await self.read_offline(image), as_of=self._today())

    async def recognise(self, image: PreparedImage) -> EngineResult:
        decided = await self._plan(image)
        reading = decided.reading
        if not decided.doubted:
            assert reading.result is not None
            self._count(offline=max(1, len(reading.result.found)))
            return _offline_result(reading, self.offline.name)
        try:
            paid_image = await self.paid_image(image)
        except ImageRejected as exc:
            if reading.result is None:
                raise self.paid_failure(exc) from None
            # The API could not take it either: the offline rows stand, doubts and all.
            return _offline_result(reading, self.offline.name)
        crops = await self.paid.crops_of(paid_image)
        if crops and len(crops) == len(decided.card_doubts):
            result = await self._escalate_cards(decided, crops)
        else:
            result = await self._escalate_page(decided, paid_image, crops)
        return dataclasses.replace(result, warnings=reading.warnings, fitted=paid_image.fitted)

    async def _escalate_cards(self, decided: Plan, crops: list[CardCrop]) -> EngineResult:
        """The doubted cards of a page through the API, the others as read offline."""
        result = decided.reading.result
        assert result is not None
        found: list[CardRead | CardFailure] = list(read_by(result.found, self.offline.name))
        attempts, keys = 0, []
        for number, (card, crop, doubts) in enumerate(
                zip(result.found, crops, decided.card_doubts, strict=True), start=1):
            if not doubts:
                continue
            try:
                answer, key = await self.paid.cut_card_answer(crop.jpeg, crop.key,
                                                              legacy_key=crop.legacy_key)
            except FileError as exc:
                found[number - 1] = CardFailure(number, self.paid_failure(exc))
                continue
            keys.append(key)
            attempts += answer.attempts
            found[number - 1] = CardRead(
                answer.data, side_seen=crop.by_print, engine=self.paid.name,
                escalated_for=doubts, disagree=vouch.disagreements(card.data, answer.data))
        escalated = sum(1 for doubts in decided.card_doubts if doubts)
        self._count(offline=len(crops) - escalated, escalated=escalated)
        if failed_cards(found):
            # The answers kept so far stay kept: the next run pays only for the card
            # that failed (docs/documents.md).
            rows = partly_read(found)
            first = next((row.data for row in rows if isinstance(row, CardRead)), result.data)
            return EngineResult(first, attempts, cards=tuple(rows))
        reads = assemble([card for card in found if isinstance(card, CardRead)])
        return EngineResult(reads[0].data, attempts, reads[0].portrait_bytes,
                            cards=tuple(reads), kept_answers=tuple(keys))

    async def _escalate_page(self, decided: Plan, paid_image: PreparedImage,
                             crops: list[CardCrop]) -> EngineResult:
        """The whole picture through the API, as the API engine sends it."""
        if crops:
            try:
                paid = await self.paid.read_cards(crops)
            except FileError as exc:
                raise self.paid_failure(exc) from None
            keys = paid.kept_answers
        else:
            key = answer_key(paid_image.payload)
            answer = await self._single_answer(paid_image, key)
            paid = EngineResult(answer.data, answer.attempts)
            keys = (key,)
        self._count(escalated=max(1, len(crops)))
        rows = [read for read in paid.cards or (CardRead(paid.data, paid.portrait_bytes),)]
        offline_rows = decided.reading.rows
        reads = [card for card in rows if isinstance(card, CardRead)]
        disagree = iter(vouch.row_disagreements(offline_rows, reads)
                        if len(reads) == len(rows) else [() for _ in rows])
        marked: list[CardRead | CardFailure] = []
        for row in rows:
            if isinstance(row, CardFailure):
                marked.append(CardFailure(row.card, self.paid_failure(row.error)))
                continue
            marked.append(dataclasses.replace(row, engine=self.paid.name,
                                              escalated_for=decided.doubts,
                                              disagree=next(disagree)))
        return EngineResult(paid.data, paid.attempts, paid.portrait_bytes, cards=tuple(marked),
                            kept_answers=keys if not failed_cards(marked) else ())

    async def _single_answer(self, paid_image: PreparedImage, key: str) -> PaidAnswer:
        try:
            return await self.paid.card_answer(paid_image.payload, key, paid_image.mime)
        except FileError as exc:
            raise self.paid_failure(exc) from None

    def _count(self, *, offline: int = 0, escalated: int = 0) -> None:
        self._cards_offline += offline
        self._cards_escalated += escalated

    async def calls_for(self, image: PreparedImage) -> int:
        """Reads ``image`` offline (CPU, no money) and counts the calls its doubted cards
        would cost, not those whose answers are kept already."""
        decided = await self._plan(image)
        if not decided.doubted:
            assert decided.reading.result is not None
            self._count(offline=max(1, len(decided.reading.result.found)))
            return 0
        try:
            paid_image = await self.paid_image(image)
        except ImageRejected:
            return 0
        crops = await self.paid.crops_of(paid_image)
        if crops and len(crops) == len(decided.card_doubts):
            escalated = sum(1 for doubts in decided.card_doubts if doubts)
            self._count(offline=len(crops) - escalated, escalated=escalated)
            sent = [(crop.key, crop.legacy_key)
                    for crop, doubts in zip(crops, decided.card_doubts, strict=True) if doubts]
        else:
            self._count(escalated=max(1, len(crops)))
            sent = ([(crop.key, crop.legacy_key) for crop in crops]
                    or [(answer_key(paid_image.payload), None)])
        return await self._due(sent)

    async def _due(self, keys: Sequence[tuple[str, str | None]]) -> int:
        """How many of the calls under ``keys`` (each with an earlier version's) no kept
        answer stands for."""
        return sum([not await self.paid.answer_kept(key, legacy) for key, legacy in keys])

    def counters(self) -> EngineCounters:
        paid = self.paid.counters()
        return dataclasses.replace(paid, cards_read_offline=self._cards_offline,
                                   cards_escalated=self._cards_escalated)


def _offline_result(reading: OfflineReading, engine: str) -> EngineResult:
    """The offline reading as the picture's result, its rows saying ``engine``."""
    result = reading.result
    assert result is not None
    return dataclasses.replace(result, cards=tuple(read_by(reading.rows, engine)),
                               warnings=reading.warnings, found=())
