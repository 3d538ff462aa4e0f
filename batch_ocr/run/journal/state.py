"""The state journal: what each file became, committed as soon as it is known.

SQLite in WAL mode, one row per page of a file, keyed by the path's bytes and the page
number (0 for a file that is one image; 1, 2, ... for the pages of a PDF or a multi-page
TIFF). Each row holds the size and mtime of the file version it came from and how many
rows that version has, so a file counts as done when all its rows are there with its
current size and mtime (a no-op rerun stats files but never reads them). A page's
identity is its own content: a file that changed (a PDF that grew by a page) is split
again, and content already paid for is found by sha256, whatever its file or page, so
only new pages are sent. An entry holds the page's rows: one, or one per card when the
image held several cards that are not one front and one back (docs/documents.md).
Every row of the output can be rebuilt from here, which is how a run killed mid-write
is repaired: the output is rewritten from the journal at the start and end of a run.

An engine that pays several calls for one page (the API, a call per card) keeps each
answer here as it arrives (``paid_answers``, by engine and the engine's key), so a page
that fails part-way or a run killed between two calls never pays for a card twice; a
page's answers go in the transaction that journals its rows for good.

The journal is created with mode 0600, like the outputs. It stores recognised fields
(it must rebuild unmasked rows) in clear, or sealed with a key when one is given
(``sealing``; docs/security.md); ``forget`` drops them from old rows.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import filelock

from batch_ocr.private_files import make_private_dirs, tighten, touch_private
from batch_ocr.run.journal import locks
from batch_ocr.run.journal.locks import lock_path_of
from batch_ocr.run.journal.migrations import MIGRATIONS
from batch_ocr.run.journal.sealing import JournalKey, JournalKeyError, is_sealed, key_for
from batch_ocr.run.journal.stored_rows import rows_from_json, rows_to_json
from batch_ocr.run.present.rows import Row
from batch_ocr.statuses import FINAL_STATUSES, is_clean


@dataclass(frozen=True, slots=True)
class FileStamp:
    """What identifies a file's version without reading it."""

    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: Path) -> FileStamp:
        """The stamp of ``path``, whatever state the path is in.

        A path that cannot be followed (a dangling link, a link loop) is stamped by the
        link itself, and one deleted since the walk gets ``MISSING_STAMP``: their rows
        ("file_vanished", "unreadable") must be journaled like any other, or the rewrite
        from the journal at the end of the run drops them from the output.
        """
        try:
            stat = path.stat()
        except OSError:
            try:
                stat = path.lstat()
            except OSError:
                return MISSING_STAMP
        return cls(stat.st_size, stat.st_mtime_ns)


#: The stamp of a path that does not exist (it never equals a real file's stamp).
MISSING_STAMP = FileStamp(size=-1, mtime_ns=-1)


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """The last recorded outcome of one page of a file (page 0: the file is one image)."""

    status: str
    retryable: bool
    sha256: str
    page: int = 0
    #: The engine that read the page ("" when none did: a page refused before) and its
    #: version then ("" when not known: recorded before versions were kept).
    engine: str = ""
    engine_version: str = ""


@dataclass(frozen=True, slots=True)
class RecordedRows:
    """The rows one page was recorded with, and the version of the engine that read it."""

    rows: list[Row]
    engine_version: str = ""
    #: The engine that read them, as recorded beside its version ("" when not known).
    recorded_engine: str = ""

    @property
    def engine(self) -> str:
        """The engine that read the rows: as recorded, else the one they name."""
        return self.recorded_engine or (self.rows[0].engine if self.rows else "")


def page_key(page: int | None) -> int:
    """The journal's page number: the row's ``page``, 0 for a file that is one image."""
    return page or 0




def _make_private(path: Path) -> None:
    """Create the journal 0600 before SQLite creates it 0644, and tighten what exists.

    An existing journal is made 0600 too, with its WAL and shared-memory companions
    (SQLite gives those the database's mode): a journal left 0644 by an older version,
    a backup restore or a ``touch`` kept every recognised name readable by all.
    """
    touch_private(path)
    for suffix in ("-wal", "-shm"):
        tighten(path.with_name(path.name + suffix))


