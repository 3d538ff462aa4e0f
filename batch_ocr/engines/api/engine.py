"""The paid API as an engine: it owns the HTTP session, the call gate and the breaker.

Each ``recognise`` is one or more billed calls through ``ApiClient``. Images arrive
fitted to the API's limits (``image_limits``); portraits are links, fetched with the
same session and retry policy (``fetch_portrait``).

The provider reads one card side per call: a page with several cards is cut into one
straightened image per card (``crops``), each its own call, and the answers become rows
exactly as the offline engine's do (``batch_ocr.run.cards``; docs/documents.md). Each
card's answer is kept (``AnswerKeeper``, the run's journal) as soon as it arrives and
recalled by the page's sha256 and the card's place on it (``CardCrop.key``, not the bytes
sent: a better cut must not pay again), or by the key an earlier version kept it under
(the sha256 of its crop as cut then), so a card that fails costs a row of its own, and
finishing the page pays for it alone.

Whatever needs the pixels is done before the calls, and then the pixels are let go: an
image waiting for its answer holds its bytes alone (docs/performance.md). The card
search's decode also serves the image warnings when their JPEG scales agree
(``vision.picture``), so those are measured then rather than decoded again after.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from typing import TypeVar

import aiohttp

from batch_ocr.engines.api import portrait_links, retry_policy
from batch_ocr.engines.api.call_gate import CallGate, UnreachableBreaker
from batch_ocr.engines.api.client import ApiClient, Recognition
from batch_ocr.engines.api.meters import RateLimit
from batch_ocr.engines.api.transport import TransportSettings, make_session
from batch_ocr.engines.base import (
    AnswerKeeper,
    Engine,
    EngineCounters,
    EngineResult,
    NoAnswerKeeper,
    PaidAnswer,
    PortraitUnavailable,
)
from batch_ocr.engines.registry import EngineOptions
from batch_ocr.errors import ApiError, BatchOcrError, FatalRunError, FileError
from batch_ocr.provider.encoding import form_body
from batch_ocr.provider.models import CardData, CardInfo
from batch_ocr.run.cards import CardFailure, CardRead, assemble, partly_read
from batch_ocr.settings import Settings
from batch_ocr.vision import crops, image_warnings
from batch_ocr.vision.imaging import API_LIMITS, PreparedImage
from batch_ocr.vision.picture import Picture

#: ``EngineResult.data`` of a page whose first card failed (its rows are all in ``cards``).
_NO_DATA = CardData(result=1, info=CardInfo())

_T = TypeVar("_T")


def _then_release(work: Callable[[Picture], _T], picture: Picture) -> _T:
    """``work(picture)``, then the picture's decodes let go (in the same thread)."""
    try:
        return work(picture)
    finally:
        picture.release()


def _look(picture: Picture, legacy_keys: bool, original: Picture | None
          ) -> tuple[list[crops.CardCrop], tuple[str, ...] | None]:
    """The cards to cut out (from ``original``, the file's own image, when ``picture`` was
    fitted from it; with the keys earlier versions kept their answers under when
    ``legacy_keys``), and the image warnings when the search's decode serves them
    (``image_warnings.warnings_at_hand``; None: the run measures them if the rows ask)."""
    return (crops.card_crops(picture, legacy_keys=legacy_keys, original=original),
            image_warnings.warnings_at_hand(picture))


def answer_key(payload: bytes) -> str:
    """What the kept answer of an image sent whole is recalled by: the sha256 of what was
    sent (a card cut out of a page has its own: ``CardCrop.key``)."""
    return hashlib.sha256(payload).hexdigest()



