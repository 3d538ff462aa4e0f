"""The state journal: what each file became, committed as soon as it is known.

SQLite in WAL mode, one row per file path, keyed by the path's bytes. A file counts
as done when its size and mtime are those recorded (so a no-op rerun stats files but
never hashes them); content already paid for is found by sha256, whatever its name.
Every row of the output can be rebuilt from here, which is how a run killed mid-write
is repaired: the output is rewritten from the journal at the start and end of a run.

The journal stores recognised fields in clear text (it must rebuild unmasked rows);
it is created with mode 0600, like the outputs.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass, fields
from pathlib import Path
from typing import IO, Any

from batch_ocr.errors import RunLockedError
from batch_ocr.private_files import tighten, touch_private
from batch_ocr.rows import Row
from batch_ocr.statuses import FINAL_STATUSES

#: Schema migrations, applied in order; ``PRAGMA user_version`` holds how many ran.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE files (
        path BLOB PRIMARY KEY,
        rel TEXT NOT NULL,
        size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        status TEXT NOT NULL,
        retryable INTEGER NOT NULL,
        row_json TEXT NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE INDEX files_by_sha256 ON files (sha256);
    """,
)

_ROW_FIELDS = frozenset(f.name for f in fields(Row))


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
    """A file's last recorded outcome."""

    status: str
    retryable: bool
    sha256: str


def default_state_path(output: Path) -> Path:
    """Next to the output: ``results.csv`` -> ``results.csv.state.sqlite``."""
    return output.with_name(output.name + ".state.sqlite")


def row_from_json(text: str) -> Row:
    """Rebuild a ``Row`` from its stored JSON (unknown keys from newer versions dropped)."""
    values: dict[str, Any] = json.loads(text)
    return Row(**{k: v for k, v in values.items() if k in _ROW_FIELDS})


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

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock_file: IO[bytes] | None = None
        self._db: sqlite3.Connection | None = None

    def __enter__(self) -> Journal:
        self.open()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def open(self) -> None:
        """Take the lock (or raise ``RunLockedError``), then open and migrate."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.path.with_name(self.path.name + ".lock")
        lock_fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        with contextlib.suppress(OSError):
            os.fchmod(lock_fd, 0o600)  # holds nothing, but one rule for every file we make
        lock_file = os.fdopen(lock_fd, "r+b")
        try:
            # flock dies with the process, so a kill -9 leaves no stale lock behind.
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock_file.close()
            raise RunLockedError(
                f"another batch-ocr run is using {self.path}; try again when it has finished"
            ) from None
        self._lock_file = lock_file
        _make_private(self.path)
        # One thread at a time, but not always the opening one: a run journals from its
        # writer thread (``pipeline``) and rebuilds the output from the main thread.
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA busy_timeout=5000")
        self._db = db
        self._migrate()

    def _migrate(self) -> None:
        db = self._conn
        version = db.execute("PRAGMA user_version").fetchone()[0]
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            db.executescript(f"BEGIN; {script}; PRAGMA user_version = {number}; COMMIT;")

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
        if self._lock_file is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()
            self._lock_file = None

    # -- queries ------------------------------------------------------------------

    def entry_if_unchanged(self, path: Path, stamp: FileStamp) -> JournalEntry | None:
        """The recorded outcome of ``path`` if its size and mtime have not changed."""
        found = self._conn.execute(
            "SELECT size, mtime_ns, status, retryable, sha256 FROM files WHERE path = ?",
            (os.fsencode(path.absolute()),),
        ).fetchone()
        if found is None or (found[0], found[1]) != (stamp.size, stamp.mtime_ns):
            return None
        return JournalEntry(status=found[2], retryable=bool(found[3]), sha256=found[4])

    def final_row_for_content(self, sha256: str) -> Row | None:
        """A final (not retryable) answer already paid for this content, if any."""
        found = self._conn.execute(
            "SELECT row_json FROM files WHERE sha256 = ? AND retryable = 0 AND status IN "
            f"({','.join('?' * len(FINAL_STATUSES))}) LIMIT 1",
            (sha256, *FINAL_STATUSES),
        ).fetchone()
        return row_from_json(found[0]) if found else None

    def is_empty(self) -> bool:
        """True when no file was ever recorded (a first run)."""
        return self._conn.execute("SELECT 1 FROM files LIMIT 1").fetchone() is None

    def rows(self) -> Iterator[Row]:
        """Every recorded row, ordered by file name."""
        for (text,) in self._conn.execute("SELECT row_json FROM files ORDER BY rel, path"):
            yield row_from_json(text)

    # -- updates -------------------------------------------------------------------

    def record(self, path: Path, stamp: FileStamp, row: Row, *, retryable: bool) -> None:
        """Commit ``row`` as the outcome of ``path`` (replacing an older one).

        Raises ``OSError`` when the journal cannot be written (disk full, I/O error): the
        pipeline turns that into a clean stop (``output_error``, exit 3). A
        ``sqlite3.Error`` escaping instead killed the workers and left the walk blocked on
        its full queue for good: a hang (issue 6).
        """
        try:
            self._conn.execute(
                "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    os.fsencode(path.absolute()),
                    row.file,
                    stamp.size,
                    stamp.mtime_ns,
                    row.sha256,
                    row.status,
                    int(retryable),
                    json.dumps(row.to_dict(), ensure_ascii=False),
                    time.time(),
                ),
            )
        except sqlite3.Error as exc:
            full = isinstance(exc, sqlite3.OperationalError) and "full" in str(exc)
            raise OSError(errno.ENOSPC if full else errno.EIO,
                          f"cannot write the state journal {self.path}: {exc}") from exc
