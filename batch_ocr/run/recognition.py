"""One image (a file or a page) to its rows: reuse, dry-run count, once per content,
the engine, then a row per card with its warnings and portrait.

``ImageRows`` is the part of a run that meets the engine; ``pipeline.BatchRun`` hands it
each loaded image and writes what comes back. Once an image's rows are made, the decodes
of its picture are let go (``vision.picture``): the job keeps only its bytes.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from batch_ocr import statuses
from batch_ocr.engines.base import CardRead, Engine, EngineResult
from batch_ocr.errors import FileError, ImageRejected
from batch_ocr.run import jobs
from batch_ocr.run.cards import CardFailure
from batch_ocr.run.dedup import ContentDedup
from batch_ocr.run.journal.resume import ResumePolicy, reusable_record
from batch_ocr.run.journal.state import RecordedRows
from batch_ocr.run.present import portraits
from batch_ocr.run.present.review import DISAGREE, placed_mark
from batch_ocr.run.present.rows import Row, row_from_card
from batch_ocr.run.summary import RunCounters
from batch_ocr.vision import image_warnings
from batch_ocr.vision.imaging import PreparedImage
from batch_ocr.vision.picture import Picture

#: The final rows a journal holds for a content, page by page (none without a journal).
FinalRows = Callable[[str], Awaitable[list[RecordedRows]]]


@dataclass(frozen=True, slots=True)
class ImageOutcome:
    """The rows of one image, and the answers its engine kept for it that they hold."""

    rows: list[Row]
    #: ``EngineResult.kept_answers``: journaled away with the rows once they are final.
    kept_answers: tuple[str, ...] = ()
    #: The version of the engine that read the rows (``Engine.version``; a copy keeps
    #: its original's); "" when no engine did (a refused page).
    engine_version: str = ""
    #: The engine that read them (a copy keeps its original's); "" for the rows' own.
    engine: str = ""


class ImageRows:
    """Rows for loaded images, recognising each distinct content once per run."""

    def __init__(self, engine: Engine, *, policy: ResumePolicy, counters: RunCounters,
                 final_rows: FinalRows, dry_run: bool,
                 portraits_dir: Path | None = None) -> None:
        self.engine = engine
        self.policy = policy
        self.counters = counters
        self.final_rows = final_rows
        self.dry_run = dry_run
        self.portraits_dir = portraits_dir
        self.dedup: ContentDedup[ImageOutcome] = ContentDedup()
        self._dry_run_shas: set[str] = set()

    async def rows_for(self, loaded: jobs.FileJob) -> ImageOutcome:
        """The rows of one image (one per card found), or none when nothing is due."""
        earlier, older_engine = reusable_record(await self.final_rows(loaded.sha256),
                                                self.policy)
        if earlier is not None:
            self.counters.reused += 1
            return ImageOutcome(await self._copy(earlier.rows, loaded),
                                engine_version=earlier.engine_version, engine=earlier.engine)
        if loaded.image.no_card is not None:
            # Blank, uniform or tiny (the pre-flight check's ``no_card``): one row, the
            # same whichever engine the run has, and nothing paid (docs/reference.md).
            return ImageOutcome([] if self.dry_run else [no_card_row(loaded)])
        # ``older_engine``: read again because an older version of this engine recorded
        # it (``--redo-engine-older-than``); counted once per content, as calls are.
        if self.dry_run:
            if loaded.sha256 not in self._dry_run_shas:
                self._dry_run_shas.add(loaded.sha256)
                # One per card still due on a page, for an engine that reads a card per
                # call. (Awaited first: ``+= await`` would read the count before the wait.)
                try:
                    calls = await self.engine.calls_for(loaded.image)
                finally:
                    loaded.image.picture.release()
                self.counters.would_call += calls
                if older_engine:
                    self.counters.older_engine_rereads += 1
                    self.counters.older_engine_reread_calls += calls
            return ImageOutcome([])
        outcome, is_copy = await self.dedup.once(loaded.sha256, lambda: self._recognise(loaded))
        if is_copy:
            self.counters.reused += 1
            return ImageOutcome(await self._copy(outcome.rows, loaded),
                                engine_version=outcome.engine_version, engine=outcome.engine)
        if older_engine:
            self.counters.older_engine_rereads += 1
        return outcome

    async def _recognise(self, job: jobs.FileJob) -> ImageOutcome:
        try:
            return await self._rows_of(job)
        finally:
            job.image.picture.release()

    async def _rows_of(self, job: jobs.FileJob) -> ImageOutcome:
        try:
            result = await self.engine.recognise(job.image)
        except FileError as exc:
            return ImageOutcome([self._error_row(job, exc)],
                                engine_version=self.engine.version, engine=self.engine.name)
        # One row per card when the image held several (docs/documents.md).
        reads = result.cards or (
            CardRead(result.data, result.portrait_bytes, confidence=result.confidence),)
        rows = []
        # One picture, one set of warnings: a page of four cards is measured once.
        page_warnings: list[str] | None = None
        for read in reads:
            if isinstance(read, CardFailure):
                # A card whose call failed on a page whose other cards were read.
                rows.append(dataclasses.replace(self._error_row(job, read.error),
                                                card=read.card))
                continue
            row = row_from_card(job.file, read.data, attempts=result.attempts,
                                sha256=job.sha256, fitted=job.image.fitted or result.fitted,
                                engine=read.engine or self.engine.name,
                                confidence=read.confidence, card=read.card, page=job.page)
            changes = read_by(read)
            if row.status in statuses.WARNED_STATUSES:
                if page_warnings is None:
                    page_warnings = await _warnings(result, job.image)
                # The picture's, then a side seen on the page and not read (this card's).
                warnings = [*page_warnings, *read.warnings]
                if warnings:
                    changes["warnings"] = warnings
                if result.warnings is not None:  # the engine's own: it placed them
                    mark = placed_mark(warnings, read.confidence)
                    if mark:
                        reasons = changes.get("review_reasons", [])
                        changes["review_reasons"] = [*reasons, *mark]  # type: ignore[misc]
            if changes:
                row = dataclasses.replace(row, **changes)  # type: ignore[arg-type]
            if self.portraits_dir is not None:
                row = await portraits.save_for_row(row, self.portraits_dir,
                                                   read.portrait_bytes, self.engine)
            rows.append(row)
        return ImageOutcome(rows, result.kept_answers, engine_version=self.engine.version,
                            engine=self.engine.name)

    def _error_row(self, job: jobs.FileJob, error: FileError) -> Row:
        """The row of an image (or a card of it) the engine failed: ``rejected`` when
        refused before any call (an engine that fits the image itself), else ``error``;
        its ``engine`` the one of several that failed it."""
        if isinstance(error, ImageRejected):
            row = jobs.rejected_row(job.candidate, error, job.sha256, job.page)
            return dataclasses.replace(row, engine=error.engine or self.engine.name)
        return jobs.error_row(job, error, error.engine or self.engine.name)

    async def _copy(self, rows: list[Row], job: jobs.FileJob) -> list[Row]:
        """The rows of an image whose content was already recognised (no call made)."""
        copies = []
        for row in rows:
            copy = dataclasses.replace(row, file=job.file, page=job.page, attempts=0,
                                       portrait_file="", portrait_error="")
            if self.portraits_dir is not None:
                copy = await portraits.copy_for_row(row, copy, self.portraits_dir)
            copies.append(copy)
        return copies


def no_card_row(job: jobs.FileJob) -> Row:
    """The ``not_id_card`` row of a picture with nothing card-like on it: no engine saw it."""
    reason = job.image.no_card
    assert reason is not None
    return Row(file=job.file, status=statuses.NOT_ID_CARD, error_code=reason.error_code,
               error_message=reason.message, sha256=job.sha256, page=job.page)


def read_by(read: CardRead) -> dict[str, object]:
    """What a card's row carries of the engines that read it, when there were several:
    why it was escalated, and where two readings disagreed (``review.DISAGREE``: found
    here, the only time both readings exist, and kept with the row)."""
    changes: dict[str, object] = {}
    if read.escalated_for:
        changes["escalated_for"] = list(read.escalated_for)
    if read.disagree:
        changes["review_reasons"] = [f"{DISAGREE}{column}" for column in read.disagree]
    return changes


async def _warnings(result: EngineResult, image: PreparedImage) -> list[str]:
    """The image warnings of a recognised picture: the engine's, else computed here.

    Off the event loop: decoding and measuring take tens of milliseconds of CPU; the
    decode is let go in the same trip, before the next row's work.
    """
    if result.warnings is not None:
        return list(result.warnings)
    return await asyncio.to_thread(_measured, image.picture)


def _measured(picture: Picture) -> list[str]:
    try:
        return image_warnings.warnings_for(picture)
    finally:
        picture.release()
