"""The state journal (``batch_ocr/run/journal/state.py``): the lock, the round trip, reuse, modes,
pages as rows, and journals of older versions."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from batch_ocr.errors import RunLockedError
from batch_ocr.run.journal.locks import default_state_path
from batch_ocr.run.journal.state import (
    MIGRATIONS,
    MISSING_STAMP,
    FileStamp,
    Journal,
    JournalEntry,
    RecordedRows,
    rows_to_json,
)
from batch_ocr.run.present.rows import Row

SHA = "ab" * 32


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def open_umask() -> Iterator[None]:
    """A permissive umask, as on most desktops: SQLite would create files 0644."""
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    with Journal(tmp_path / "out.csv.state.sqlite") as opened:
        yield opened


def full_row(file: str = "sub/张三.jpg", status: str = "ok", sha256: str = SHA) -> Row:
    return Row(
        file=file, status=status, side="front", name="张三", sex="男", nation="汉",  # type: ignore[arg-type]
        birth_date="1990-10-09", address="北京市东城区", id_number="11010119901009001X",
        authority="", valid_from="", valid_to="", invalid_fields=["address"],
        order_no="ord-1", portrait_url="https://x/p.jpg", error_code="", error_message="",
        attempts=2, sha256=sha256, fitted=True, engine="api", checks=["id_checksum"],
        portrait_file="/p/张三.jpg", portrait_error="",
        validity={"name": True, "address": False},
    )


def test_default_state_path() -> None:
    assert default_state_path(Path("out/results.csv")) == Path("out/results.csv.state.sqlite")


def test_a_second_journal_on_the_same_path_is_locked_out(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    with Journal(path):
        second = Journal(path)
        with pytest.raises(RunLockedError, match="another batch-ocr run is using"):
            second.open()
    # Released on close: the next run gets in.
    with Journal(path) as again:
        assert list(again.rows()) == []


def test_record_and_read_back_every_field(journal: Journal, tmp_path: Path) -> None:
    image = tmp_path / "sub" / "张三.jpg"
    stamp = FileStamp(size=1234, mtime_ns=5678)
    row = full_row()
    journal.record(image, stamp, row, retryable=False, engine_version="2.1")

    assert journal.entries_if_unchanged(image, stamp) == [
        JournalEntry("ok", False, SHA, engine="api", engine_version="2.1")]
    assert journal.final_row_for_content(SHA) == row
    assert list(journal.rows()) == [row]


def test_a_changed_stamp_is_not_found(journal: Journal, tmp_path: Path) -> None:
    image = tmp_path / "a.jpg"
    journal.record(image, FileStamp(10, 20), full_row("a.jpg"), retryable=False)
    assert journal.entries_if_unchanged(image, FileStamp(11, 20)) is None
    assert journal.entries_if_unchanged(image, FileStamp(10, 21)) is None
    assert journal.entries_if_unchanged(image, MISSING_STAMP) is None
    assert journal.entries_if_unchanged(tmp_path / "other.jpg", FileStamp(10, 20)) is None


def test_a_path_is_one_row_replaced_by_its_latest_outcome(journal: Journal,
                                                          tmp_path: Path) -> None:
    image = tmp_path / "a.jpg"
    journal.record(image, FileStamp(1, 1), Row(file="a.jpg", status="error", error_code="503",
                                                sha256=SHA), retryable=True)
    journal.record(image, FileStamp(1, 1), full_row("a.jpg"), retryable=False)
    assert [row.status for row in journal.rows()] == ["ok"]
    assert journal.entries_if_unchanged(image, FileStamp(1, 1)) == [
        JournalEntry("ok", False, SHA, engine="api")]


def test_retryable_and_rejected_rows_are_not_reused(journal: Journal, tmp_path: Path) -> None:
    transient = Row(file="a.jpg", status="error", error_code="timeout", sha256=SHA)
    journal.record(tmp_path / "a.jpg", FileStamp(1, 1), transient, retryable=True)
    assert journal.final_row_for_content(SHA) is None
    entries = journal.entries_if_unchanged(tmp_path / "a.jpg", FileStamp(1, 1))
    assert entries == [JournalEntry("error", True, SHA)]

    other = "cd" * 32
    rejected = Row(file="b.jpg", status="rejected", error_code="corrupt_image", sha256=other)
    journal.record(tmp_path / "b.jpg", FileStamp(1, 1), rejected, retryable=False)
    assert journal.final_row_for_content(other) is None

    permanent = Row(file="c.jpg", status="error", error_code="400", sha256=other)
    journal.record(tmp_path / "c.jpg", FileStamp(1, 1), permanent, retryable=False)
    assert journal.final_row_for_content(other) == permanent


def test_content_is_found_under_any_name(journal: Journal, tmp_path: Path) -> None:
    journal.record(tmp_path / "old/name.jpg", FileStamp(1, 1), full_row("old/name.jpg"),
                   retryable=False)
    found = journal.final_row_for_content(SHA)
    assert found is not None and found.file == "old/name.jpg"
    assert journal.final_row_for_content("ef" * 32) is None


def test_rows_come_ordered_by_file(journal: Journal, tmp_path: Path) -> None:
    for name in ("b.jpg", "a/z.jpg", "c.jpg", "a.jpg"):
        journal.record(tmp_path / name, FileStamp(1, 1), Row(file=name, status="ok"),
                       retryable=False)
    assert [row.file for row in journal.rows()] == ["a.jpg", "a/z.jpg", "b.jpg", "c.jpg"]


def test_rows_survive_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    with Journal(path) as journal:
        journal.record(tmp_path / "a.jpg", FileStamp(3, 4), full_row("a.jpg"), retryable=False)
    with Journal(path) as journal:
        assert list(journal.rows()) == [full_row("a.jpg")]
        assert journal.entries_if_unchanged(tmp_path / "a.jpg", FileStamp(3, 4)) is not None


def test_unknown_keys_from_a_newer_version_are_dropped(journal: Journal, tmp_path: Path) -> None:
    journal.record(tmp_path / "a.jpg", FileStamp(1, 1), Row(file="a.jpg", status="ok"),
                   retryable=False)
    behind = sqlite3.connect(journal.path, isolation_level=None)  # a newer version's row
    behind.execute("""UPDATE files SET row_json = '{"file": "a.jpg", "status": "ok", "new": 1}'""")
    behind.close()
    assert list(journal.rows()) == [Row(file="a.jpg", status="ok")]


def test_invalid_fields_of_an_earlier_version_read_as_columns(journal: Journal,
                                                               tmp_path: Path) -> None:
    """Earlier versions journaled the provider's names (``timelimit``): the output
    rebuilt from the journal names the columns, as new rows do (docs/reference.md, "Output columns")."""
    path = tmp_path / "back.jpg"
    path.write_bytes(b"x")
    older = Row(file="back.jpg", status="ok", side="back", sha256=SHA,
                invalid_fields=["timelimit", "authority"])
    journal.record(path, FileStamp.of(path), [older, older], retryable=False)
    assert [row.invalid_fields for row in journal.rows()] == [
        ["authority", "valid_from", "valid_to"]] * 2
    assert journal.final_row_for_content(SHA).invalid_fields == [  # type: ignore[union-attr]
        "authority", "valid_from", "valid_to"]


def test_the_journal_and_its_companions_are_0600(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    with Journal(path) as journal:
        journal.record(tmp_path / "a.jpg", FileStamp(1, 1), full_row("a.jpg"), retryable=False)
        wal = path.with_name(path.name + "-wal")
        shm = path.with_name(path.name + "-shm")
        assert wal.exists() and shm.exists()
        assert {p.name: mode(p) for p in (path, wal, shm)} == {
            path.name: 0o600, wal.name: 0o600, shm.name: 0o600}
        assert mode(path.with_name(path.name + ".lock")) == 0o600


def test_an_existing_open_journal_is_tightened(tmp_path: Path) -> None:
    """A journal left 0644 (older version, backup restore) is made 0600, WAL files too."""
    path = tmp_path / "state.sqlite"
    other = sqlite3.connect(path, isolation_level=None)  # holds the WAL files open
    try:
        other.execute("PRAGMA journal_mode=WAL")
        other.execute("CREATE TABLE unrelated (x)")
        other.execute("INSERT INTO unrelated VALUES (1)")
        companions = [path.with_name(path.name + s) for s in ("-wal", "-shm")]
        for file in (path, *companions):
            file.chmod(0o644)
        with Journal(path):
            assert [mode(p) for p in (path, *companions)] == [0o600] * 3
    finally:
        other.close()


def test_a_write_failure_is_an_os_error(journal: Journal, tmp_path: Path) -> None:
    behind = sqlite3.connect(journal.path, isolation_level=None)
    behind.execute("DROP TABLE files")  # any sqlite3 error on write
    behind.close()
    with pytest.raises(OSError, match="cannot write the state journal"):
        journal.record(tmp_path / "a.jpg", FileStamp(1, 1), full_row("a.jpg"), retryable=False)


def test_file_stamp_of_missing_and_dangling_paths(tmp_path: Path) -> None:
    assert FileStamp.of(tmp_path / "absent") == MISSING_STAMP
    link = tmp_path / "dangling"
    link.symlink_to(tmp_path / "nowhere")
    stamp = FileStamp.of(link)
    assert stamp != MISSING_STAMP and stamp.size == len(str(tmp_path / "nowhere"))


def test_a_journal_written_from_another_thread_is_read_in_this_one(journal: Journal,
                                                                    tmp_path: Path) -> None:
    """A run journals from its writer thread and rebuilds the output from the main one."""
    with ThreadPoolExecutor(max_workers=1) as writer:
        writer.submit(journal.record, tmp_path / "a.jpg", FileStamp(1, 1), full_row("a.jpg"),
                      retryable=False).result()
    assert list(journal.rows()) == [full_row("a.jpg")]


# -- pages (docs/documents.md) and older journals ----------------------------------

STAMP = FileStamp(size=100, mtime_ns=1)
GROWN = FileStamp(size=150, mtime_ns=2)


def page_row(page: int | None, sha: str, status: str = "ok") -> Row:
    return Row(file="daily.pdf", status=status, side="front", sha256=sha, page=page)  # type: ignore[arg-type]


def test_a_journal_of_the_first_version_keeps_working(tmp_path: Path) -> None:
    state = tmp_path / "out.csv.state.sqlite"
    db = sqlite3.connect(state)
    db.executescript(MIGRATIONS[0] + "PRAGMA user_version = 1;")
    old_row = Row(file="a.jpg", status="ok", side="back", sha256="aa" * 32).to_dict()
    del old_row["page"]  # written before pages existed
    db.execute("INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
               (bytes(tmp_path / "a.jpg"), "a.jpg", 100, 1, "aa" * 32, "ok", 0,
                json.dumps(old_row), 0.0))
    db.commit()
    db.close()

    with Journal(state) as journal:
        assert journal.entries_if_unchanged(tmp_path / "a.jpg", STAMP) == [
            JournalEntry(status="ok", retryable=False, sha256="aa" * 32, page=0)]
        assert journal.entries_if_unchanged(tmp_path / "a.jpg", GROWN) is None
        (row,) = journal.rows()
        assert (row.file, row.side, row.page) == ("a.jpg", "back", None)
        assert journal.final_row_for_content("aa" * 32) == row
    with sqlite3.connect(state) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)


def test_a_file_is_done_only_when_every_page_of_its_version_is_recorded(tmp_path: Path) -> None:
    pdf = tmp_path / "daily.pdf"
    with Journal(tmp_path / "state.sqlite") as journal:
        journal.record(pdf, STAMP, page_row(1, "p1"), retryable=False, page_count=2)
        assert journal.entries_if_unchanged(pdf, STAMP) is None  # killed before page 2
        journal.record(pdf, STAMP, page_row(2, "p2"), retryable=False, page_count=2)
        entries = journal.entries_if_unchanged(pdf, STAMP)
        assert entries is not None and [e.page for e in entries] == [1, 2]
        assert [r.page for r in journal.rows()] == [1, 2]


def test_a_grown_file_is_done_once_every_page_of_the_new_version_is_recorded(
    tmp_path: Path,
) -> None:
    pdf = tmp_path / "daily.pdf"
    with Journal(tmp_path / "state.sqlite") as journal:
        for page in (1, 2):
            journal.record(pdf, STAMP, page_row(page, f"p{page}"), retryable=False, page_count=2)
        assert journal.entries_if_unchanged(pdf, GROWN) is None
        # The run finds pages 1 and 2 by content (no call) and records them again.
        for page in (1, 2):
            journal.record(pdf, GROWN, page_row(page, f"p{page}"), retryable=False, page_count=3)
        assert journal.entries_if_unchanged(pdf, GROWN) is None  # page 3 still to do
        journal.record(pdf, GROWN, page_row(3, "p3"), retryable=False, page_count=3)
        entries = journal.entries_if_unchanged(pdf, GROWN)
        assert entries is not None and [e.sha256 for e in entries] == ["p1", "p2", "p3"]


def test_pages_that_are_gone_leave_the_journal(tmp_path: Path) -> None:
    pdf = tmp_path / "daily.pdf"
    with Journal(tmp_path / "state.sqlite") as journal:
        for page in (1, 2, 3):
            journal.record(pdf, STAMP, page_row(page, f"p{page}"), retryable=False, page_count=3)
        # Shorter now: page 3 is gone as soon as the new version's first page is recorded.
        journal.record(pdf, GROWN, page_row(1, "p1"), retryable=False, page_count=2)
        assert [r.page for r in journal.rows()] == [1, 2]
        # Then refused whole (damaged): one row for the file, no page rows left.
        journal.record(pdf, GROWN, page_row(None, "", status="rejected"), retryable=False)
        assert [(r.page, r.status) for r in journal.rows()] == [(None, "rejected")]
        # And pages again: the whole-file row goes.
        journal.record(pdf, STAMP, page_row(1, "p1"), retryable=False, page_count=1)
        assert [r.page for r in journal.rows()] == [1]


def test_the_same_page_content_is_found_by_its_sha256(tmp_path: Path) -> None:
    with Journal(tmp_path / "state.sqlite") as journal:
        journal.record(tmp_path / "a.pdf", STAMP, page_row(2, "same"), retryable=False,
                       page_count=2)
        found = journal.final_row_for_content("same")
        assert found is not None and found.page == 2


def test_each_page_keeps_its_engine_version_and_an_earlier_version_s_rewrite_forgets_it(
        tmp_path: Path) -> None:
    """The version sits in a table of its own: an earlier batch-ocr, which knows only
    ``files``, still records pages (whole ``files`` rows), and a page it recorded again
    has no known version: it counts as older than any (docs/resume.md)."""
    state = tmp_path / "out.csv.state.sqlite"
    image = tmp_path / "a.jpg"
    with Journal(state) as journal:
        journal.record(image, STAMP, full_row("a.jpg"), retryable=False, engine_version="3")
        assert journal.final_records_for_content(SHA) == [RecordedRows([full_row("a.jpg")], "3", "api")]
    db = sqlite3.connect(state)  # an earlier version recording the page again
    db.execute("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
               (os.fsencode(image.absolute()), 0, 1, "a.jpg", STAMP.size, STAMP.mtime_ns, SHA,
                "ok", 0, rows_to_json([full_row("a.jpg")]), 1.0))
    db.commit()
    db.close()
    with Journal(state) as journal:
        assert journal.entries_if_unchanged(image, STAMP) == [
            JournalEntry("ok", False, SHA, engine="api", engine_version="")]
        assert journal.final_records_for_content(SHA) == [RecordedRows([full_row("a.jpg")], "")]


def test_many_files_are_looked_up_together_each_as_alone(journal: Journal,
                                                         tmp_path: Path) -> None:
    """A rerun looks files up a stretch at a time: more than one query's worth of paths,
    in the walk's order, each answered as its own look-up would be."""
    paths = [tmp_path / f"{index:04d}.jpg" for index in range(1_203)]
    for index, path in enumerate(paths):
        if index % 3:  # every third file is new
            journal.record(path, FileStamp(index, 7), full_row(path.name), retryable=False)
    stamped = [(path, FileStamp(index + (index % 5 == 1), 7))  # some have changed since
               for index, path in enumerate(paths)]

    together = journal.entries_if_unchanged_of(stamped)

    assert together == [journal.entries_if_unchanged(path, stamp) for path, stamp in stamped]
    found = [entries is not None for entries in together]
    assert found == [bool(index % 3) and index % 5 != 1 for index in range(len(paths))]
