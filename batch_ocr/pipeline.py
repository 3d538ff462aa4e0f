"""The batch run: walk, check, send under limits, and emit one row per image.

``BatchRun`` is the core the CLI sits on (through ``runner.Runner``); it never touches
argv, stdout or exit codes.
At most ``concurrency`` workers exist, each holding at most one image, and the queue
between the walk and the workers is bounded, so memory does not grow with the folder.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import os
import stat
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from batch_ocr import imaging, portraits, statuses
from batch_ocr.api_client import ApiClient, Sleep
from batch_ocr.discovery import Candidate, WalkStats, walk_sources
from batch_ocr.engines import Engine, resolve_engine_name
from batch_ocr.engines.api import ApiEngine
from batch_ocr.errors import (
    ApiError,
    ConfigError,
    FatalApiError,
    FatalRunError,
    FileError,
    ImageRejected,
    OutputError,
    UnreachableError,
)
from batch_ocr.meters import RateLimit
from batch_ocr.rows import Row, row_from_card
from batch_ocr.settings import Settings
from batch_ocr.state import FileStamp, Journal, JournalEntry
from batch_ocr.transport import make_session

#: Files larger than this are refused without being read (no ID card scan is 64 MB).
MAX_FILE_BYTES = 64 * 1024 * 1024
VANISHED = "the file disappeared before it could be read"
#: Files that may fail to reach an API that never answered before the run stops.
UNREACHABLE_FILES_LIMIT = 3
UNREACHABLE_CODES = frozenset({"connection_error", "timeout"})


@dataclass(slots=True)
class RunSummary:
    """What a run did, for the summary line, ``--summary-json`` and the exit code."""

    images_found: int = 0
    rows_by_status: Counter[str] = field(default_factory=Counter)
    ignored_files: int = 0
    already_done: int = 0
    reused: int = 0
    not_attempted: int = 0
    would_call: int = 0
    calls: int = 0
    retries: int = 0
    elapsed_s: float = 0.0
    fatal_error: str | None = None
    fatal_code: str | None = None
    budget_exhausted: bool = False
    interrupted: bool = False
    dry_run: bool = False
    engine: str = ""
    unreadable_dirs: list[str] = field(default_factory=list)

    @property
    def rows_written(self) -> int:
        return sum(self.rows_by_status.values())

    @property
    def images_per_s(self) -> float:
        return self.rows_written / self.elapsed_s if self.elapsed_s > 0 else 0.0


@dataclass(frozen=True, slots=True)
class RunOptions:
    """Per-run choices that are not settings of the API client."""

    dry_run: bool = False
    force: bool = False
    retry_failed: bool = False
    max_calls: int | None = None
    #: Save each front's portrait here right after its call (``--portraits``).
    portraits_dir: Path | None = None


class _BudgetExhausted(Exception):
    """``--max-calls`` reached: leave the file pending for the next run."""


RowSink = Callable[[Row], None]


def _rejected(candidate: Candidate, error: FileError, sha256: str = "") -> Row:
    return Row(
        file=candidate.rel,
        status="rejected",
        error_code=error.error_code,
        error_message=error.message,
        sha256=sha256,
    )


def _errored(candidate: Candidate, error: FileError, sha256: str, fitted: bool) -> Row:
    return Row(
        file=candidate.rel,
        status="error",
        error_code=error.error_code,
        error_message=error.message,
        attempts=error.attempts,
        sha256=sha256,
        fitted=fitted,
    )


def _open_for_reading(path: Path) -> int:
    """Open without blocking: a FIFO swapped in for an image must not hang the run."""
    return os.open(path, os.O_RDONLY | os.O_NONBLOCK)


def _read_file(path: Path) -> bytes:
    """Read one candidate; OS failures become specific rejections."""
    try:
        fd = _open_for_reading(path)
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
            raise ImageRejected(
                "file_too_large", f"larger than {MAX_FILE_BYTES // 2**20} MB: no ID card scan is"
            )
        with os.fdopen(fd, "rb", closefd=False) as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ImageRejected("unreadable", f"cannot read the file: {exc.strerror}") from None
    finally:
        os.close(fd)
    if len(raw) > MAX_FILE_BYTES:  # it grew while we read it
        raise ImageRejected(
            "file_too_large", f"larger than {MAX_FILE_BYTES // 2**20} MB: no ID card scan is"
        )
    return raw


def _load(path: Path) -> tuple[str, imaging.PreparedImage | ImageRejected]:
    """Read, hash and pre-flight one file in one trip to a worker thread.

    Disk and CPU work share one ``to_thread`` hop: per-operation async file I/O
    (aiofiles: open, read and close, each its own hop) measured 12% more client CPU
    in tests/benchmarks for no gain in wall time. Raises ``ImageRejected`` when the
    file cannot be read; returns the pre-flight's rejection with the file's hash.
    """
    raw = _read_file(path)
    sha256 = hashlib.sha256(raw).hexdigest()
    try:
        return sha256, imaging.prepare(raw)
    except ImageRejected as exc:
        return sha256, exc


class BatchRun:
    """One run over some sources. Create, then ``await run()`` once."""

    def __init__(
        self,
        settings: Settings,
        sources: Iterable[Path],
        sink: RowSink,
        *,
        options: RunOptions | None = None,
        journal: Journal | None = None,
        engine: Engine | None = None,
        sleep: Sleep = asyncio.sleep,
        on_row: Callable[[Row, RunSummary], None] | None = None,
    ) -> None:
        self.settings = settings
        self.sources = list(sources)
        self.sink = sink
        self.options = options or RunOptions()
        self.journal = journal
        self.summary = RunSummary(dry_run=self.options.dry_run)
        self.stop_event = asyncio.Event()
        self._engine = engine
        self._client: ApiClient | None = None
        self.engine_name = engine.name if engine is not None else resolve_engine_name(settings)
        self.summary.engine = self.engine_name
        self._sleep = sleep
        self._on_row = on_row
        self._walk_stats = WalkStats()
        self._results_by_sha: dict[str, asyncio.Future[Row]] = {}
        self._rate = RateLimit(settings.qps) if settings.qps else None
        self._dry_run_shas: set[str] = set()
        self._session: aiohttp.ClientSession | None = None
        self._api_reached = False
        self._unreachable_files = 0

    def request_stop(self) -> None:
        """Stop starting new work; what is in flight finishes and is written."""
        self.summary.interrupted = True
        self.stop_event.set()

    # -- the run ---------------------------------------------------------------

    async def run(self) -> RunSummary:
        """Process every candidate; return the summary (never raises for a file)."""
        started = time.monotonic()
        try:
            async with self._engine_ready():
                await self._run_pool()
        finally:
            self.summary.elapsed_s = time.monotonic() - started
            self.summary.ignored_files = self._walk_stats.ignored_files
            self.summary.unreadable_dirs = list(self._walk_stats.unreadable_dirs)
            if self._client is not None:
                self.summary.calls = self._client.calls
                self.summary.retries = self._client.retries
        return self.summary

    @asynccontextmanager
    async def _engine_ready(self) -> AsyncIterator[None]:
        """Set up the engine (and the HTTP session portraits need), torn down after."""
        if self._engine is not None or self.options.dry_run:
            yield
            return
        async with make_session(self.settings) as session:
            self._session = session
            if self.engine_name == "api":
                self._client = ApiClient(
                    self.settings, session, sleep=self._sleep, before_call=self._before_call
                )
                self._engine = ApiEngine(self._client)
            else:
                self._engine = _offline_engine(self.settings.workers)
            try:
                yield
            finally:
                await self._engine.aclose()

    async def _run_pool(self) -> None:
        queue: asyncio.Queue[Candidate | None] = asyncio.Queue(
            maxsize=self.settings.concurrency * 2
        )
        workers = [
            asyncio.create_task(self._worker(queue)) for _ in range(self.settings.concurrency)
        ]
        producer = asyncio.create_task(self._produce(queue))
        try:
            # Should every worker die (a bug), the walk would wait forever on a full
            # queue: watch both, and stop the walk when no worker is left.
            while not producer.done():
                alive = [w for w in workers if not w.done()]
                if not alive:
                    producer.cancel()
                    break
                await asyncio.wait([producer, *alive], return_when=asyncio.FIRST_COMPLETED)
            for worker in workers:
                if not worker.done():
                    await queue.put(None)
            await asyncio.gather(*workers)
        except BaseException:
            # Cancelled (a second Ctrl-C) or a worker crashed: stop everything at once;
            # every finished row is already in the journal.
            for task in (producer, *workers):
                task.cancel()
            await asyncio.gather(producer, *workers, return_exceptions=True)
            raise
        if producer.cancelled():
            raise RuntimeError("every worker stopped before the walk ended")
        producer.result()

    async def _produce(self, queue: asyncio.Queue[Candidate | None]) -> None:
        for candidate in walk_sources(self.sources, self._walk_stats):
            self.summary.images_found += 1
            if self.stop_event.is_set():
                self.summary.not_attempted += 1
                continue
            await queue.put(candidate)

    async def _worker(self, queue: asyncio.Queue[Candidate | None]) -> None:
        while (candidate := await queue.get()) is not None:
            if self.stop_event.is_set():
                self.summary.not_attempted += 1
                continue
            stamp = FileStamp.of(candidate.path)
            try:
                row = await self._process(candidate, stamp)
            except FatalApiError as exc:
                self._fail_run(exc)
                self.summary.not_attempted += 1
                continue
            except _BudgetExhausted:
                self.summary.not_attempted += 1
                continue
            except Exception as exc:  # noqa: BLE001 - a bug must cost one row, not the run
                row = Row(file=candidate.rel, status="error", error_code="internal_error",
                          error_message=f"unexpected {type(exc).__name__}: {exc}")
            if row is None:
                continue
            try:
                self._emit(row, candidate, stamp)
            except Exception as exc:  # noqa: BLE001 - a worker must never die silently
                self._fail_run(OutputError(f"cannot write the output or state: {exc}"))

    def _fail_run(self, error: FatalRunError) -> None:
        if self.summary.fatal_error is None:
            self.summary.fatal_error = str(error)
            self.summary.fatal_code = error.error_code
        self.stop_event.set()

    async def _before_call(self) -> None:
        max_calls = self.options.max_calls
        if max_calls is not None and self._client is not None and self._client.calls >= max_calls:
            self.summary.budget_exhausted = True
            self.stop_event.set()
            raise _BudgetExhausted
        if self.stop_event.is_set() and self.summary.fatal_error is not None:
            # Retries of other files must not keep calling after a fatal answer.
            raise FatalApiError(self.summary.fatal_error)
        if self._rate is not None:
            await self._rate.acquire()

    def _emit(self, row: Row, candidate: Candidate, stamp: FileStamp | None) -> None:
        if self.journal is not None and stamp is not None and not self.options.dry_run:
            # Journal first, output second: a kill between the two is repaired from here.
            retryable = statuses.retry_next_run(row.status, row.error_code)
            self.journal.record(candidate.path, stamp, row, retryable=retryable)
            if not retryable:
                # The journal now answers for this content (``_reusable_row``): holding
                # every result in memory too made RSS grow with the folder (issue 5).
                self._results_by_sha.pop(row.sha256, None)
        self.sink(row)
        self.summary.rows_by_status[row.status] += 1
        if self._client is not None:
            self.summary.calls, self.summary.retries = self._client.calls, self._client.retries
        if self._on_row is not None:
            self._on_row(row, self.summary)

    # -- one file ----------------------------------------------------------------

    async def _process(self, candidate: Candidate, stamp: FileStamp | None) -> Row | None:
        """The row of one candidate, or None when nothing is to be written for it."""
        if candidate.outside_link:
            return _rejected(candidate, ImageRejected(
                "symlink_outside",
                "a symbolic link that does not resolve to a file inside the source folder"))
        journal_entry = self._journal_entry(candidate, stamp)
        if journal_entry is not None and not self._must_redo(journal_entry):
            self.summary.already_done += 1
            return None
        try:
            sha256, prepared = await asyncio.to_thread(_load, candidate.path)
        except ImageRejected as exc:
            return _rejected(candidate, exc)
        if isinstance(prepared, ImageRejected):
            return _rejected(candidate, prepared, sha256)
        reused = self._reusable_row(sha256)
        if reused is not None:
            self.summary.reused += 1
            return await self._copy_for(reused, candidate)
        if self.options.dry_run:
            if sha256 not in self._dry_run_shas:
                self._dry_run_shas.add(sha256)
                self.summary.would_call += 1
            return None
        return await self._recognise_once_per_content(candidate, sha256, prepared)

    def _journal_entry(self, candidate: Candidate, stamp: FileStamp | None) -> JournalEntry | None:
        if self.journal is None or self.options.force or stamp is None:
            return None
        return self.journal.entry_if_unchanged(candidate.path, stamp)

    def _must_redo(self, entry: JournalEntry) -> bool:
        return entry.retryable or (
            self.options.retry_failed and entry.status in ("rejected", "error", "scan_failed")
        )

    def _reusable_row(self, sha256: str) -> Row | None:
        """A final result for the same content from an earlier run (never pay twice)."""
        if self.journal is None or self.options.force:
            return None
        row = self.journal.final_row_for_content(sha256)
        if row is None:
            return None
        if self.options.retry_failed and row.status in ("error", "scan_failed"):
            return None
        return row

    async def _recognise_once_per_content(
        self, candidate: Candidate, sha256: str, prepared: imaging.PreparedImage
    ) -> Row:
        """Send each distinct content once per run; copies wait for the first's answer."""
        pending = self._results_by_sha.get(sha256)
        if pending is not None:
            row = await asyncio.shield(pending)
            self.summary.reused += 1
            return await self._copy_for(row, candidate)
        future: asyncio.Future[Row] = asyncio.get_running_loop().create_future()
        self._results_by_sha[sha256] = future
        try:
            row = await self._recognise(candidate, sha256, prepared)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: copies may not exist
            del self._results_by_sha[sha256]
            raise
        future.set_result(row)
        return row

    async def _recognise(
        self, candidate: Candidate, sha256: str, prepared: imaging.PreparedImage
    ) -> Row:
        assert self._engine is not None
        try:
            result = await self._engine.recognise(prepared)
        except FileError as exc:
            if isinstance(exc, ApiError):
                self._note_unreachable(exc)
            row = _errored(candidate, exc, sha256, prepared.fitted)
            row.engine = self._engine.name
            return row
        self._api_reached = True
        row = row_from_card(candidate.rel, result.data, attempts=result.attempts,
                            sha256=sha256)
        row.fitted = prepared.fitted
        row.engine = self._engine.name
        await self._save_portrait(row, result.portrait_bytes)
        return row

    def _note_unreachable(self, error: ApiError) -> None:
        """Stop the run when the API has never answered and files keep failing to reach it.

        Otherwise a run with the network down would spend every file's retries (minutes
        each) before saying anything useful.
        """
        if self._api_reached or error.error_code not in UNREACHABLE_CODES:
            return
        self._unreachable_files += 1
        if self._unreachable_files >= UNREACHABLE_FILES_LIMIT:
            self._fail_run(UnreachableError(
                f"cannot reach the API ({error.message}) for {self._unreachable_files} files "
                "in a row and it has not answered once; check --endpoint and the network"
            ))

    async def _save_portrait(self, row: Row, image_bytes: bytes | None) -> None:
        """Save the portrait now: the API's link dies within the hour (``--portraits``).

        ``image_bytes`` is the portrait when the engine cropped it itself (local).
        """
        portraits_dir = self.options.portraits_dir
        if portraits_dir is None or row.side != "front" or self._session is None:
            return
        if image_bytes is None and not row.portrait_url:
            row.portrait_error = "no portrait was found on this card"
            return
        try:
            if image_bytes is None:
                image_bytes = await portraits.download(
                    self._session, row.portrait_url, max_attempts=self.settings.max_attempts,
                    sleep=self._sleep,
                )
            row.portrait_file = await asyncio.to_thread(
                portraits.save, portraits_dir, row.file, image_bytes)
        except portraits.PortraitError as exc:
            row.portrait_error = str(exc)
        except OSError as exc:
            row.portrait_error = f"cannot write the portrait: {exc.strerror}"

    async def _copy_for(self, row: Row, candidate: Candidate) -> Row:
        """The row of a file whose content was already recognised (no call made)."""
        copy = dataclasses.replace(row, file=candidate.rel, attempts=0, portrait_file="",
                                   portrait_error="", invalid_fields=list(row.invalid_fields),
                                   validity=dict(row.validity))
        portraits_dir = self.options.portraits_dir
        if portraits_dir is not None and row.portrait_file:
            try:
                image_bytes = await asyncio.to_thread(Path(row.portrait_file).read_bytes)
                copy.portrait_file = await asyncio.to_thread(
                    portraits.save, portraits_dir, copy.file, image_bytes)
            except (OSError, portraits.PortraitError) as exc:
                copy.portrait_error = f"cannot copy the portrait: {exc}"
        elif portraits_dir is not None and copy.side == "front":
            copy.portrait_error = row.portrait_error or "no portrait for this content"
        return copy


def _offline_engine(workers: int | None) -> Engine:
    """The local engine; a clear configuration error when its extra is missing."""
    try:
        from batch_ocr.engines.local import available
        from batch_ocr.engines.offline import OfflineEngine
    except ImportError:
        available = None  # type: ignore[assignment]
    if available is None or not available():
        raise ConfigError(
            "the local engine is not installed: pip install 'batch-ocr[local]' "
            "(or configure API credentials to use the API)"
        )
    return OfflineEngine(workers)


__all__ = ["BatchRun", "RunOptions", "RunSummary"]
