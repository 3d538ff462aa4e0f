"""A whole run as a library call: journal, output file, engine and batch, wired together.

``Runner`` is what the CLI drives; Python callers use it the same way::

    settings = load_settings({})
    engine = create_engine(settings)
    runner = Runner(settings, [Path("scans")], "results.csv", engine=engine)
    summary = asyncio.run(runner.run())
    write_summary_json(Path("summary.json"), summary_json(summary, exit_status(summary)))

The runner starts the engine it is handed (unless the run is dry) and closes it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import json
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from batch_ocr.engines.base import Engine
from batch_ocr.errors import ConfigError, OutputError
from batch_ocr.private_files import replace_private
from batch_ocr.run.journal.forget import FORGOTTEN
from batch_ocr.run.journal.locks import (
    default_state_path,
    lock_path_of,
    output_lock_path,
    output_locked,
    same_path,
)
from batch_ocr.run.journal.state import Journal
from batch_ocr.run.output.file import (
    STDOUT,
    OutputFile,
    PairedOutputFile,
    WorkbookOutputFile,
    output_format,
)
from batch_ocr.run.pipeline import BatchRun, OnRow, RunOptions
from batch_ocr.run.preflight import PlannedPath
from batch_ocr.run.present.checks import check_row
from batch_ocr.run.present.masking import mask_row
from batch_ocr.run.present.pairing import PairBy
from batch_ocr.run.present.review import with_review
from batch_ocr.run.present.rows import Row
from batch_ocr.run.summary import RunSummary
from batch_ocr.settings import Settings


@dataclass(frozen=True, slots=True)
class OutputView:
    """How rows are shown: checks date, masking, one row per card, the document risks
    that flag a row for review (``review.DOCUMENT_RISKS``)."""

    as_of: datetime.date = field(default_factory=datetime.date.today)
    mask: bool = False
    pair: bool = False
    pair_by: PairBy = "auto"
    review_on: tuple[str, ...] = ()


def state_path_for(output: str, explicit: Path | None) -> Path | None:
    """The journal path: ``--state``, else beside the output; none for stdout."""
    if explicit is not None:
        return explicit
    if output == STDOUT:
        return None
    return default_state_path(Path(output))


def write_summary_json(path: Path, facts: dict[str, Any]) -> None:
    """Write ``--summary-json`` (mode 0600: it names the run's outcome, not its people)."""
    replace_private(path, json.dumps(facts, indent=2) + "\n")


class Runner:
    """One run from sources to an output file, with the engine it is handed."""

    def __init__(
        self,
        settings: Settings,
        sources: Iterable[Path],
        output: str,
        *,
        engine: Engine,
        options: RunOptions | None = None,
        view: OutputView | None = None,
        on_row: OnRow | None = None,
        on_start: Callable[[], None] | None = None,
    ) -> None:
        self.settings = settings
        self.sources = list(sources)
        self.output = output
        self.engine = engine
        self.options = options or RunOptions(concurrency=settings.concurrency,
                                             follow_links=settings.follow_links)
        self.view = view or OutputView()
        self.fmt = output_format(output, settings.format)
        self.state_path = state_path_for(output, settings.state)
        self.options = dataclasses.replace(
            self.options, own_paths=(*self.options.own_paths, *self.written_paths()))
        if self.view.pair and self.state_path is None:
            raise ConfigError("--pair writes its table from the state journal: give --state "
                              "PATH when writing to stdout")
        self._on_row = on_row
        self._on_start = on_start
        self.batch: BatchRun | None = None

    def written_paths(self) -> list[Path]:
        """The output, its lock and the journal's files: what this runner writes."""
        paths = [] if self.output == STDOUT else [Path(self.output),
                                                  output_lock_path(Path(self.output))]
        if self.state_path is not None:
            paths += [self.state_path.with_name(self.state_path.name + suffix)
                      for suffix in ("", "-wal", "-shm", "-journal", ".lock")]
        return paths

    def _locks_output(self) -> bool:
        """Whether this run writes its output (and so holds the output's lock)."""
        return self.output != STDOUT and not self.options.dry_run

    def _output_lock_is_the_journals(self) -> bool:
        """Whether the output's lock, held by the run, is its journal's (the default
        ``--state``): the journal then takes no lock of its own."""
        return (self._locks_output() and self.state_path is not None
                and same_path(lock_path_of(self.state_path), output_lock_path(Path(self.output))))

    def planned_paths(self) -> list[PlannedPath]:
        """What this run will write, for ``preflight.check_all`` before anything is read."""
        planned = []
        if self._locks_output():
            planned.append(PlannedPath(Path(self.output), "the output"))
            if not self._output_lock_is_the_journals():
                planned.append(PlannedPath(output_lock_path(Path(self.output)),
                                           "the output's lock"))
        if self.state_path is not None:
            planned += [PlannedPath(self.state_path, "the state journal"),
                        PlannedPath(self.state_path.with_name(self.state_path.name + ".lock"),
                                    "the state journal's lock")]
        if self.options.portraits_dir is not None and not self.options.dry_run:
            planned.append(PlannedPath(self.options.portraits_dir, "the portraits folder",
                                       folder=True))
        return planned

    def request_stop(self) -> None:
        """Stop starting new work (first Ctrl-C / SIGTERM)."""
        if self.batch is not None:
            self.batch.request_stop()

    def summary_so_far(self) -> RunSummary | None:
        """The summary of a run that was cancelled (a second Ctrl-C), if it started."""
        return self.batch.summary(interrupted=True) if self.batch is not None else None

    @contextlib.contextmanager
    def _output_locked(self) -> Iterator[None]:
        """The output's lock while the run writes it (docs/resume.md)."""
        with contextlib.ExitStack() as held:
            if self._locks_output():
                try:
                    held.enter_context(output_locked(
                        Path(self.output),
                        also_journal=self.state_path if self._output_lock_is_the_journals()
                        else None))
                except OSError as exc:
                    raise OutputError(f"cannot lock the output {self.output}: "
                                      f"{exc.strerror or exc}") from None
            yield

    @contextlib.contextmanager
    def _journal(self) -> Iterator[Journal | None]:
        if self.state_path is None:
            yield None
            return
        journal = Journal(self.state_path, lock_taken=self._output_lock_is_the_journals(),
                          key=self.settings.journal_key_value())
        try:
            journal.open()
        except OSError as exc:
            raise OutputError(f"cannot use the state journal {self.state_path}: "
                              f"{exc.strerror or exc}") from None
        try:
            yield journal
        finally:
            journal.close()

    @contextlib.asynccontextmanager
    async def _engine_started(self) -> AsyncIterator[None]:
        if self.options.dry_run and not self.engine.reads_in_dry_run:
            yield  # a dry run never calls the engine (unless it must read to count)
            return
        try:
            await self.engine.start()
            yield
        finally:
            await self.engine.aclose()

    async def run(self) -> RunSummary:
        """Run to the end (or to a stop); raises ``RunLockedError`` if another run is on
        the same journal or writes the same output."""
        with self._output_locked(), self._journal() as journal:
            if self._on_start is not None:
                self._on_start()  # the lock is ours: the run really starts
            async with self._engine_started():
                if self.options.dry_run:
                    summary = await self._batch(journal, sink=lambda row: None).run()
                else:
                    summary = await self._run_into_output(journal)
            return self._with_output_counts(summary, journal)

    @staticmethod
    def _with_output_counts(summary: RunSummary, journal: Journal | None) -> RunSummary:
        """Add what the output holds after the run: the journal's rows (every run's), or
        this run's rows when there is no journal (stdout)."""
        held = journal.count_by_status() if journal is not None else summary.rows_by_status
        return dataclasses.replace(summary, output_rows_by_status=Counter(held))

    async def _run_into_output(self, journal: Journal | None) -> RunSummary:
        output = self._output_file()
        try:
            output.start(self._presented(journal))
        except OSError as exc:
            raise OutputError(f"cannot write the output or state: {exc}") from None
        batch = self._batch(journal, sink=lambda row: output.write(self.present(row)))
        try:
            await batch.run()
        finally:
            # Also on cancellation (a second Ctrl-C): the journal has every finished
            # row, so the output is made whole from it. Nothing to redo when the run
            # wrote no row (a no-op rerun): the start already rebuilt it.
            rebuild = journal is not None and (
                batch.counters.rows_written > 0 or self.view.pair)
            try:
                # A first run's journal holds just the rows appended, unless one replaced
                # another: then the output needs only its lines put in order.
                appended_are_all = (journal is not None
                                    and journal.page_count() == journal.recorded)
                output.finish(self._presented(journal) if rebuild else None,
                              appended_are_all=appended_are_all)
            except OSError as exc:
                batch.fail(OutputError(f"cannot write the output or state: {exc}"))
        return batch.summary()

    def _output_file(self) -> OutputFile:
        if self.fmt == "xlsx":
            return WorkbookOutputFile(self.output,
                                      pair_by=self.view.pair_by if self.view.pair else None)
        if self.view.pair:
            return PairedOutputFile(self.output, self.fmt, bom=self.settings.bom,
                                    pair_by=self.view.pair_by)
        return OutputFile(self.output, self.fmt, bom=self.settings.bom)

    def _presented(self, journal: Journal | None) -> Iterator[Row]:
        if journal is not None:
            for row in journal.rows():
                yield self.present(row)

    def image_records(self) -> list[dict[str, Any]]:
        """Every image's row as outputs show it, from the journal (after the run)."""
        if self.state_path is None:
            return []
        with Journal(self.state_path, key=self.settings.journal_key_value()) as journal:
            return [row.to_dict() for row in self._presented(journal)]

    def present(self, row: Row) -> Row:
        """A row as outputs show it: checks as of the run date, the review signal that
        follows from them, masked if asked.

        The journal keeps rows as recognised; checks, review and masking are applied on
        the way out, so ``expired`` follows the date of each run, and ``--mask`` and
        ``--review-on`` can be switched on for a later run without calling anything
        again.
        """
        if row.error_code == FORGOTTEN:
            return row  # its fields were dropped on purpose: nothing left to check
        shown = with_review(row, checks=check_row(row, as_of=self.view.as_of),
                            review_on=self.view.review_on)
        return mask_row(shown) if self.view.mask else shown

    def _batch(self, journal: Journal | None, sink: Callable[[Row], None]) -> BatchRun:
        self.batch = BatchRun(self.engine, self.sources, sink, options=self.options,
                              journal=journal, on_row=self._on_row)
        return self.batch
