"""The batch run: walk, decide, load, recognise once per content, journal, emit.

``BatchRun`` is the core the CLI sits on (through ``runner.Runner``); it never touches
argv, stdout or exit codes, and never knows which engine it was handed (STYLE.md,
habit 13). Each stage has its own module: the walk (``discovery``), the bounded pool
(``pool``), one file's job (``jobs``), resume decisions (``resume``), once-per-content
(``dedup``), portraits (``portraits``), the journal (``state``) and the counts
(``summary``).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from batch_ocr import statuses
from batch_ocr.engines.base import Engine
from batch_ocr.errors import CallBudgetExhausted, FatalRunError, OutputError, RunStopping
from batch_ocr.run import jobs
from batch_ocr.run.discovery import Candidate, WalkStats, walk_sources
from batch_ocr.run.journal.paid_answers import JournalAnswers
from batch_ocr.run.journal.resume import FileDecision, RedoOlder, ResumePolicy, decide_pages
from batch_ocr.run.journal.state import FileStamp, Journal
from batch_ocr.run.pool import run_pool
from batch_ocr.run.present.rows import Row
from batch_ocr.run.recognition import ImageOutcome, ImageRows
from batch_ocr.run.recorder import RowSink, RunRecorder
from batch_ocr.run.summary import RunCounters, RunSummary


@dataclass(frozen=True, slots=True)
class RunOptions:
    """Per-run choices that are not settings."""

    dry_run: bool = False
    force: bool = False
    retry_failed: bool = False
    #: Billed calls at most (``--max-calls``); the engine's call gate enforces it.
    max_calls: int | None = None
    #: Save each front's portrait here right after its recognition (``--portraits``).
    portraits_dir: Path | None = None
    #: Images in flight at most.
    concurrency: int = 8
    #: Files this run writes (output, journal, summary, report): never read as input.
    own_paths: tuple[Path, ...] = ()
    #: ``--redo-engine-older-than``: read again the pages the run's engine recorded at
    #: an older version than this one (docs/resume.md).
    redo_engine_older_than: str | None = None
    #: Walk symbolic links to folders (``--follow-links``; ``discovery``).
    follow_links: bool = False


#: Files of the walk looked up in the journal together on a rerun (``recorder``): the
#: pool holds at most ``2 * concurrency`` waiting files, so this bounds the look-ups
#: made ahead of their files.
LOOKUP_STRETCH = 128

OnRow = Callable[[Row, RunCounters], None]


class BatchRun:
    """One run over some sources with the engine it is handed. ``await run()`` once.

    The engine must be started by the caller (``Runner`` does), except in a dry run,
    which never calls it.
    """

    def __init__(
        self,
        engine: Engine,
        sources: Iterable[Path],
        sink: RowSink,
        *,
        options: RunOptions | None = None,
        journal: Journal | None = None,
        on_row: OnRow | None = None,
    ) -> None:
        self.engine = engine
        self.sources = list(sources)
        self.sink = sink
        self.options = options or RunOptions()
        self.journal = journal
        self.counters = RunCounters()
        self.stop_event = asyncio.Event()
        redo = self.options.redo_engine_older_than
        self._policy = ResumePolicy(force=self.options.force,
                                    retry_failed=self.options.retry_failed,
                                    redo_older=RedoOlder(engine.name, redo) if redo else None)
        self._on_row = on_row
        self._walk_stats = WalkStats()
        self._readers = jobs.reader_pool()
        self.recorder = RunRecorder(journal, sink, engine, force=self.options.force,
                                    dry_run=self.options.dry_run)
        self.images = ImageRows(engine, policy=self._policy, counters=self.counters,
                                final_rows=self.recorder.final_rows,
                                dry_run=self.options.dry_run,
                                portraits_dir=self.options.portraits_dir)
        self._started = time.monotonic()
        self._interrupted = False
        self._budget_exhausted = False
        self._fatal: FatalRunError | None = None
        if journal is not None:
            # Answers paid for part of a page are journaled as they arrive
            # (docs/documents.md): an engine that pays per card recalls them on the next try.
            engine.keep_answers_in(JournalAnswers(journal, engine.name, policy=self._policy,
                                                  in_writer=self.recorder.in_writer,
                                                  dry_run=self.options.dry_run))

    def request_stop(self) -> None:
        """Stop starting new work; what is in flight finishes and is written."""
        self._interrupted = True
        self.stop_event.set()
        self.engine.halt(RunStopping("the run is stopping"))

    def fail(self, error: FatalRunError) -> None:
        """Stop the run for ``error`` (the first one wins); in-flight work finishes."""
        if self._fatal is None:
            self._fatal = error
        self.stop_event.set()
        self.engine.halt(error)

    async def run(self) -> RunSummary:
        """Process every candidate; return the summary (never raises for a file)."""
        self._started = time.monotonic()
        self.recorder.start()
        try:
            await _pool_run(self)
        finally:
            # Waits for at most the one write in progress: the output is rebuilt next.
            self.recorder.shutdown()
            self._readers.shutdown(wait=False, cancel_futures=True)
        return self.summary()

    def summary(self, *, interrupted: bool = False) -> RunSummary:
        """The summary as of now (``interrupted`` when the run was cancelled)."""
        counters, stats = self.counters, self._walk_stats
        engine_counters = self.engine.counters()
        return RunSummary(
            images_found=counters.images_found,
            rows_by_status=+counters.rows_by_status,
            ignored_files=stats.ignored_files,
            ignored=tuple(stats.ignored),
            already_done=counters.already_done,
            reused=counters.reused,
            not_attempted=counters.not_attempted,
            would_call=counters.would_call,
            pages_read=counters.pages_read,
            older_engine_rereads=counters.older_engine_rereads,
            older_engine_reread_calls=counters.older_engine_reread_calls,
            calls=engine_counters.calls,
            retries=engine_counters.retries,
            answers_reused=engine_counters.answers_reused,
            cards_read_offline=engine_counters.cards_read_offline,
            cards_escalated=engine_counters.cards_escalated,
            elapsed_s=time.monotonic() - self._started,
            fatal_error=str(self._fatal) if self._fatal is not None else None,
            fatal_code=self._fatal.error_code if self._fatal is not None else None,
            budget_exhausted=self._budget_exhausted,
            interrupted=self._interrupted or interrupted,
            dry_run=self.options.dry_run,
            engine=self.engine.name,
            engine_version=self.engine.version,
            redo_engine_older_than=self.options.redo_engine_older_than,
            billed=self.engine.billed,
            price_per_call=self.engine.price_per_call_cny,
            unreadable_dirs=tuple(stats.unreadable_dirs),
            linked_folders_passed=stats.linked_folders_passed,
        )

    # -- the walk and the pool ---------------------------------------------------------

    def candidates(self) -> Iterator[Candidate]:
        own_paths = [*self.options.own_paths, *filter(None, [self.options.portraits_dir])]
        walk = walk_sources(self.sources, self._walk_stats, own_paths=own_paths,
                            follow_links=self.options.follow_links)
        while stretch := list(itertools.islice(walk, LOOKUP_STRETCH)):
            self.recorder.expect([candidate.path for candidate in stretch])
            for candidate in stretch:
                self.counters.images_found += 1
                yield candidate

    def not_attempted(self, candidate: Candidate) -> None:
        self.counters.not_attempted += 1
        self.counters.files_done += 1

    async def handle(self, candidate: Candidate) -> None:
        """One candidate to its rows; counted as done however it ended (progress)."""
        try:
            await self._handle(candidate)
        finally:
            self.counters.files_done += 1

    async def _handle(self, candidate: Candidate) -> None:
        """One candidate to its rows, one per page (docs/documents.md).

        Only a failure to write stops here, as fatal. The pages of one file are done one
        after another, each loaded in one trip to a worker thread.
        """
        stamp: FileStamp | None = None  # a first run's reader stamps the file on its thread
        if self.recorder.looks_up_files:
            stamp, entries = await self.recorder.stamped_entries(candidate.path)
            if entries is not None and decide_pages(entries, self._policy) is FileDecision.SKIP:
                self.counters.already_done += 1
                return
        pages = jobs.PageReader(candidate, stamp, self.engine.image_limits)
        loop = asyncio.get_running_loop()
        try:
            while (loaded := await loop.run_in_executor(self._readers, pages.next)) is not None:
                self.counters.pages_read += 1
                if not await self._handle_page(candidate, pages.stamp, *loaded) or pages.done:
                    return
                if self.stop_event.is_set():
                    self.counters.not_attempted += 1  # its other pages: the next run does them
                    return
        finally:
            pages.close()

    async def _handle_page(self, candidate: Candidate, stamp: FileStamp,
                           loaded: jobs.FileJob | Row, page_count: int) -> bool:
        """One page to its rows (one per card found on it); False when the run must not
        go on with this file."""
        try:
            outcome = (ImageOutcome([loaded]) if isinstance(loaded, Row)
                       else await self.images.rows_for(loaded))
        except FatalRunError as exc:
            self.fail(exc)
            self.counters.not_attempted += 1
            return False
        except CallBudgetExhausted:
            self._budget_exhausted = True
            self.stop_event.set()
            self.counters.not_attempted += 1
            return False
        except RunStopping:
            self.counters.not_attempted += 1
            return False
        except Exception as exc:  # noqa: BLE001 - a bug must cost one row, not the run
            outcome = ImageOutcome([Row(file=candidate.rel, status=statuses.ERROR,
                                        error_code="internal_error",
                                        error_message=f"unexpected {type(exc).__name__}: {exc}",
                                        page=loaded.page)])
        rows = outcome.rows
        if not rows:
            return True
        try:
            await self.recorder.write(outcome, candidate.path, stamp, page_count)
        except Exception as exc:  # noqa: BLE001 - a worker must never die silently
            self.fail(OutputError(f"cannot write the output or state: {exc}"))
            return False
        if self.journal is not None and not self.recorder.retried_next_run(rows):
            self.images.dedup.forget(rows[0].sha256)  # the journal answers for it now
        for row in rows:
            self.counters.rows_by_status[row.status] += 1
            if self._on_row is not None:
                self._on_row(row, self.counters)
        return True


async def _pool_run(batch: BatchRun) -> None:
    concurrency = max(batch.options.concurrency, batch.engine.images_in_flight())
    await run_pool(batch.candidates(), batch.handle, concurrency=concurrency,
                   stop=batch.stop_event, skipped=batch.not_attempted)


__all__ = ["BatchRun", "RunOptions", "RunSummary"]
