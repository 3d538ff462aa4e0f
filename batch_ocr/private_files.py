"""Files and folders that hold personal data: owner-only, and written whole.

Every file batch-ocr writes holds names, ID numbers or faces (outputs, the journal, the
summary, the review page, portraits), so every writer goes through here
(docs/security.md); this is the one module that knows the modes. A file is created 0600 from
the start, never chmod-ed after it was written; an existing file we take over is
tightened to 0600 too, since it may have been made by an older version, a backup
restore or a ``touch``. A folder the run creates (the output's, the journal's, the
portraits and their subfolders, the review page's) is 0700 whatever the umask; folders
that already exist are the user's and left as they are. Where the platform has no POSIX
modes (Windows), the modes are skipped and the files inherit the folder's access rules.

A file written whole goes through ``AtomicFile``: written beside its target, flushed to
disk, renamed over it, and the folder's entry flushed too, so a reader (or a crash, or
a power cut) sees the old file or the new one, never a torn one.
"""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path
from types import TracebackType
from typing import IO, BinaryIO, TextIO, cast

PRIVATE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700
#: Windows opens descriptors in text mode (newline translation) unless told otherwise.
_BINARY = getattr(os, "O_BINARY", 0)


def _tighten_fd(fd: int) -> None:
    fchmod = getattr(os, "fchmod", None)
    if fchmod is not None:
        with contextlib.suppress(OSError):  # not ours to change: leave it
            fchmod(fd, PRIVATE_MODE)


def tighten(path: Path) -> None:
    """Make an existing file 0600; absent files and foreign ones are left alone."""
    with contextlib.suppress(OSError):
        os.chmod(path, PRIVATE_MODE)


def make_private_dirs(folder: Path) -> None:
    """Make ``folder`` and its missing parents, each one made 0700 whatever the umask.

    Like ``Path.mkdir(parents=True, exist_ok=True)``: ``FileExistsError`` when
    ``folder`` is a file. Folders that exist already are left as they are.
    """
    missing: list[Path] = []
    current = folder
    while not current.is_dir():
        if current.exists() or current.is_symlink():
            if current.is_dir():
                break  # made meanwhile by another writer (portraits saved side by side)
            raise FileExistsError(errno.EEXIST, "not a folder", str(current))
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for made in reversed(missing):
        try:
            os.mkdir(made, PRIVATE_DIR_MODE)
        except FileExistsError:
            if not made.is_dir():
                raise
            continue  # made by someone else meanwhile: theirs, left alone
        # mkdir's mode passes through the umask (a umask of 0o200 would leave 0500):
        # set it whole on the folder we just made.
        with contextlib.suppress(OSError):
            os.chmod(made, PRIVATE_DIR_MODE)


def open_private(path: Path, *, append: bool = False) -> TextIO:
    """Open a UTF-8 text file for writing, 0600, truncated (or appended to)."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
    fd = os.open(path, flags | _BINARY, PRIVATE_MODE)
    _tighten_fd(fd)
    return open(fd, "w", encoding="utf-8", newline="")


def touch_private(path: Path) -> None:
    """Create ``path`` empty and 0600 if missing (before a library creates it 0644)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_MODE)
    try:
        _tighten_fd(fd)
    finally:
        os.close(fd)


def create_probe(folder: Path, name: str) -> bool:
    """Create the empty private file ``folder/name`` and remove it at once: whether the
    folder takes new files. False when it already exists (left by a run of ours)."""
    probe = folder / name
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE)
    except FileExistsError:
        return False
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(probe)
    return True


def temporary_beside(path: Path) -> Path:
    """A temporary name in ``path``'s folder (so the rename stays on one disk)."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def _sync_folder(folder: Path) -> None:
    """Flush a folder's entries (a rename) to disk; where folders cannot be opened
    (Windows), the rename itself is what the platform offers."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


class AtomicFile:
    """A private file written whole beside ``path``, then swapped in by ``commit``.

    The temporary file is created 0600 and exclusively (an existing, more open file is
    replaced rather than reused); its folders are made private when missing. ``commit``
    flushes it to disk, renames it over ``path`` and flushes the folder; the stream
    stays open for more writes when the caller keeps it (an output appended to after
    its rebuild). As a context manager: committed and closed on success, discarded on
    any exception.
    """

    def __init__(self, path: Path, *, binary: bool = False) -> None:
        self.path = Path(path)
        make_private_dirs(self.path.parent)
        self.temporary = temporary_beside(self.path)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.temporary)  # left by a killed run of ours (same pid reused)
        fd = os.open(self.temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _BINARY,
                     PRIVATE_MODE)
        # Open for the object's life, closed by ``discard``, ``__exit__`` or its keeper.
        self.stream: IO[str] | IO[bytes] = (
            open(fd, "wb") if binary  # noqa: SIM115
            else open(fd, "w", encoding="utf-8", newline=""))  # noqa: SIM115

    @property
    def text(self) -> TextIO:
        """The stream of a file opened as text."""
        return cast(TextIO, self.stream)

    @property
    def binary(self) -> BinaryIO:
        """The stream of a file opened with ``binary=True``."""
        return cast(BinaryIO, self.stream)

    def commit(self) -> None:
        """Flush to disk, rename over ``path``, flush the folder's entry."""
        self.stream.flush()
        os.fsync(self.stream.fileno())
        os.replace(self.temporary, self.path)
        _sync_folder(self.path.parent)

    def discard(self) -> None:
        """Close and remove the temporary file; ``path`` is untouched."""
        self.stream.close()
        with contextlib.suppress(OSError):
            os.unlink(self.temporary)

    def __enter__(self) -> AtomicFile:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if kind is not None:
            self.discard()
            return
        try:
            self.commit()
        except BaseException:
            self.discard()
            raise
        self.stream.close()


def replace_private(path: Path, data: bytes | str) -> None:
    """Write ``data`` to ``path`` atomically and durably: a reader sees the old file or
    the new one (``AtomicFile``)."""
    with AtomicFile(path, binary=True) as atomic:
        atomic.binary.write(data.encode("utf-8") if isinstance(data, str) else data)