class Journal:
    """The state of one output. Use as a context manager: it holds the run lock."""

    def __init__(self, path: Path, *, lock_taken: bool = False, key: str | None = None
                 ) -> None:
        self.path = path
        #: The caller holds this journal's run lock already (``output_locked`` of the
        #: output whose default journal this is): it is not taken again.
        self.lock_taken = lock_taken
        self._secret = key  # dropped once the key is derived (``open``)
        self._key: JournalKey | None = None
        self._lock: filelock.BaseFileLock | None = None
        self._db: sqlite3.Connection | None = None
        #: Pages recorded since this journal was opened.
        self.recorded = 0

    def __enter__(self) -> Journal:
        self.open()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def open(self) -> None:
        """Take the lock (or raise ``RunLockedError``), then open and migrate.

        Raises ``OSError`` when the journal's folder or lock cannot be made.
        """
        make_private_dirs(self.path.parent)
        if not self.lock_taken:
            self._lock = locks.take_run_lock(lock_path_of(self.path), f"using {self.path}")
        try:
            _make_private(self.path)
            # One thread at a time, but not always the opening one: a run journals from
            # its writer thread (``pipeline``) and rebuilds the output from the main thread.
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._db = db
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA busy_timeout=5000")
            self._migrate()
            self._key, self._secret = key_for(db, self._secret, self.path), None
        except sqlite3.Error as exc:
            self.close()  # a journal we cannot open must not keep the lock
            raise OSError(errno.EIO, f"cannot open the state journal {self.path}: {exc}") from exc
        except BaseException:
            self.close()
            raise

    def _migrate(self) -> None:
        db = self._conn
        version = db.execute("PRAGMA user_version").fetchone()[0]
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            db.executescript(f"BEGIN; {script}; PRAGMA user_version = {number}; COMMIT;")

    def sealed_if_keyed(self, text: str, purpose: str = "row") -> str:
        """``text`` as the journal keeps it: sealed when it has a key."""
        return self._key.seal(text, purpose) if self._key is not None else text

    def _clear(self, stored: str, purpose: str) -> str:
        """A stored value in clear (``JournalKeyError`` if sealed and no key opens it)."""
        if not is_sealed(stored):
            return stored
        if self._key is None:
            raise JournalKeyError(f"the state journal {self.path} holds encrypted fields")
        return self._key.open(stored, purpose, self.path)

    def _engine_of(self, stored: str | None) -> str:
        """The engine named by a page's stored rows (a page without a known version)."""
        rows = self.stored_rows(stored) if stored else []
        return rows[0].engine if rows else ""

    def stored_rows(self, stored: str) -> list[Row]:
        """The rows of a stored entry (sealed or not)."""
        return rows_from_json(self._clear(stored, "row"))

    def connection(self) -> sqlite3.Connection:
        """The open database, for maintenance (``forget``)."""
        return self._conn

    @property
    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError("journal is not open")
        return self._db

    def close(self) -> None:
        """Close the database and release the lock."""
        if self._db is not None:
            self._db.close()
            self._db = None
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    # -- queries ------------------------------------------------------------------

    def entries_if_unchanged(self, path: Path, stamp: FileStamp) -> list[JournalEntry] | None:
        """Every page's recorded outcome, if ``path`` has not changed since and none is missing.

        None when the file is new, changed (size or mtime) or was left half done.
        """
        return self.entries_if_unchanged_of([(path, stamp)])[0]

    def entries_if_unchanged_of(
        self, stamped: Sequence[tuple[Path, FileStamp]],
    ) -> list[list[JournalEntry] | None]:
        """``entries_if_unchanged`` for several files in one query, in their order.

        A rerun looks its files up a walk's stretch at a time (``recorder``): one query
        per file was most of a no-op rerun's time (docs/performance.md).
        """
        keys = [os.fsencode(path.absolute()) for path, _ in stamped]
        found: dict[bytes, list[tuple[Any, ...]]] = {}
        for start in range(0, len(keys), _PATHS_PER_QUERY):
            chunk = keys[start:start + _PATHS_PER_QUERY]
            # A page without a version (recorded before versions were kept, or by an
            # earlier version since) names its engine in its rows only: those are read then.
            for record in self._conn.execute(
                "SELECT f.path, f.size, f.mtime_ns, f.page_count, f.status, f.retryable, "
                "f.sha256, f.page, v.engine, v.version, "
                "CASE WHEN v.engine IS NULL THEN f.row_json END "
                f"FROM files f {_VERSION_JOIN} WHERE f.path IN ({','.join('?' * len(chunk))}) "
                "ORDER BY f.path, f.page", chunk,
            ):
                found.setdefault(record[0], []).append(record[1:])
        return [self._entries_if_same(found.get(key, []), stamp)
                for key, (_, stamp) in zip(keys, stamped, strict=True)]

    def _entries_if_same(self, found: list[tuple[Any, ...]],
                         stamp: FileStamp) -> list[JournalEntry] | None:
        if not found or len(found) != found[0][2]:
            return None
        if any((size, mtime_ns) != (stamp.size, stamp.mtime_ns)
               for size, mtime_ns, *_ in found):
            return None
        return [JournalEntry(status=status, retryable=bool(retryable), sha256=sha256, page=page,
                             engine=engine if engine is not None else self._engine_of(row_json),
                             engine_version=version or "")
                for _, _, _, status, retryable, sha256, page, engine, version, row_json
                in found]

    def final_row_for_content(self, sha256: str) -> Row | None:
        """The first final row paid for this content (its only one unless the image held
        several cards), if any."""
        rows = self.final_rows_for_content(sha256)
        return rows[0] if rows else None

    def final_rows_for_content(self, sha256: str) -> list[Row] | None:
        """The final (not retryable) rows already paid for this content, if any."""
        found = self.final_records_for_content(sha256, limit=1)
        return found[0].rows if found else None

    def final_records_for_content(self, sha256: str, *, limit: int = 8) -> list[RecordedRows]:
        """The final rows recorded for this content, page by page (the same content under
        several names or pages), each with the version of the engine that read it."""
        found = self._conn.execute(
            f"SELECT f.row_json, v.version, v.engine FROM files f {_VERSION_JOIN} "
            "WHERE f.sha256 = ? AND f.retryable = 0 AND f.status IN "
            f"({','.join('?' * len(FINAL_STATUSES))}) LIMIT ?",
            (sha256, *FINAL_STATUSES, limit),
        ).fetchall()
        return [RecordedRows(self.stored_rows(row_json), version or "", engine or "")
                for row_json, version, engine in found]

    def page_count(self) -> int:
        """How many pages (files that are one image count as one) are recorded."""
        return int(self._conn.execute("SELECT COUNT(*) FROM files").fetchone()[0])

    def is_empty(self) -> bool:
        """True when no file was ever recorded (a first run)."""
        return self._conn.execute("SELECT 1 FROM files LIMIT 1").fetchone() is None

    def count_by_status(self) -> dict[str, int]:
        """How many recorded rows have each status: what the output holds (a page of
        several cards holds a row per card, each of its own status)."""
        if self._key is not None:  # sealed: which entries hold several rows is sealed too
            counts: Counter[str] = Counter()
            for status, stored in self._conn.execute("SELECT status, row_json FROM files"):
                text = self._clear(stored, "row")
                counts.update([row.status for row in rows_from_json(text)]
                              if text.startswith("[") else [status])
            return dict(counts)
        counts = Counter(dict(self._conn.execute(
            "SELECT status, COUNT(*) FROM files WHERE row_json NOT LIKE '[%' GROUP BY status")))
        for (text,) in self._conn.execute("SELECT row_json FROM files WHERE row_json LIKE '[%'"):
            counts.update(row.status for row in rows_from_json(text))
        return dict(counts)

    def rows(self) -> Iterator[Row]:
        """Every recorded row, ordered by file name and page (a page's cards in order)."""
        for (text,) in self._conn.execute(
                "SELECT row_json FROM files ORDER BY rel, path, page"):
            yield from self.stored_rows(text)

    def paid_answer(self, engine: str, key: str) -> tuple[str, int] | None:
        """The kept answer (its JSON and the calls it took) of ``engine`` under ``key``."""
        found = self._conn.execute(
            "SELECT answer_json, attempts FROM paid_answers WHERE engine = ? AND key = ?",
            (engine, key)).fetchone()
        return (self._clear(found[0], "answer"), found[1]) if found else None

    def holds_paid_answers(self, engine: str) -> bool:
        """Whether ``engine`` has any answer kept."""
        return self._conn.execute("SELECT 1 FROM paid_answers WHERE engine = ? LIMIT 1",
                                  (engine,)).fetchone() is not None

    # -- updates -------------------------------------------------------------------

    def keep_paid_answer(self, engine: str, key: str, answer_json: str, attempts: int) -> None:
        """Commit one answer paid for before its page's rows exist (see the docstring).

        Raises ``OSError`` when the journal cannot be written, as ``record`` does.
        """
        with _transaction(self._conn, self.path):
            self._conn.execute("INSERT OR REPLACE INTO paid_answers VALUES (?, ?, ?, ?, ?)",
                               (engine, key, self.sealed_if_keyed(answer_json, "answer"), attempts,
                                time.time()))

    def record(self, path: Path, stamp: FileStamp, rows: Row | Sequence[Row], *,
               retryable: bool, page_count: int = 1,
               answers_done: Sequence[str] = (), engine: str = "",
               engine_version: str = "") -> None:
        """Commit ``rows`` as the outcome of their page of ``path`` (replacing older ones).

        ``rows`` is one row, or one per card when the page held several cards (they
        share the page).

        ``page_count`` is how many rows this version of the file has; rows of pages it no
        longer has (a shorter file, a whole-file refusal) are dropped in the same
        transaction, so the output never shows a page that is gone.

        ``engine`` is the engine that read them (by default the rows' own ``engine``; an
        engine made of two, hybrid, names rows ``local`` or ``api`` and itself here).

        ``answers_done`` are keys of answers kept for this page (``keep_paid_answer``,
        by ``engine``) that the rows now hold for good: they go in the same transaction,
        so a kill between the two never loses one.

        ``engine_version`` is the version of ``engine`` that read them (``""`` when none
        did), kept beside them for ``--redo-engine-older-than``.

        The entry's status is its first row's, unless a row is not clean (a card that
        failed on a page whose other cards were read): then that row's, so the page is
        done again by the runs that redo that status (docs/resume.md).

        Raises ``OSError`` when the journal cannot be written (disk full, I/O error): the
        pipeline turns that into a clean stop (``output_error``, exit 3). A
        ``sqlite3.Error`` escaping instead killed the workers and left the walk blocked on
        its full queue for good: a hang (issue 6).
        """
        rows = [rows] if isinstance(rows, Row) else list(rows)
        row = rows[0]
        status = next((r.status for r in rows if not is_clean(r.status)), row.status)
        encoded = os.fsencode(path.absolute())
        page = page_key(row.page)
        now = time.time()
        with _transaction(self._conn, self.path):
            _drop_other_versions_pages(self._conn, encoded, page, page_count)
            self._conn.executemany("DELETE FROM paid_answers WHERE engine = ? AND key = ?",
                                   [(engine or row.engine, key) for key in answers_done])
            self._conn.execute(
                "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    encoded,
                    page,
                    page_count,
                    row.file,
                    stamp.size,
                    stamp.mtime_ns,
                    row.sha256,
                    status,
                    int(retryable),
                    self.sealed_if_keyed(rows_to_json(rows), "row"),
                    now,
                ),
            )
            self._conn.execute("INSERT OR REPLACE INTO engine_versions VALUES (?, ?, ?, ?, ?)",
                               (encoded, page, engine or row.engine, engine_version, now))
        self.recorded += 1


