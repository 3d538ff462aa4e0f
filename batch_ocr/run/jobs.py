"""One image's job: the candidate, its stamp, the page, its hash and the prepared image.

A file is one job, or one per page when it is a document (a PDF, a multi-page TIFF;
docs/documents.md). ``PageReader`` loads them one at a time: reading the file,
splitting off the page, hashing and the pre-flight of an image happen in one trip to a
worker thread, so the event loop only schedules: per-operation async file I/O
(aiofiles: open, read and close, each its own hop) measured 12% more client CPU in
tests/benchmarks for no gain in wall time.

The trips go to a run's own ``reader_pool``, one thread per core: decoding releases the
GIL, so more threads than cores add nothing but contention, and the event loop's
default pool stays free for what else uses it (host-name look-ups of the connections).
With asyncio's default six threads on two cores, the first 64 calls of a run went out
over 67 ms, now 45-60 (a bare aiohttp client: 15; tests/benchmarks, throughput): the
readers of the next images kept the event loop from sending those already read.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
from collections.abc import Generator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from batch_ocr.errors import FileError, ImageRejected
from batch_ocr.run.discovery import Candidate
from batch_ocr.run.journal.state import FileStamp
from batch_ocr.run.pages import PageOutcome, PageRejected, split_pages
from batch_ocr.run.present.rows import Row
from batch_ocr.statuses import ERROR, REJECTED
from batch_ocr.vision import imaging

#: Files larger than this are refused without being read (no ID card scan is 64 MB).
MAX_FILE_BYTES = 64 * 1024 * 1024
VANISHED = "the file disappeared before it could be read"
TOO_LARGE = f"larger than {MAX_FILE_BYTES // 2**20} MB: no ID card scan is"


def reader_pool() -> ThreadPoolExecutor:
    """The threads a run reads and checks its files on: one per core it may use."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        cores = os.cpu_count() or 1
    return ThreadPoolExecutor(max_workers=max(1, cores), thread_name_prefix="batch-ocr-reader")


@dataclass(frozen=True, slots=True)
class FileJob:
    """A candidate (or one page of it) read and checked: what the engine is given."""

    candidate: Candidate
    stamp: FileStamp
    #: The image's identity: the sha256 of the file, or of the page's image.
    sha256: str
    image: imaging.PreparedImage
    #: 1-based page of a multi-page file; None for a file that is one image.
    page: int | None = None

    @property
    def file(self) -> str:
        return self.candidate.rel


def _open_for_reading(path: os.PathLike[str] | str) -> int:
    """Open without blocking: a FIFO swapped in for an image must not hang the run.

    Windows has neither ``O_NONBLOCK`` nor FIFOs in the folder, but needs ``O_BINARY``.
    """
    return os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))


def read_file(candidate: Candidate) -> bytes:
    """Read one candidate; OS failures become specific rejections."""
    try:
        fd = _open_for_reading(candidate.path)
    except FileNotFoundError:
        raise ImageRejected("file_vanished", VANISHED) from None
    except OSError as exc:
        raise ImageRejected("unreadable", f"cannot read the file: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise ImageRejected("unreadable", "this is a folder, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise ImageRejected("unreadable", "not a regular file (a pipe, socket or device)")
        if info.st_size > MAX_FILE_BYTES:
            raise ImageRejected("file_too_large", TOO_LARGE)
        with os.fdopen(fd, "rb", closefd=False) as handle:
            # Sized from fstat: asking for the 64 MB bound allocated it for every file
            # (a fifth of a small scan's read; tests/benchmarks, throughput). One byte
            # more tells a file that grew since; the rest of it is then read too.
            raw = handle.read(info.st_size + 1)
            if len(raw) > info.st_size:
                raw += handle.read(MAX_FILE_BYTES + 1 - len(raw))
    except OSError as exc:
        raise ImageRejected("unreadable", f"cannot read the file: {exc.strerror}") from None
    finally:
        os.close(fd)
    if len(raw) > MAX_FILE_BYTES:  # it grew while we read it
        raise ImageRejected("file_too_large", TOO_LARGE)
    return raw


#: One loaded page: its job (or its ``rejected`` row) and how many rows its file has.
Loaded = tuple[FileJob | Row, int]


class PageReader:
    """The jobs of one file, one per page, in order; blocking, so call it in a thread.

    ``next()`` reads the file on its first call; ``done`` says when the last page has
    been handed out (so the caller needs no extra trip to learn it). ``close()`` stops
    a document early and ends its PDF renderer.
    """

    def __init__(self, candidate: Candidate, stamp: FileStamp | None,
                 limits: imaging.ImageLimits | None) -> None:
        self.candidate = candidate
        #: The file's stamp: the one given, or taken by the first ``next()`` (on the
        #: reading thread: a stat on the event loop waits for the GIL behind the readers).
        self._stamp = stamp
        self.limits = limits
        self.done = False
        self._pages: Generator[PageOutcome, None, None] | None = None

    def next(self) -> Loaded | None:
        """The next page's job or row with its file's row count; None after the last."""
        if self.done:
            return None
        if self._stamp is None:
            self._stamp = FileStamp.of(self.candidate.path)
        if self._pages is None:
            refused = self._refused_file()
            if refused is not None:
                self.done = True
                return refused, 1
        assert self._pages is not None
        outcome = next(self._pages, None)
        if outcome is None:
            self.done = True
            return None
        if outcome.number is None or outcome.number >= outcome.page_count:
            self.done = True
        if isinstance(outcome, PageRejected):
            return rejected_row(self.candidate, outcome.error, page=outcome.number), \
                outcome.page_count
        sha256 = hashlib.sha256(outcome.image).hexdigest()
        try:
            image = imaging.prepare(outcome.image, self.limits)
        except ImageRejected as exc:
            return rejected_row(self.candidate, exc, sha256, outcome.number), outcome.page_count
        return FileJob(self.candidate, self.stamp, sha256, image, outcome.number), \
            outcome.page_count

    @property
    def stamp(self) -> FileStamp:
        """The file's stamp; taken by the first ``next()`` when none was given."""
        if self._stamp is None:
            raise RuntimeError("the file is stamped by the first next()")
        return self._stamp

    def _refused_file(self) -> Row | None:
        """Read the file (its pages are split lazily); its row when it cannot be read."""
        if self.candidate.outside_link:
            return rejected_row(self.candidate, ImageRejected(
                "symlink_outside",
                "a symbolic link that does not resolve to a file inside the source folder"))
        try:
            self._pages = split_pages(read_file(self.candidate))
        except ImageRejected as exc:
            return rejected_row(self.candidate, exc)
        return None

    def close(self) -> None:
        """Release the pages; a PDF renderer still running is killed (milliseconds)."""
        if self._pages is not None:
            with contextlib.suppress(ValueError):  # running in a cancelled thread: GC ends it
                self._pages.close()


def rejected_row(candidate: Candidate, error: FileError, sha256: str = "",
                 page: int | None = None) -> Row:
    """The row of a file (or one of its pages) refused before any engine saw it."""
    return Row(file=candidate.rel, status=REJECTED, error_code=error.error_code,
               error_message=error.message, sha256=sha256, page=page)


def error_row(job: FileJob, error: FileError, engine: str) -> Row:
    """The row of a file the engine failed (after ``error.attempts`` attempts)."""
    return Row(file=job.file, status=ERROR, error_code=error.error_code,
               error_message=error.message, attempts=error.attempts, sha256=job.sha256,
               fitted=job.image.fitted, engine=engine, page=job.page)
