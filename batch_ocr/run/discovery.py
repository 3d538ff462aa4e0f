"""Finding the images and documents (PDFs) to process.

Folders are walked recursively in sorted order; hidden files and folders (name starting
with ``.``) are skipped. Symlink policy: a symlinked folder is never entered (that is
how loops and escapes start); a symlinked file is processed only when its target lies
inside the source folder, otherwise it gets a ``rejected`` row (``symlink_outside``).
A link that never resolves (a loop) is not known to stay inside, so it is flagged the
same way; a dangling link inside the folder gets ``file_vanished``. Every one of them
gets a row. FIFOs, sockets and devices are not files: they are counted
with the ignored files, never opened (opening a FIFO blocks until someone writes to it,
which would hang an unattended run for good).
A file named on the command line is always a candidate, whatever its extension.
Nothing is passed over silently: every ignored file is counted and the first
``MAX_IGNORED_LISTED`` are named (docs/reference.md, "Options"). What the run itself
writes (the output, the journal, the summary, the report, the portraits folder) is never
walked, wherever it lies: a portrait saved inside the scanned folder is not a new scan.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

IMAGE_EXTENSIONS: frozenset[str] = frozenset(
    {".jpg", ".jpeg", ".jpe", ".png", ".bmp", ".gif", ".tif", ".tiff",
     ".webp", ".heic", ".heif"}  # phones' formats: re-encoded for the API (imaging.py)
)
#: Documents whose pages are images of their own (docs/documents.md).
DOCUMENT_EXTENSIONS: frozenset[str] = frozenset({".pdf"})


@dataclass(frozen=True, slots=True)
class Candidate:
    """One file to turn into one row per page (one row when it is one image)."""

    path: Path  # where to read it
    rel: str  # the ``file`` column: relative to its source folder, ``/`` separators
    outside_link: bool = False  # a symlink whose target is outside the source folder


#: Ignored files named in the summary; past this only the count grows (a folder of
#: millions of thumbnails must not fill memory or the summary JSON).
MAX_IGNORED_LISTED = 1000


@dataclass(slots=True)
class WalkStats:
    """What the walk passed over, for the summary."""

    ignored_files: int = 0
    #: The first ``MAX_IGNORED_LISTED`` ignored files, relative to their source.
    ignored: list[str] = field(default_factory=list)
    unreadable_dirs: list[str] = field(default_factory=list)

    def ignore(self, rel: str) -> None:
        """Count (and name, while under the cap) a file the walk passes over."""
        self.ignored_files += 1
        if len(self.ignored) < MAX_IGNORED_LISTED:
            self.ignored.append(display_path(rel))


def display_path(rel: str) -> str:
    """A file name fit for a UTF-8 table: undecodable bytes become ``\\xNN``."""
    return os.fsencode(rel).decode("utf-8", "backslashreplace")


def is_image_name(name: str) -> bool:
    """True when the extension (any case) is an image or a document batch-ocr reads."""
    extension = os.path.splitext(name)[1].lower()
    return extension in IMAGE_EXTENSIONS or extension in DOCUMENT_EXTENSIONS


def _inside(target: Path, root: Path) -> bool:
    try:
        target.resolve().relative_to(root)
    except (ValueError, OSError, RuntimeError):
        return False
    return True


def _is_special(entry: os.DirEntry[str]) -> bool:
    """A FIFO, socket or device (followed through a link); unresolvable links are not."""
    try:
        if not entry.is_symlink():
            return not entry.is_file(follow_symlinks=False)  # d_type: no extra syscall
        mode = entry.stat(follow_symlinks=True).st_mode
    except OSError:
        return False  # dangling or looping: a candidate whose read says what is wrong
    return not stat.S_ISREG(mode)


def _walk_folder(
    folder: Path, prefix: str, resolved_root: Path, stats: WalkStats,
    resolved_folder: str, own: frozenset[str],
) -> Iterator[Candidate]:
    """Depth-first in name order, so rows come out sorted by their ``file`` path.

    ``resolved_folder`` is ``folder`` resolved (linked folders are never entered, so a
    child's is the parent's plus its name); ``own`` are the run's own files, resolved.
    """
    try:
        with os.scandir(folder) as scan:
            entries = sorted(scan, key=lambda e: e.name)
    except OSError as exc:
        stats.unreadable_dirs.append(f"{display_path(prefix or '.')}: {exc.strerror}")
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        rel = prefix + entry.name
        resolved = os.path.join(resolved_folder, entry.name)
        if os.path.normcase(resolved) in own:
            continue  # written by this run: never an input
        is_link = entry.is_symlink()
        try:
            if entry.is_dir(follow_symlinks=False):
                yield from _walk_folder(Path(entry.path), rel + "/", resolved_root, stats,
                                        resolved, own)
                continue
            if is_link and entry.is_dir(follow_symlinks=True):
                continue  # a linked folder is never entered (loops, escapes)
        except OSError:
            pass  # a link loop: treated as a file, and flagged below as not inside
        if not is_image_name(entry.name) or _is_special(entry):
            stats.ignore(rel)
            continue
        outside = is_link and not _inside(Path(entry.path), resolved_root)
        yield Candidate(Path(entry.path), display_path(rel), outside)


def walk_sources(
    sources: list[Path], stats: WalkStats, *, own_paths: Iterable[Path] = ()
) -> Iterator[Candidate]:
    """Yield every candidate under ``sources`` lazily, in a stable order.

    ``own_paths`` (files or folders the run writes, existing or not) are never walked.
    """
    own = frozenset(os.path.normcase(path.resolve()) for path in own_paths)
    for source in sources:
        if source.is_dir():
            root = source.resolve()
            yield from _walk_folder(source, "", root, stats, str(root), own)
        else:
            yield Candidate(source, display_path(source.name))