def _drop_other_versions_pages(db: sqlite3.Connection, encoded: bytes, page: int,
                               page_count: int) -> None:
    """Delete rows of ``encoded`` that the version with ``page_count`` rows cannot have."""
    for table in ("files", "engine_versions"):
        if page == 0:
            db.execute(f"DELETE FROM {table} WHERE path = ? AND page != 0", (encoded,))
        else:
            db.execute(f"DELETE FROM {table} WHERE path = ? AND (page = 0 OR page > ?)",
                       (encoded, page_count))


#: Paths per ``IN (...)`` query: well under SQLite's oldest limit of 999 parameters.
_PATHS_PER_QUERY = 500

#: A page's engine version, while it still describes the page (see ``MIGRATIONS``).
_VERSION_JOIN = ("LEFT JOIN engine_versions v ON v.path = f.path AND v.page = f.page "
                 "AND v.recorded_at = f.updated_at")


@contextlib.contextmanager
def _transaction(db: sqlite3.Connection, path: Path) -> Iterator[None]:
    """One transaction; SQLite failures become ``OSError`` (see ``Journal.record``)."""
    try:
        db.execute("BEGIN")
        try:
            yield
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
    except sqlite3.Error as exc:
        with contextlib.suppress(sqlite3.Error):
            if db.in_transaction:
                db.execute("ROLLBACK")
        full = isinstance(exc, sqlite3.OperationalError) and "full" in str(exc)
        raise OSError(errno.ENOSPC if full else errno.EIO,
                      f"cannot write the state journal {path}: {exc}") from exc
