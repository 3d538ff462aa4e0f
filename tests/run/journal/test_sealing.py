"""Personal data at rest: the journal's fields sealed with a key (``sealing``), and
dropped from old rows (``forget``); docs/security.md."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from batch_ocr.run.journal.forget import FORGOTTEN, forget_older_than
from batch_ocr.run.journal.sealing import JournalKeyError
from batch_ocr.run.journal.state import FileStamp, Journal
from batch_ocr.run.present.rows import Row

KEY = "correct horse battery staple"
NAME, NUMBER, ADDRESS = "张三丰", "11010519491231002X", "北京市东城区景山前街4号"
STAMP = FileStamp(size=10, mtime_ns=1)


def person(file: str = "a.jpg", sha256: str = "a" * 64, card: int | None = None) -> Row:
    return Row(file=file, status="ok", side="front", name=NAME, id_number=NUMBER,
               address=ADDRESS, sha256=sha256, engine="api", attempts=1,
               order_no="1234", portrait_file="faces/a.jpg", card=card)


def on_disk(path: Path) -> bytes:
    """Every byte the journal holds on disk, its write-ahead log included."""
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*")
                    if not p.name.endswith(".lock"))


def holds_fields(path: Path) -> bool:
    raw = on_disk(path)
    return any(text.encode() in raw for text in (NAME, NUMBER, ADDRESS))


def test_with_a_key_rows_and_answers_are_sealed_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    with Journal(path, key=KEY) as journal:
        journal.record(tmp_path / "a.jpg", STAMP, person(), retryable=False)
        journal.record(tmp_path / "p.pdf", STAMP, [person("p.pdf", "b" * 64, 1),
                                                   person("p.pdf", "b" * 64, 2)],
                       retryable=False)
        journal.keep_paid_answer("api", "k1", f'{{"name": "{NAME}"}}', 1)
        assert not holds_fields(path)
    assert not holds_fields(path)
    with Journal(path, key=KEY) as journal:
        assert [row.name for row in journal.rows()] == [NAME] * 3
        assert journal.final_rows_for_content("a" * 64) == [person()]
        assert journal.paid_answer("api", "k1") == (f'{{"name": "{NAME}"}}', 1)
        assert journal.count_by_status() == {"ok": 3}
        assert KEY not in repr(journal.__dict__)


def test_without_the_key_a_sealed_journal_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    with Journal(path, key=KEY) as journal:
        journal.record(tmp_path / "a.jpg", STAMP, person(), retryable=False)
    with pytest.raises(JournalKeyError) as missing:
        Journal(path).open()
    assert str(missing.value) == (
        f"the state journal {path} holds encrypted fields: set BATCH_OCR_JOURNAL_KEY in the "
        "environment (or journal_key in the config file) to read it")
    with pytest.raises(JournalKeyError) as wrong:
        Journal(path, key="not " + KEY).open()
    assert "cannot be read with this journal_key" in str(wrong.value)
    assert KEY not in str(wrong.value)
    with Journal(path, key=KEY) as journal:  # the lock was let go each time
        assert journal.page_count() == 1


def test_a_key_given_later_seals_what_the_journal_held_in_clear(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    with Journal(path) as journal:
        journal.record(tmp_path / "a.jpg", STAMP, person(), retryable=False)
        journal.keep_paid_answer("api", "k1", f'{{"name": "{NAME}"}}', 1)
    assert holds_fields(path)
    with Journal(path, key=KEY) as journal:
        assert [row.name for row in journal.rows()] == [NAME]
    assert not holds_fields(path)  # nor left behind in freed pages or the log


@pytest.mark.parametrize("key", [None, KEY])
def test_forget_drops_old_fields_and_keeps_what_exactly_once_needs(
        tmp_path: Path, key: str | None) -> None:
    path = tmp_path / "state.sqlite"
    with Journal(path, key=key) as journal:
        journal.record(tmp_path / "old.jpg", STAMP, person("old.jpg"), retryable=False)
        journal.record(tmp_path / "p.pdf", STAMP, [person("p.pdf", "b" * 64, 1),
                                                   person("p.pdf", "b" * 64, 2)],
                       retryable=False)
        journal.keep_paid_answer("api", "k1", f'{{"name": "{NAME}"}}', 1)
        for table in ("files", "paid_answers"):  # all that, 40 days ago
            journal.connection().execute(f"UPDATE {table} SET updated_at = ?",
                                         (time.time() - 40 * 86400,))
        journal.record(tmp_path / "new.jpg", STAMP, person("new.jpg", "c" * 64),
                       retryable=False)
        done = forget_older_than(journal, 30)
        assert (done.rows, done.kept, done.answers) == (2, 1, 1)
        done = forget_older_than(journal, 0)  # everything, the newest row too
        assert done.rows == 1 and done.kept == 0
        rows = list(journal.rows())
        # Still done: same stamp, same statuses, found by content.
        assert journal.entries_if_unchanged(tmp_path / "old.jpg", STAMP) is not None
        assert journal.final_rows_for_content("b" * 64) is not None
        assert journal.count_by_status() == {"ok": 4}
    assert not holds_fields(path)
    assert [(row.file, row.card, row.status, row.error_code) for row in rows] == [
        ("new.jpg", None, "ok", FORGOTTEN), ("old.jpg", None, "ok", FORGOTTEN),
        ("p.pdf", 1, "ok", FORGOTTEN), ("p.pdf", 2, "ok", FORGOTTEN)]
    assert all((row.name, row.id_number, row.address, row.order_no, row.portrait_file)
               == ("", "", "", "", "") for row in rows)
    assert rows[0].error_message == ("fields dropped from the state journal after 0 days "
                                     "(batch-ocr-forget)")


def test_a_refused_file_has_nothing_to_forget(tmp_path: Path) -> None:
    refused = Row(file="x.jpg", status="rejected", error_code="empty_file",
                  error_message="the file is empty (0 bytes)")
    with Journal(tmp_path / "state.sqlite") as journal:
        journal.record(tmp_path / "x.jpg", STAMP, refused, retryable=False)
        assert forget_older_than(journal, 0).rows == 0
        assert list(journal.rows()) == [refused]
