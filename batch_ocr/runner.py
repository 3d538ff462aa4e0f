"""A whole run as a library call: journal, output file and batch, wired together.

``Runner`` is what the CLI drives; Python callers can use it the same way::

    runner = Runner(settings, [Path("scans")], "results.csv")
    summary = asyncio.run(runner.run())
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from batch_ocr.api_client import Sleep
from batch_ocr.output import STDOUT, OutputFile, output_format
from batch_ocr.pipeline import BatchRun, RunOptions, RunSummary
from batch_ocr.rows import Row
from batch_ocr.settings import Settings
from batch_ocr.state import Journal, default_state_path


def state_path_for(output: str, explicit: Path | None) -> Path | None:
    """The journal path: ``--state``, else beside the output; none for stdout."""
    if explicit is not None:
        return explicit
    if output == STDOUT:
        return None
    return default_state_path(Path(output))


class Runner:
    """One run from sources to an output file."""

    def __init__(
        self,
        settings: Settings,
        sources: Iterable[Path],
        output: str,
        *,
        options: RunOptions | None = None,
        sleep: Sleep = asyncio.sleep,
        on_row: Callable[[Row, RunSummary], None] | None = None,
    ) -> None:
        self.settings = settings
        self.sources = list(sources)
        self.output = output
        self.options = options or RunOptions()
        self.fmt = output_format(output, settings.format)
        self.state_path = state_path_for(output, settings.state)
        self._sleep = sleep
        self._on_row = on_row
        self.batch: BatchRun | None = None

    def request_stop(self) -> None:
        """Stop starting new work (first Ctrl-C / SIGTERM)."""
        if self.batch is not None:
            self.batch.request_stop()

    @contextlib.contextmanager
    def _journal(self) -> Iterator[Journal | None]:
        if self.state_path is None:
            yield None
            return
        with Journal(self.state_path) as journal:
            yield journal

    async def run(self) -> RunSummary:
        """Run to the end (or to a stop); raises ``RunLockedError`` if another run is on."""
        with self._journal() as journal:
            if self.options.dry_run:
                return await self._batch(journal, sink=lambda row: None).run()
            output = OutputFile(self.output, self.fmt, bom=self.settings.bom)
            output.start(journal.rows() if journal is not None else ())
            try:
                return await self._batch(journal, sink=output.write).run()
            finally:
                # Also on cancellation (a second Ctrl-C): the journal has every
                # finished row, so the output is made whole from it.
                output.finish(journal.rows() if journal is not None else None)

    def _batch(self, journal: Journal | None, sink: Callable[[Row], None]) -> BatchRun:
        self.batch = BatchRun(
            self.settings,
            self.sources,
            sink,
            options=self.options,
            journal=journal,
            sleep=self._sleep,
            on_row=self._on_row,
        )
        return self.batch
