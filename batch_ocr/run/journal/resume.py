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
from batch_ocr.run.journal.state import JournalEntry
from batch_ocr.run.present.rows import Row


@dataclass(frozen=True, slots=True)
class ResumePolicy:
    """The rerun flags that change the decisions."""

    force: bool = False
    retry_failed: bool = False


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
