"""``preflight``: trying every path before the run changes nothing that is there."""

from __future__ import annotations

from pathlib import Path

import pytest

from batch_ocr.errors import OutputError
from batch_ocr.run.preflight import PlannedPath, check_all


def test_checks_leave_existing_files_untouched_and_no_probe_behind(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    out.write_text("file,status\r\na.jpg,ok\r\n")
    out.chmod(0o600)
    before = (out.read_bytes(), out.stat().st_mtime_ns)

    check_all([PlannedPath(out, "the output"),
               PlannedPath(tmp_path / "new" / "deeper" / "s.json", "the summary JSON"),
               PlannedPath(tmp_path / "portraits", "the portraits folder", folder=True)])

    assert (out.read_bytes(), out.stat().st_mtime_ns) == before
    assert sorted(p.name for p in tmp_path.rglob("*")) == [
        "deeper", "new", "out.csv", "portraits"]  # folders made, no probe, no file


def test_the_first_unusable_path_is_named(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    with pytest.raises(OutputError, match="^cannot write the review page .*taken: it is a "
                       "folder$"):
        check_all([PlannedPath(tmp_path / "ok.csv", "the output"),
                   PlannedPath(tmp_path / "taken", "the review page")])
