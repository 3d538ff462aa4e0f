"""Finding the images and documents (PDFs) to process.

Folders are walked recursively in sorted order; hidden files and folders (name starting
with ``.``) are skipped. Symlink policy: a symlinked folder is not entered (that is how
loops and escapes start) but named and counted with the ignored files; with
``--follow-links`` it is walked when that cannot loop or wander: its target is outside
the source folder (else its files are read under their own names), does not hold the
source folder (``..``, ``/``), was not walked through another link, and the link is in
the source folder's own tree (a link inside a followed folder is not followed: one step
out, never a chain). Each real folder is walked once, so each real file is read once.
A symlinked file is processed only when its target lies inside the source folder (or
inside the followed folder it was found in), otherwise it gets a ``rejected`` row
(``symlink_outside``).
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

from batch_ocr.sanitize import file_label

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

    #: Symbolic links to folders passed over without ``--follow-links``: the summary
    #: says how to read them.
    linked_folders_passed: int = 0

    def ignore(self, rel: str) -> None:
        """Count (and name, while under the cap) a file the walk passes over."""
        self.ignored_files += 1
        if len(self.ignored) < MAX_IGNORED_LISTED:
            self.ignored.append(display_path(rel))

    def ignore_folder(self, rel: str) -> None:
        """Count and name a folder the walk does not enter (``name/``)."""
        self.ignore(rel + "/")


def display_path(rel: str) -> str:
    """A file name fit for a UTF-8 table, one-to-one (``sanitize.file_label``):
    undecodable bytes become ``\\xNN``, a backslash ``\\\\``."""
    return file_label(rel)


def is_image_name(name: str) -> bool:
    """True when the extension (any case) is an image or a document batch-ocr reads."""
    extension = os.path.splitext(name)[1].lower()
    return extension in IMAGE_EXTENSIONS or extension in DOCUMENT_EXTENSIONS


def _inside(target: Path, roots: tuple[Path, ...]) -> bool:
    try:
        resolved = target.resolve()
    except (OSError, RuntimeError):
        return False
    return any(resolved.is_relative_to(root) for root in roots)


def _is_special(entry: os.DirEntry[str]) -> bool:
    """A FIFO, socket or device (followed through a link); unresolvable links are not."""
    try:
        if not entry.is_symlink():
            return not entry.is_file(follow_symlinks=False)  # d_type: no extra syscall
        mode = entry.stat(follow_symlinks=True).st_mode
    except OSError:
        return False  # dangling or looping: a candidate whose read says what is wrong
    return not stat.S_ISREG(mode)


@dataclass(slots=True)
class _Walk:
    """One source folder's walk: what it may enter, and what it has entered."""

    root: Path  # the source folder, resolved
    stats: WalkStats
    own: frozenset[str]  # the run's own files, resolved
    follow_links: bool
    #: (device, inode) of every folder walked through a followed link: each real folder
    #: (and so each real file) is read once, however many links lead to it.
    walked: set[tuple[int, int]] = field(default_factory=set)

    def folder(self, folder: Path, prefix: str, resolved_folder: str,
               roots: tuple[Path, ...]) -> Iterator[Candidate]:
        """Depth-first in name order, so rows come out sorted by their ``file`` path.

        ``resolved_folder`` is ``folder`` resolved (a child's is the parent's plus its
        name); ``roots`` are the folders whose links to files count as inside: the
        source folder, and the followed folder this one lies in.
        """
        try:
            with os.scandir(folder) as scan:
                entries = sorted(scan, key=lambda e: e.name)
        except OSError as exc:
            self.stats.unreadable_dirs.append(
                f"{display_path(prefix or '.')}: {exc.strerror}")
            return
        for entry in entries:
            if entry.name.startswith("."):
                continue
            rel = prefix + entry.name
            resolved = os.path.join(resolved_folder, entry.name)
            if os.path.normcase(resolved) in self.own:
                continue  # written by this run: never an input
            is_link = entry.is_symlink()
            try:
                if entry.is_dir(follow_symlinks=False):
                    if len(roots) > 1 and not self._first_visit(entry):
                        self.stats.ignore_folder(rel)  # read through another link
                        continue
                    yield from self.folder(Path(entry.path), rel + "/", resolved, roots)
                    continue
                if is_link and entry.is_dir(follow_symlinks=True):
                    yield from self._linked_folder(entry, rel, roots)
                    continue
            except OSError:
                pass  # a link loop: treated as a file, and flagged below as not inside
            if not is_image_name(entry.name) or _is_special(entry):
                self.stats.ignore(rel)
                continue
            outside = is_link and not _inside(Path(entry.path), roots)
            yield Candidate(Path(entry.path), display_path(rel), outside)

    def _first_visit(self, entry: os.DirEntry[str]) -> bool:
        info = entry.stat(follow_symlinks=True)
        key = (info.st_dev, info.st_ino)
        if key in self.walked:
            return False
        self.walked.add(key)
        return True

    def _linked_folder(self, entry: os.DirEntry[str], rel: str,
                       roots: tuple[Path, ...]) -> Iterator[Candidate]:
        """A symbolic link to a folder: named and passed over, or (``--follow-links``)
        walked when that cannot loop or wander off (docs/reference.md, "Options")."""
        if not self.follow_links:
            self.stats.linked_folders_passed += 1
            self.stats.ignore_folder(rel)
            return
        try:
            target = Path(entry.path).resolve(strict=True)
        except (OSError, RuntimeError):
            self.stats.ignore_folder(rel)
            return
        if (len(roots) > 1  # one step out of the source folder, never a chain of links
                or target.is_relative_to(self.root)  # read under its own name already
                or self.root.is_relative_to(target)  # ``..``, ``/``: a loop
                or not self._first_visit(entry)):  # read through another link already
            self.stats.ignore_folder(rel)
            return
        yield from self.folder(Path(entry.path), rel + "/", str(target), (self.root, target))


def walk_sources(
    sources: list[Path], stats: WalkStats, *, own_paths: Iterable[Path] = (),
    follow_links: bool = False,
) -> Iterator[Candidate]:
    """Yield every candidate under ``sources`` lazily, in a stable order.

    ``own_paths`` (files or folders the run writes, existing or not) are never walked;
    ``follow_links`` walks symbolic links to folders too (``--follow-links``).
    """
    own = frozenset(os.path.normcase(path.resolve()) for path in own_paths)
    for source in sources:
        if source.is_dir():
            root = source.resolve()
            walk = _Walk(root, stats, own, follow_links)
            yield from walk.folder(source, "", str(root), (root,))
        else:
            yield Candidate(source, display_path(source.name))
