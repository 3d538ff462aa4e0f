"""The status table (``batch_ocr/statuses.py``): clean, final, retried, redone."""

from __future__ import annotations

import pytest

from batch_ocr import statuses


@pytest.mark.parametrize(
    ("status", "clean", "final", "redone"),
    [
        ("ok", True, True, False),
        ("not_id_card", True, True, False),
        ("scan_failed", True, True, True),
        ("rejected", False, False, True),
        ("error", False, True, True),
    ],
)
def test_status_table(status: str, clean: bool, final: bool, redone: bool) -> None:
    assert statuses.is_clean(status) is clean
    assert (status in statuses.FINAL_STATUSES) is final
    assert statuses.redone_by_retry_failed(status) is redone


def test_every_status_is_in_the_table() -> None:
    assert set(statuses.STATUSES) == {"ok", "not_id_card", "scan_failed", "rejected", "error"}
    assert not statuses.is_clean("unknown")
    assert not statuses.redone_by_retry_failed("unknown")


@pytest.mark.parametrize(
    "code",
    ["408", "429", "500", "501", "502", "503", "504", "timeout", "connection_error",
     "file_vanished", "unreadable", "local_worker_died", "internal_error"],
)
def test_transient_codes_are_retried_by_the_next_run(code: str) -> None:
    assert statuses.retry_next_run("error", code)
    assert statuses.retry_next_run("rejected", code)
    # A clean row is never retried, whatever code it carries.
    assert not statuses.retry_next_run("ok", code)
    assert not statuses.retry_next_run("scan_failed", code)


@pytest.mark.parametrize(
    "code",
    ["400", "401", "403", "404", "413", "unsupported_format", "corrupt_image", "file_too_large",
     "empty_file", "bad_dimensions", "cannot_fit", "symlink_outside", ""],
)
def test_permanent_codes_are_not_retried_by_the_next_run(code: str) -> None:
    assert not statuses.retry_next_run("error", code)
    assert not statuses.retry_next_run("rejected", code)