class ApiEngine(Engine):
    """The provider's HTTP API (``API_CONTRACT.md``), priced and connected from its own
    ``[api]`` settings."""

    name = "api"
    billed = True
    image_limits = API_LIMITS
    description = "each call may be billed"
    #: Attempts ran out on a transient failure: the next run tries the image again.
    retried_next_run = retry_policy.RETRIED_NEXT_RUN

    def __init__(self, settings: Settings, options: EngineOptions | None = None) -> None:
        options = options or EngineOptions()
        self._settings = settings
        self._sleep = options.sleep or asyncio.sleep
        api = settings.api
        self.price_per_call_cny = api.price_per_call
        self.transport = TransportSettings.of(settings)
        self.gate = CallGate(max_calls=options.max_calls,
                             rate=RateLimit(api.qps) if api.qps else None,
                             max_in_flight=settings.concurrency)
        self.breaker = UnreachableBreaker()
        self._session: aiohttp.ClientSession | None = None
        self._client: ApiClient | None = None
        self._answers: AnswerKeeper = NoAnswerKeeper()
        self._answers_reused = 0
        #: Whether answers were kept when the run started (None: not asked yet): only
        #: then may some be under an earlier version's keys, worth working out.
        self._held_at_start: bool | None = None

    @classmethod
    def from_settings(cls, settings: Settings, options: EngineOptions) -> ApiEngine:
        if not options.dry_run:
            settings.api.require_credentials()
        return cls(settings, options)

    async def start(self) -> None:
        crops.prepare()
        self._session = make_session(self.transport)
        self._client = ApiClient(self._settings.api, self._session, sleep=self._sleep,
                                 call_slot=self.gate.slot,
                                 credentials_from=self._settings.credentials_from)

    def keep_answers_in(self, keeper: AnswerKeeper) -> None:
        self._answers = keeper

    async def recognise(self, image: PreparedImage) -> EngineResult:
        cards, warnings = await self._look_at(image)
        if not cards:
            recognition = await self._call(image.mime, image.payload)
            return EngineResult(recognition.data, recognition.attempts, warnings=warnings)
        return await self.read_cards(cards, warnings)

    async def _look_at(self, image: PreparedImage
                       ) -> tuple[list[crops.CardCrop], tuple[str, ...] | None]:
        """The cards and the image warnings ``_look`` finds, the picture's decodes let go
        before any call is made; nothing for a picture too small to hold several."""
        if not crops.may_hold_several(image.width, image.height):
            return [], None
        legacy_keys = await self._legacy_keys_due()
        return await asyncio.to_thread(
            _then_release, lambda p: _look(p, legacy_keys, image.original), image.picture)

    async def _legacy_keys_due(self) -> bool:
        """Whether cards need the keys earlier versions kept their answers under: only
        while the journal held answers when the run started (this run keeps its own
        under ``CardCrop.key``)."""
        if self._held_at_start is None:
            self._held_at_start = await self._answers.holds_any()
        return self._held_at_start

    async def crops_of(self, image: PreparedImage) -> list[crops.CardCrop]:
        """The cards this engine cuts ``image`` into, a call each; empty: one call for
        the image whole."""
        cards, _ = await self._look_at(image)
        return cards

    async def read_cards(self, cards: list[crops.CardCrop],
                         warnings: tuple[str, ...] | None = None) -> EngineResult:
        """The rows of a page cut into ``cards``: a call per card not answered before;
        ``warnings``: the page's image warnings when measured (None: the run measures
        them if the rows ask)."""
        found: list[CardRead | CardFailure] = []
        attempts, keys = 0, list[str]()
        for number, card in enumerate(cards, start=1):
            # A fatal error, the call budget or a stop leaves the page without rows:
            # the answers kept so far wait for the next run.
            try:
                answer, key = await self.cut_card_answer(card.jpeg, card.key,
                                                         legacy_key=card.legacy_key)
            except FileError as exc:
                found.append(CardFailure(number, exc))
                continue
            keys.append(key)
            # A card found by its print alone is an ID side seen (``batch_ocr.run.cards``).
            found.append(CardRead(answer.data, side_seen=card.by_print))
            attempts += answer.attempts
        if any(isinstance(card, CardFailure) for card in found):
            return EngineResult(found[0].data if isinstance(found[0], CardRead) else _NO_DATA,
                                attempts, cards=tuple(partly_read(found)), warnings=warnings)
        rows = assemble([card for card in found if isinstance(card, CardRead)])
        return EngineResult(rows[0].data, attempts, rows[0].portrait_bytes, warnings=warnings,
                            cards=tuple(rows) if len(rows) > 1 or rows[0].warnings else (),
                            kept_answers=tuple(keys))  # fmt: skip

    async def card_answer(self, payload: bytes, key: str, mime: str = crops.CROP_MIME
                          ) -> PaidAnswer:
        """The answer for one card: kept from an earlier try, else paid for and kept
        under ``key`` before the next card's call (docs/documents.md)."""
        answer, _ = await self.cut_card_answer(payload, key, mime)
        return answer

    async def cut_card_answer(self, payload: bytes, key: str, mime: str = crops.CROP_MIME,
                              legacy_key: str | None = None) -> tuple[PaidAnswer, str]:
        """``card_answer`` for a card cut out of a page, also recalled under ``legacy_key``
        (where an earlier version kept it); and the key it is kept under now."""
        for kept_under in (key,) if legacy_key is None else (key, legacy_key):
            kept = await self._recall(kept_under)
            if kept is not None:
                self._answers_reused += 1
                return kept, kept_under
        recognition = await self._call(mime, payload)
        answer = PaidAnswer(recognition.data, recognition.attempts)
        await self._answers.keep(key, answer)
        return answer, key

    async def _recall(self, key: str | None) -> PaidAnswer | None:
        return None if key is None else await self._answers.recall(key)

    async def answer_kept(self, key: str, legacy_key: str | None = None) -> bool:
        """Whether an answer kept under ``key`` (or ``legacy_key``) would stand for a call
        (a dry run's count)."""
        return (await self._recall(key) or await self._recall(legacy_key)) is not None

    async def calls_for(self, image: PreparedImage) -> int:
        if not crops.may_hold_several(image.width, image.height):
            return 1
        if not await self._answers.holds_any():
            # Counting the cards is cheaper than cutting them out (no full decode).
            return await asyncio.to_thread(_then_release, crops.calls_for, image.picture)
        cards = await asyncio.to_thread(
            _then_release, lambda p: crops.card_crops(p, legacy_keys=True), image.picture)
        if not cards:
            return 1
        due = 0
        for card in cards:
            if not await self.answer_kept(card.key, card.legacy_key):
                due += 1
        return due

    async def _call(self, mime: str, payload: bytes) -> Recognition:
        """One image through the call gate, the client's retries and the breaker."""
        if self._client is None:
            raise RuntimeError("start() the engine first")
        try:
            recognition = await self._client.recognise(form_body(mime, payload))
        except FatalRunError as exc:
            self.gate.stop(exc)
            raise
        except ApiError as exc:
            tripped = self.breaker.file_failed(exc.error_code, exc.message)
            if tripped is not None:
                self.gate.stop(tripped)
            raise
        self.breaker.answered()
        return recognition

    def images_in_flight(self) -> int:
        """Twice as many images as requests: while ``--concurrency`` requests are out
        (the HTTP pool allows no more), as many more are written, read and checked, so
        that a request slot freed finds its next image ready. With a quarter more, one
        freed slot in six found none in tests/benchmarks (throughput, C=64) when the
        writer thread was busy; with as many more, none but the last round's. Each
        image waiting holds its prepared payload (1 MB at most)."""
        concurrency = self._settings.concurrency
        return 2 * concurrency

    def halt(self, reason: BatchOcrError) -> None:
        self.gate.stop(reason)

    def counters(self) -> EngineCounters:
        if self._client is None:
            return EngineCounters()
        return EngineCounters(calls=self._client.calls, retries=self._client.retries,
                              answers_reused=self._answers_reused)

    async def fetch_portrait(self, url: str) -> bytes:
        if self._session is None:
            raise PortraitUnavailable("the engine is not started")
        return await portrait_links.download(self._session, url,
                                             max_attempts=self._settings.api.max_attempts,
                                             sleep=self._sleep)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
