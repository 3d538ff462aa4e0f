"""What the user watches while a run goes: a progress bar on a terminal, nothing else.

On a terminal (and without ``--quiet``) a tqdm bar shows files done of the total, the
rate in files per second and the time left, then failures and calls for an engine that
bills them, or pages and cards read for one that does not (an offline recognition is
no call: docs/reference.md, "Summary"). The run's own walk is lazy (it stays a
bounded queue ahead of the workers), so the total comes from a second walk that only
counts names, in a background thread: the bar shows ``?`` until it is known. Off a
terminal nothing is drawn or logged (a cron log keeps only the summary,
docs/reference.md, "Summary"); ``--verbose`` still logs each file, above the bar when
there is one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from batch_ocr.run.discovery import WalkStats, walk_sources
from batch_ocr.run.present.rows import Row
from batch_ocr.run.summary import RunCounters
from batch_ocr.sanitize import printable

log = logging.getLogger("batch_ocr")

#: tqdm's layout: done/total, percentage, bar, elapsed < left, rate, then our postfix.
BAR_FORMAT = ("{desc}{percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} "
              "[{elapsed}<{remaining}, {rate_fmt}{postfix}]")
NO_TOTAL_FORMAT = "{desc}{n_fmt}/? [{elapsed}, {rate_fmt}{postfix}]"
TICK_S = 0.5


def count_images(sources: list[Path], own_paths: Iterable[Path] = (), *,
                 follow_links: bool = False) -> int:
    """How many files the run will walk (names only: nothing is read or hashed)."""
    return sum(1 for _ in walk_sources(sources, WalkStats(), own_paths=own_paths,
                                       follow_links=follow_links))


def _terminal_columns() -> int:
    try:
        return os.get_terminal_size(sys.stderr.fileno()).columns
    except (OSError, ValueError, AttributeError):
        return 0


class Progress:
    """Per-row feedback: ``--verbose`` lines, and a bar when ``tty`` and not ``quiet``."""

    def __init__(self, *, tty: bool, verbose: bool, quiet: bool,
                 calls: Callable[[], int] = lambda: 0,
                 counters: Callable[[], RunCounters | None] = lambda: None,
                 billed: bool = True) -> None:
        self.tty = tty
        #: Whether the engine's calls may cost money: the bar counts them then, and
        #: pages and cards otherwise.
        self.billed = billed
        self.verbose = verbose
        self.quiet = quiet
        self._calls = calls
        self._counters = counters
        self._bar: Any = None
        self._redirect: contextlib.ExitStack | None = None
        self._total: int | None = None

    @property
    def shows_bar(self) -> bool:
        return self.tty and not self.quiet

    def start(self, sources: list[Path], own_paths: Iterable[Path] = (), *,
              follow_links: bool = False) -> None:
        """Draw the bar (on a terminal) and start counting the total in the background."""
        if not self.shows_bar:
            return
        from tqdm import tqdm
        from tqdm.contrib.logging import logging_redirect_tqdm

        # A terminal that reports no size (a fresh pseudo-terminal) gets no bar from
        # tqdm at all (0 columns, 0 rows): draw it 100 by 24 there.
        sized = _terminal_columns() > 0
        self._bar = tqdm(total=None, unit=" files", bar_format=NO_TOTAL_FORMAT,
                         dynamic_ncols=sized, ncols=None if sized else 100,
                         nrows=None if sized else 24, leave=False, mininterval=0.2,
                         smoothing=0.1)
        self._redirect = contextlib.ExitStack()
        # Log lines (--verbose, warnings) go above the bar instead of through it.
        self._redirect.enter_context(logging_redirect_tqdm(loggers=[log]))
        own = list(own_paths)
        threading.Thread(target=self._count, args=(sources, own, follow_links), daemon=True,
                         name="batch-ocr-count").start()
        with contextlib.suppress(RuntimeError):  # no running loop: rows alone move it
            self._tick(asyncio.get_running_loop())

    def _tick(self, loop: asyncio.AbstractEventLoop) -> None:
        """Refresh twice a second: files already done make no row, yet they are done."""
        if self._bar is None:
            return
        counters = self._counters()
        if counters is not None:
            self.update(counters)
        loop.call_later(TICK_S, self._tick, loop)

    def _count(self, sources: list[Path], own_paths: list[Path], follow_links: bool) -> None:
        with contextlib.suppress(Exception):  # a count is a nicety, never worth a crash
            self._total = count_images(sources, own_paths, follow_links=follow_links)

    def on_row(self, row: Row, counters: RunCounters) -> None:
        if self.verbose:
            detail = f" [{row.error_code}] {row.error_message}" if row.error_code else ""
            log.info("%s", printable(f"{row.file}: {row.status}{detail}"))
        self.update(counters)

    def update(self, counters: RunCounters) -> None:
        """Move the bar to the files ``counters`` say are done (in any way: a row per
        page, skipped as done before, left for the next run)."""
        bar = self._bar
        if bar is None:
            return
        if self._total is not None and bar.total is None:
            bar.total = max(self._total, counters.images_found)
            bar.bar_format = BAR_FORMAT
        done = counters.files_done
        bar.set_postfix_str(self.postfix(counters), refresh=False)
        bar.update(done - bar.n)

    def postfix(self, counters: RunCounters) -> str:
        """What the bar says after the rate: calls when they may be billed, else the
        pages and cards read (offline work is no call)."""
        if self.billed:
            return f"{counters.failed} failed, {self._calls()} calls"
        return f"{counters.pages_read} pages, {counters.cards_read} cards, {counters.failed} failed"

    def clear(self) -> None:
        """Take the bar off the screen (before the summary is printed)."""
        bar, self._bar = self._bar, None
        if bar is not None:
            bar.close()
        if self._redirect is not None:
            self._redirect.close()
            self._redirect = None
