"""The state journal as the place an engine keeps answers it paid for part of a page.

docs/documents.md: through the API each card on a page is its own billed call. The
engine keeps each answer as it arrives (``Engine.keep_answers_in``); this keeper commits
it to the journal before the next call, on the run's writer thread (the one that owns
the journal's connection), so a card that fails, a fatal stop or a ``kill -9`` between
two calls never costs a card already answered. Whether a kept answer may stand for a
new call follows the rerun flags (``resume.answer_reusable``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from batch_ocr.engines.base import AnswerKeeper, PaidAnswer
from batch_ocr.errors import OutputError
from batch_ocr.provider.models import CardData
from batch_ocr.run.dedup import SeenContents
from batch_ocr.run.journal.resume import ResumePolicy, answer_reusable
from batch_ocr.run.journal.state import Journal
from batch_ocr.run.present.rows import classify

T = TypeVar("T")


class InWriter(Protocol):
    """Runs a journal call on the run's writer thread."""

    def __call__(self, call: Callable[[], T]) -> Awaitable[T]: ...


class JournalAnswers(AnswerKeeper):
    """``engine``'s kept answers in ``journal``; a dry run reads them and keeps none."""

    def __init__(self, journal: Journal, engine: str, *, policy: ResumePolicy,
                 in_writer: InWriter, dry_run: bool) -> None:
        self._journal = journal
        self._engine = engine
        self._policy = policy
        self._in_writer = in_writer
        self._dry_run = dry_run
        #: Whether the journal held any answer when first asked (None: not asked yet),
        #: and the keys kept since: a run that started with none asks the journal only
        #: about those, sparing a trip to the writer thread per card (as ``pipeline``
        #: spares one per image on a first run).
        self._held_at_start: bool | None = None
        self._kept_here = SeenContents()

    async def recall(self, key: str) -> PaidAnswer | None:
        if self._policy.force:
            return None
        if self._held_at_start is None:
            self._held_at_start = await self._in_writer(
                lambda: self._journal.holds_paid_answers(self._engine))
        if not self._held_at_start and _digest(key) not in self._kept_here:
            return None
        found = await self._in_writer(lambda: self._journal.paid_answer(self._engine, key))
        if found is None:
            return None
        answer_json, attempts = found
        data = CardData.model_validate_json(answer_json)
        if not answer_reusable(classify(data), self._policy):
            return None
        return PaidAnswer(data, attempts)

    async def keep(self, key: str, answer: PaidAnswer) -> None:
        if self._dry_run:
            return
        answer_json = answer.data.model_dump_json()
        try:
            await self._in_writer(lambda: self._journal.keep_paid_answer(
                self._engine, key, answer_json, answer.attempts))
        except OSError as exc:
            raise OutputError(f"cannot write the output or state: {exc}") from None
        self._kept_here.add(_digest(key))

    async def holds_any(self) -> bool:
        if self._policy.force:
            return False
        return await self._in_writer(lambda: self._journal.holds_paid_answers(self._engine))


def _digest(key: str) -> str:
    """``key`` as the uniformly random hex digest ``SeenContents`` takes (the engine's
    keys may be anything)."""
    return hashlib.sha256(key.encode()).hexdigest()
