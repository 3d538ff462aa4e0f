"""Fail before paying: every path a run will write is tried before any image is read.

A summary or a review page that cannot be written used to fail after every call had
been paid for, and a journal folder without write permission ended in a traceback. So
the run first makes each missing parent folder and creates (then removes) a probe file
beside each path, and opens each existing file for writing without changing it: what
cannot be used is one ``OutputError`` naming the path (exit 3, docs/reference.md, "Exit codes").
Nothing is truncated or replaced here; the probes are hidden, 0600 and removed at once.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from batch_ocr.errors import OutputError
from batch_ocr.private_files import create_probe, make_private_dirs


@dataclass(frozen=True, slots=True)
class PlannedPath:
    """A path the run will write and what it is, for the message (``the output``)."""

    path: Path
    what: str
    folder: bool = False  # a folder the run writes into (``--portraits``)


def _reason(error: OSError) -> str:
    return error.strerror or str(error)


def _probe_folder(folder: Path, planned: PlannedPath) -> None:
    """Make ``folder`` if missing and create, then remove, a file in it."""
    try:
        make_private_dirs(folder)
    except FileExistsError:
        raise OutputError(f"cannot write {planned.what} {planned.path}: {folder} is a file, "
                          "not a folder") from None
    except OSError as exc:
        raise OutputError(f"cannot write {planned.what} {planned.path}: cannot make the "
                          f"folder {folder}: {_reason(exc)}") from None
    try:
        # False: a probe left by a killed run with our pid; the folder is writable.
        create_probe(folder, f".batch-ocr-probe.{os.getpid()}.tmp")
    except OSError as exc:
        raise OutputError(f"cannot write {planned.what} {planned.path}: {_reason(exc)}"
                          ) from None


def check_planned(planned: PlannedPath) -> None:
    """Raise ``OutputError`` naming ``planned.path`` when the run could not write it."""
    path = planned.path
    if planned.folder:
        if path.exists() and not path.is_dir():
            raise OutputError(f"cannot write {planned.what} {path}: it is a file, not a folder")
        _probe_folder(path, planned)
        return
    if path.is_dir():
        raise OutputError(f"cannot write {planned.what} {path}: it is a folder")
    _probe_folder(path.parent, planned)
    if path.exists():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND)  # writable? nothing is changed
        except OSError as exc:
            raise OutputError(f"cannot write {planned.what} {path}: {_reason(exc)}") from None
        os.close(fd)


def check_all(planned: list[PlannedPath]) -> None:
    """Check every planned path, in order; the first that cannot be used raises."""
    for item in planned:
        check_planned(item)
