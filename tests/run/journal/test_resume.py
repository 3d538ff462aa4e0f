"""Rerun decisions (``batch_ocr/run/journal/resume.py``): docs/resume.md, as a table."""

from __future__ import annotations

import pytest

from batch_ocr.run.journal.resume import (
    FileDecision,
    RedoOlder,
    ResumePolicy,
    decide_file,
    reusable,
    reusable_record,
)
from batch_ocr.run.journal.state import JournalEntry, RecordedRows
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


# -- --redo-engine-older-than (docs/resume.md) ----------------------------

REDO_2 = ResumePolicy(redo_older=RedoOlder("local", "2"))


@pytest.mark.parametrize(("engine", "version", "stale"), [
    ("local", "1", True),
    ("local", "1.9", True),
    ("local", "", True),  # recorded before versions were kept: older than any
    ("local", "2", False),
    ("local", "2.0", False),  # (2, 0) is not older than (2,)
    ("local", "10", False),  # numbers, not text: 10 is newer than 2
    ("local", "2b", False),  # not a version this one knows: never taken for older
    ("api", "1", False),  # another engine's page is not this engine's to judge
    ("", "", False),  # refused before any engine read it
])
def test_only_pages_an_older_version_of_the_engine_recorded_are_redone(
        engine: str, version: str, stale: bool) -> None:
    entry = JournalEntry("ok", False, "a" * 64, engine=engine, engine_version=version)
    assert REDO_2.stale(engine, version) is stale
    assert decide_file(entry, REDO_2) is (FileDecision.PROCESS if stale else FileDecision.SKIP)
    assert decide_file(entry, ResumePolicy()) is FileDecision.SKIP


def test_an_older_content_is_passed_over_for_a_newer_one() -> None:
    row = Row(file="a.jpg", status="ok", side="front", engine="local")
    older, newer = RecordedRows([row], "1"), RecordedRows([row], "2")
    assert reusable_record([older], REDO_2) == (None, True)
    assert reusable_record([older, newer], REDO_2) == (newer, False)
    assert reusable_record([older], ResumePolicy()) == (older, False)
    failed = RecordedRows([Row(file="a.jpg", status="scan_failed", engine="local")], "1")
    # Passed over for --retry-failed, not for its version: no re-read to count.
    assert reusable_record([failed], ResumePolicy(retry_failed=True,
                                                  redo_older=RedoOlder("local", "2"))) == (
        None, False)


def test_a_redo_version_must_be_a_version() -> None:
    with pytest.raises(ValueError, match="not an engine version"):
        RedoOlder("local", "two")
