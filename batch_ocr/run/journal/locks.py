"""Where a run's journal is, and the locks that keep two runs apart (docs/resume.md).

A run holds the lock of its journal (``STATE.lock``) and, when it writes an output, the
output's lock: the lock of the output's default journal (``OUT.state.sqlite.lock``), so
a run on the default journal holds one lock and a run with ``--state`` elsewhere two.
Two runs writing one output with different ``--state`` journals both wrote the same file
at once and both exited 0; now the second exits 75.

filelock uses ``flock`` on POSIX and ``msvcrt.locking`` on Windows: both die with their
process, so a ``kill -9`` leaves no stale lock behind.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import filelock

from batch_ocr.errors import RunLockedError
from batch_ocr.private_files import PRIVATE_MODE, make_private_dirs


def default_state_path(output: Path) -> Path:
    """Next to the output: ``results.csv`` -> ``results.csv.state.sqlite``."""
    return output.with_name(output.name + ".state.sqlite")


def lock_path_of(state_path: Path) -> Path:
    """The run lock of the journal at ``state_path``: ``STATE.lock`` beside it."""
    return state_path.with_name(state_path.name + ".lock")


def output_lock_path(output: Path) -> Path:
    """The lock every run writing ``output`` holds, whatever its ``--state``: the lock
    of the output's default journal, so a run on that journal makes no other file."""
    return lock_path_of(default_state_path(output))


def same_path(one: Path, other: Path) -> bool:
    """Whether two paths name one file (compared by name while either is missing)."""
    try:
        return os.path.samefile(one, other)
    except OSError:
        return os.path.normcase(os.path.abspath(one)) == os.path.normcase(os.path.abspath(other))


def take_run_lock(lock_path: Path, busy: str) -> filelock.BaseFileLock:
    """The run lock on ``lock_path``, or ``RunLockedError`` saying another run is
    ``busy`` (``using results.csv.state.sqlite``) when another run holds it.

    The lock file holds nothing, but it is made 0600 like every file we make.
    """
    # Not thread-local: the lock belongs to the run, whichever thread ends it.
    lock = filelock.FileLock(lock_path, timeout=0, mode=PRIVATE_MODE, thread_local=False)
    try:
        lock.acquire()
    except filelock.Timeout:
        raise RunLockedError(
            f"another batch-ocr run is {busy}; try again when it has finished") from None
    return lock


@contextlib.contextmanager
def output_locked(output: Path, *, also_journal: Path | None = None) -> Iterator[None]:
    """Hold ``output``'s lock while a run writes it, or raise ``RunLockedError``.

    A run on the output's default journal (``also_journal``) opens that journal with
    ``Journal(lock_taken=True)``: this is its lock, and a second lock of one file in one
    process would lock out its owner. The run holding it may then be writing the output
    or using that journal: the message says both.
    """
    lock_path = output_lock_path(output)
    make_private_dirs(lock_path.parent)
    busy = f"writing {output}" + (f" or using {also_journal}" if also_journal else "")
    lock = take_run_lock(lock_path, busy)
    try:
        yield
    finally:
        lock.release()
