"""Files that hold personal data: created owner-only (0600), written whole or appended.

Every file batch-ocr writes holds names, ID numbers or faces (outputs, the journal, the
summary, the review page, portraits), so every writer goes through here
(docs/security.md). A file is created 0600 from the start, never chmod-ed after it was written;
an existing file we take over is tightened to 0600 too, since it may have been made by
an older version, a backup restore or a ``touch``. Where the platform has no POSIX modes
(Windows), the modes are skipped and the files inherit the folder's access rules.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import BinaryIO, TextIO

PRIVATE_MODE = 0o600
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


def open_private(path: Path, *, append: bool = False) -> TextIO:
    """Open a UTF-8 text file for writing, 0600, truncated (or appended to)."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
    fd = os.open(path, flags | _BINARY, PRIVATE_MODE)
    _tighten_fd(fd)
    return open(fd, "w", encoding="utf-8", newline="")


def open_private_binary(path: Path) -> BinaryIO:
    """Open for writing bytes, 0600, truncated (a workbook is a zip file)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | _BINARY, PRIVATE_MODE)
    _tighten_fd(fd)
    return open(fd, "wb")


def touch_private(path: Path) -> None:
    """Create ``path`` empty and 0600 if missing (before a library creates it 0644)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_MODE)
    try:
        _tighten_fd(fd)
    finally:
        os.close(fd)


def temporary_beside(path: Path) -> Path:
    """A temporary name in ``path``'s folder (so ``os.replace`` stays on one disk)."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def replace_private(path: Path, data: bytes | str) -> None:
    """Write ``data`` to ``path`` atomically: a reader sees the old file or the new one.

    The temporary file is created 0600 and exclusively, then moved over ``path``, so an
    existing, more open file is replaced rather than reused.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = temporary_beside(path)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(temporary)  # left by a killed run of ours (same pid reused)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _BINARY, PRIVATE_MODE)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
