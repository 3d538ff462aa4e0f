"""Refusals and cut-off connections, logged as counts: at most one line per interval.

A line per refused call would let anyone without credentials write to the server's log
as fast as they can send (and a traceback per malformed request, as aiohttp logs them,
faster still). Instead every refusal, every connection the front door cut off and every
warning of aiohttp's or asyncio's own is counted under a short label, and the counts are
logged together once per ``interval_s``::

    batch-ocr-server: not served in the last 10 s: 401 x 4980, headers too slow x 400

Labels carry statuses and fixed texts only: never a client's address, header or body.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter

#: Seconds between two summary lines; an operator sees an attack within this.
SUMMARY_INTERVAL_S = 10.0


class RefusalLog:
    """Counts by label, written to ``log`` as one line per ``interval_s`` while any come."""

    def __init__(self, log: logging.Logger, *, interval_s: float = SUMMARY_INTERVAL_S) -> None:
        self._log = log
        self._interval_s = interval_s
        self._counts: Counter[str] = Counter()
        self._flush_handle: asyncio.TimerHandle | None = None

    def count(self, label: str) -> None:
        """Count one event; the first of a quiet period schedules the next summary."""
        self._counts[label] += 1
        if self._flush_handle is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # outside the server's loop (start-up, shutdown): at once
            self.flush()
            return
        self._flush_handle = loop.call_later(self._interval_s, self.flush)

    def flush(self) -> None:
        """Log the counts so far, if any, and start counting afresh."""
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        if not self._counts:
            return
        counts = ", ".join(f"{label} x {n}" for label, n in self._counts.most_common())
        self._counts.clear()
        self._log.warning("not served in the last %g s: %s", self._interval_s, counts)


class CountingHandler(logging.Handler):
    """Turns another library's log records into counts: its first line, no traceback.

    Installed on aiohttp's and asyncio's loggers by the CLI: a malformed request makes
    aiohttp log "Error handling request" with a traceback, and running out of file
    descriptors makes asyncio log one per failed accept.
    """

    def __init__(self, refusals: RefusalLog, level: int = logging.WARNING) -> None:
        super().__init__(level)
        self._refusals = refusals

    def emit(self, record: logging.LogRecord) -> None:
        # The template, not the formatted message: the arguments hold clients' addresses.
        template = str(record.msg)
        if template.startswith("Error handling request"):  # aiohttp's, on a bad request
            self._refusals.count("malformed request")
            return
        first_line = template.splitlines()[0] if template else record.name
        self._refusals.count(first_line[:80].rstrip())
