"""Where a run's rows are recorded: the journal first, the output second, on one writer
thread, in order.

Journal and output stay off the event loop (they were a fifth of its time per image in
tests/benchmarks) and in the order the run hands them over, so a look-up made after a
write sees it. ``pipeline.BatchRun`` asks here what earlier runs recorded and hands
each page's rows over.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from batch_ocr import statuses
from batch_ocr.engines.base import Engine
from batch_ocr.errors import OutputError
from batch_ocr.run.dedup import SeenContents
from batch_ocr.run.journal.resume import answers_done
from batch_ocr.run.journal.state import FileStamp, Journal, JournalEntry, RecordedRows
from batch_ocr.run.present.rows import Row
from batch_ocr.run.recognition import ImageOutcome

T = TypeVar("T")
RowSink = Callable[[Row], None]
#: A file's stamp and what earlier runs recorded of it, if it is unchanged since.
Stamped = tuple[FileStamp, list[JournalEntry] | None]


class RunRecorder:
    """The journal (when there is one) and the output sink of one run."""

    def __init__(self, journal: Journal | None, sink: RowSink, engine: Engine, *,
                 force: bool, dry_run: bool) -> None:
        self.journal = journal
        self.sink = sink
        self.engine = engine
        self.force = force
        self.dry_run = dry_run
        #: Whether the journal held any file when the run started (``start``).
        self.journal_had_files = False
        #: Contents journaled by this run (added on the writer thread as it records).
        self._journaled = SeenContents()
        #: The look-up of each file the walk announced (``expect``) and no worker took yet.
        self._looked_up: dict[Path, Future[dict[Path, Stamped]]] = {}
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="batch-ocr-writer")

    def start(self) -> None:
        """Note what the journal holds as the run starts."""
        self.journal_had_files = self.journal is not None and not self.journal.is_empty()

    def shutdown(self) -> None:
        """Wait for the write in progress (at most one) and stop the writer thread."""
        self._writer.shutdown(wait=True)

    async def in_writer(self, call: Callable[[], T]) -> T:
        """Run ``call`` on the writer thread, after everything handed over before it."""
        return await asyncio.get_running_loop().run_in_executor(self._writer, call)

    @property
    def looks_up_files(self) -> bool:
        """Whether each file is looked up in the journal before it is read: not without
        a journal, on a first run or with ``--force``."""
        return self.journal is not None and self.journal_had_files and not self.force

    def expect(self, paths: Sequence[Path]) -> None:
        """The walk's next files: they are stamped and looked up together, in one trip to
        the writer thread that starts now, while the files before them are handled.

        A trip per file was most of a no-op rerun's time (docs/performance.md). No write
        of this run can be missed: a file's only write comes after its look-up.
        """
        journal = self.journal
        if journal is None or not self.looks_up_files:
            return
        batch = list(paths)

        def look_up() -> dict[Path, Stamped]:
            stamped = [(path, FileStamp.of(path)) for path in batch]
            found = journal.entries_if_unchanged_of(stamped)
            return {path: (stamp, entries)
                    for (path, stamp), entries in zip(stamped, found, strict=True)}

        looked_up = self._writer.submit(look_up)
        self._looked_up.update(dict.fromkeys(batch, looked_up))

    async def stamped_entries(self, path: Path) -> Stamped:
        """``path``'s stamp, and what earlier runs recorded of it if it is unchanged since
        (None when it changed or there is nothing to look up: ``looks_up_files``)."""
        journal = self.journal
        if journal is None or not self.looks_up_files:
            return FileStamp.of(path), None
        looked_up = self._looked_up.pop(path, None)
        if looked_up is None:  # not announced by the walk (a caller of its own)
            stamp = FileStamp.of(path)
            return stamp, await self.in_writer(lambda: journal.entries_if_unchanged(path, stamp))
        if not looked_up.done():  # most are by now: no trip through the loop then
            await asyncio.wrap_future(looked_up)
        return looked_up.result()[path]

    async def final_rows(self, sha256: str) -> list[RecordedRows]:
        """The final rows already paid for this content, page by page, each with the
        version of the engine that read it; empty when there are none."""
        journal = self.journal
        if journal is None or self.force:
            return []
        if not self.journal_had_files and sha256 not in self._journaled:
            # The journal was empty at the start and this run has not recorded this
            # content: nothing to look up. (Its first copy, recorded meanwhile, is
            # still remembered by ``dedup`` until its write is done.)
            return []
        return await self.in_writer(lambda: journal.final_records_for_content(sha256))

    def retried_next_run(self, rows: Sequence[Row]) -> bool:
        """Whether a later run tries this page again: one of its rows failed for a
        transient cause, the run's own or one its engine names (``retried_next_run``)."""
        engine_codes = self.engine.retried_next_run
        return any(statuses.retry_next_run(row.status, row.error_code, engine_codes)
                   for row in rows)

    async def write(self, outcome: ImageOutcome, path: Path, stamp: FileStamp,
                    page_count: int) -> None:
        """Record one page's rows; raises when they cannot be written."""
        await self.in_writer(lambda: self._write(outcome, path, stamp, page_count))

    def _write(self, outcome: ImageOutcome, path: Path, stamp: FileStamp,
               page_count: int) -> None:
        """Journal first, output second: a kill between the two is repaired from the
        journal at the next start (docs/resume.md). A page that held several cards
        has a row per card, journaled together, with the answers kept for its cards let
        go in the same transaction once no later run can need them."""
        rows = outcome.rows
        try:
            if self.journal is not None and not self.dry_run:
                self.journal.record(path, stamp, rows, retryable=self.retried_next_run(rows),
                                    page_count=page_count,
                                    answers_done=answers_done(outcome.kept_answers, rows),
                                    engine=outcome.engine,
                                    engine_version=outcome.engine_version)
                for sha256 in {row.sha256 for row in rows if row.sha256}:
                    self._journaled.add(sha256)
            for row in rows:
                self.sink(row)
        except Exception as exc:
            # Halt the engine from here, before the event loop hears of it: a call it
            # admitted meanwhile would be paid for and then not written
            # (docs/survives.md: a full disk). The loop still fails the run as usual.
            self.engine.halt(OutputError(f"cannot write the output or state: {exc}"))
            raise


__all__ = ["RowSink", "RunRecorder"]
