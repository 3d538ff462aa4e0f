"""Rerun decisions (``batch_ocr/run/journal/resume.py``): docs/resume.md, as a table."""

from __future__ import annotations

import pytest

from batch_ocr.run.journal.resume import FileDecision, ResumePolicy, decide_file, reusable
from batch_ocr.run.journal.state import JournalEntry
from batch_ocr.run.present.rows import Row

PLAIN = ResumePolicy()
FORCE = ResumePolicy(force=True)
RETRY_FAILED = ResumePolicy(retry_failed=True)
BOTH = ResumePolicy(force=True, retry_failed=True)

SKIP = FileDecision.SKIP
PROCESS = FileDecision.PROCESS


def entry(status: str, retryable: bool = False) -> JournalEntry:
    return JournalEntry(status=status, retryable=retryable, sha256="ab" * 32)


@pytest.mark.parametrize(
    ("journaled", "plain", "force", "retry_failed"),
    [
        (None, PROCESS, PROCESS, PROCESS),
        (entry("ok"), SKIP, PROCESS, SKIP),
        (entry("not_id_card"), SKIP, PROCESS, SKIP),
        (entry("scan_failed"), SKIP, PROCESS, PROCESS),
        (entry("error"), SKIP, PROCESS, PROCESS),
        (entry("rejected"), SKIP, PROCESS, PROCESS),
        # Transient outcomes (timeouts, 5xx, a busy file) are retried by any rerun.
        (entry("error", retryable=True), PROCESS, PROCESS, PROCESS),
        (entry("rejected", retryable=True), PROCESS, PROCESS, PROCESS),
    ],
    ids=["new", "ok", "not_id_card", "scan_failed", "error", "rejected",
         "error-transient", "rejected-transient"],
)
def test_decide_file(journaled: JournalEntry | None, plain: FileDecision, force: FileDecision,
                     retry_failed: FileDecision) -> None:
    assert decide_file(journaled, PLAIN) is plain
    assert decide_file(journaled, FORCE) is force
    assert decide_file(journaled, RETRY_FAILED) is retry_failed
    assert decide_file(journaled, BOTH) is PROCESS


@pytest.mark.parametrize(
    ("status", "plain", "retry_failed"),
    [
        ("ok", True, True),
        ("not_id_card", True, True),
        ("scan_failed", True, False),
        ("error", True, False),
    ],
)
def test_reusable(status: str, plain: bool, retry_failed: bool) -> None:
    earlier = Row(file="elsewhere/a.jpg", status=status, sha256="cd" * 32)  # type: ignore[arg-type]
    assert (reusable(earlier, PLAIN) is earlier) is plain
    assert (reusable(earlier, RETRY_FAILED) is earlier) is retry_failed
    assert reusable(earlier, FORCE) is None
    assert reusable(earlier, BOTH) is None


def test_nothing_to_reuse() -> None:
    for policy in (PLAIN, FORCE, RETRY_FAILED, BOTH):
        assert reusable(None, policy) is None
