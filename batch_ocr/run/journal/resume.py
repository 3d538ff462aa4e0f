"""What a rerun does with a file or a content it has seen before: pure decisions.

docs/resume.md: a file whose size and mtime are those journaled is skipped unless the
outcome of one of its pages was transient (retried by the next run) or ``--retry-failed``
asks for it; a content already answered for good (under any name or page, in any run) is
never paid for again: its row is reused. ``--force`` redoes everything. The same holds
for one card of a page read through the API (docs/documents.md): an answer paid for
it stands for a new call unless the flags ask for it again.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from batch_ocr import statuses
from batch_ocr.run.journal.state import JournalEntry, RecordedRows
from batch_ocr.run.present.rows import Row


def engine_version_key(text: str) -> tuple[int, ...] | None:
    """A version as numbers to compare (``"1.3"`` -> ``(1, 3)``); ``""`` (not known:
    recorded before versions were kept) is ``()``, older than any; None when ``text``
    is no version (a newer version's format: never taken for an older one)."""
    if not text:
        return ()
    parts = text.split(".")
    if not all(part.isdigit() for part in parts):
        return None
    return tuple(int(part) for part in parts)


@dataclass(frozen=True, slots=True)
class RedoOlder:
    """``--redo-engine-older-than``: pages ``engine`` recorded at a version older than
    ``version`` are read again; other engines' pages are not its to judge."""

    engine: str
    version: str

    def __post_init__(self) -> None:
        if not self.version or engine_version_key(self.version) is None:
            raise ValueError(f"not an engine version (like 2 or 1.3): {self.version!r}")

    def stale(self, engine: str, version: str) -> bool:
        """Whether a page ``engine`` recorded at ``version`` is to be read again."""
        recorded = engine_version_key(version)
        wanted = engine_version_key(self.version)
        return (engine == self.engine and recorded is not None and wanted is not None
                and recorded < wanted)


@dataclass(frozen=True, slots=True)
class ResumePolicy:
    """The rerun flags that change the decisions."""

    force: bool = False
    retry_failed: bool = False
    redo_older: RedoOlder | None = None

    def stale(self, engine: str, version: str) -> bool:
        """Whether ``--redo-engine-older-than`` asks for a page read by ``engine`` at
        ``version`` again."""
        return self.redo_older is not None and self.redo_older.stale(engine, version)


class FileDecision(enum.Enum):
    """What to do with a file before reading it."""

    #: Done in an earlier run: no read, no row.
    SKIP = "skip"
    #: New, changed, or to be done again: read it.
    PROCESS = "process"


def decide_file(entry: JournalEntry | None, policy: ResumePolicy) -> FileDecision:
    """Skip or process a file, from its journal entry for the same size and mtime."""
    if entry is None or policy.force:
        return FileDecision.PROCESS
    if entry.retryable:
        return FileDecision.PROCESS
    if policy.retry_failed and statuses.redone_by_retry_failed(entry.status):
        return FileDecision.PROCESS
    if policy.stale(entry.engine, entry.engine_version):
        return FileDecision.PROCESS
    return FileDecision.SKIP


def decide_pages(entries: Sequence[JournalEntry] | None, policy: ResumePolicy) -> FileDecision:
    """Skip a file only when every page of its unchanged version may be skipped.

    ``entries`` is None when the file is new, changed or was left half done.
    """
    if not entries:
        return FileDecision.PROCESS
    if any(decide_file(entry, policy) is FileDecision.PROCESS for entry in entries):
        return FileDecision.PROCESS
    return FileDecision.SKIP


def reusable(row: Row | None, policy: ResumePolicy) -> Row | None:
    """The earlier final row for the same content that may stand for this file, if any."""
    if row is None or policy.force:
        return None
    if policy.retry_failed and statuses.redone_by_retry_failed(row.status):
        return None
    return row


def reusable_rows(rows: list[Row] | None, policy: ResumePolicy) -> list[Row] | None:
    """The rows of an image (one per card, docs/documents.md) stand for this file only
    all together: when any of them may not, the image is recognised again."""
    if not rows or any(reusable(row, policy) is None for row in rows):
        return None
    return rows


def reusable_record(records: Sequence[RecordedRows], policy: ResumePolicy
                    ) -> tuple[RecordedRows | None, bool]:
    """The first recorded rows of a content that may stand for this image, and whether
    one was passed over only because an older engine version read it (a re-read that
    ``--redo-engine-older-than`` asked for, counted apart)."""
    passed_over = False
    for record in records:
        if reusable_rows(record.rows, policy) is None:
            continue
        if policy.stale(record.engine, record.engine_version):
            passed_over = True
            continue
        return record, False
    return None, passed_over


def answer_reusable(status: str, policy: ResumePolicy) -> bool:
    """Whether a kept answer whose row would have ``status`` may stand for a new call."""
    if policy.force:
        return False
    return not (policy.retry_failed and statuses.redone_by_retry_failed(status))


def answers_done(kept: Sequence[str], rows: Sequence[Row]) -> Sequence[str]:
    """The kept answers a page's rows let go: all once no run (plain or
    ``--retry-failed``) does any of its rows again; none before."""
    if any(statuses.redone_by_retry_failed(row.status) for row in rows):
        return ()
    return kept
