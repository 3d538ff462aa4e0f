"""Answers paid for a card before its page's rows exist (``paid_answers``, ``state``):
kept durably, recalled as the rerun flags allow, let go with the page's final rows, and
journals of the previous version still resume (docs/documents.md)."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from batch_ocr.engines.base import PaidAnswer
from batch_ocr.provider.models import CardData, CardInfo
from batch_ocr.run.journal.paid_answers import JournalAnswers
from batch_ocr.run.journal.resume import ResumePolicy, answers_done, decide_pages
from batch_ocr.run.journal.state import MIGRATIONS, FileStamp, Journal, JournalEntry, rows_to_json
from batch_ocr.run.present.rows import Row

T = TypeVar("T")


def _key(name: str) -> str:
    """A key as the API engine makes them: a crop's sha256."""
    return hashlib.sha256(name.encode()).hexdigest()

STAMP = FileStamp(size=100, mtime_ns=1)
FRONT = CardData(order_no="1", result=0, side="front", info=CardInfo(name="张三"),
                 validity={"name": True})  # fmt: skip
UNREAD = CardData(order_no="2", result=1, side="back", info=CardInfo(), validity={})


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    with Journal(tmp_path / "out.csv.state.sqlite") as opened:
        yield opened


async def _direct(call: Callable[[], T]) -> T:
    """The run's writer thread, in-line: these tests use one thread anyway."""
    return call()


def _keeper(journal: Journal, **policy: bool) -> JournalAnswers:
    return JournalAnswers(journal, "api", policy=ResumePolicy(**policy), in_writer=_direct,
                          dry_run=False)


def _row(card: int | None, status: str = "ok", error_code: str = "") -> Row:
    return Row(file="copy.png", status=status, side="front" if status == "ok" else "",  # type: ignore[arg-type]
               card=card, sha256="p1", engine="api", error_code=error_code)


def test_an_answer_kept_is_recalled_after_a_reopen(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    with Journal(state) as journal:
        assert not asyncio.run(_keeper(journal).holds_any())
        asyncio.run(_keeper(journal).keep(_key("crop1"), PaidAnswer(FRONT, attempts=2)))
    with Journal(state) as journal:
        keeper = _keeper(journal)
        assert asyncio.run(keeper.holds_any())
        assert asyncio.run(keeper.recall(_key("crop1"))) == PaidAnswer(FRONT, attempts=2)
        assert asyncio.run(keeper.recall(_key("crop2"))) is None
        # Another engine's answers are its own.
        other = JournalAnswers(journal, "local", policy=ResumePolicy(), in_writer=_direct,
                               dry_run=False)
        assert asyncio.run(other.recall(_key("crop1"))) is None


def test_the_rerun_flags_decide_what_is_recalled(journal: Journal) -> None:
    asyncio.run(_keeper(journal).keep(_key("front"), PaidAnswer(FRONT, 1)))
    asyncio.run(_keeper(journal).keep(_key("unread"), PaidAnswer(UNREAD, 1)))
    assert asyncio.run(_keeper(journal, force=True).recall(_key("front"))) is None
    assert not asyncio.run(_keeper(journal, force=True).holds_any())
    retry = _keeper(journal, retry_failed=True)
    assert asyncio.run(retry.recall(_key("front"))) == PaidAnswer(FRONT, 1)
    assert asyncio.run(retry.recall(_key("unread"))) is None  # scan_failed: --retry-failed redoes it
    assert asyncio.run(_keeper(journal).recall(_key("unread"))) == PaidAnswer(UNREAD, 1)


def test_a_dry_run_keeps_nothing(journal: Journal) -> None:
    dry = JournalAnswers(journal, "api", policy=ResumePolicy(), in_writer=_direct,
                         dry_run=True)
    asyncio.run(dry.keep(_key("crop1"), PaidAnswer(FRONT, 1)))
    assert not journal.holds_paid_answers("api")


def test_a_keep_that_cannot_be_written_stops_the_run(journal: Journal) -> None:
    from batch_ocr.errors import OutputError

    behind = sqlite3.connect(journal.path, isolation_level=None)
    behind.execute("DROP TABLE paid_answers")  # any sqlite3 error on write
    behind.close()
    with pytest.raises(OutputError, match="cannot write the output or state"):
        asyncio.run(_keeper(journal).keep(_key("crop1"), PaidAnswer(FRONT, 1)))


def test_a_page_lets_its_answers_go_only_when_no_run_will_redo_a_row(
        journal: Journal, tmp_path: Path) -> None:
    for key in ("c1", "c2", "other"):
        journal.keep_paid_answer("api", key, FRONT.model_dump_json(), 1)
    partial = [_row(1), _row(2, "error", "500")]
    assert answers_done(("c1", "c2"), partial) == ()
    refused = [_row(1), _row(2, "error", "400")]
    assert answers_done(("c1", "c2"), refused) == ()  # --retry-failed would redo card 2
    whole = [Row(file="copy.png", status="ok", side="both", sha256="p1", engine="api")]
    assert answers_done(("c1", "c2"), whole) == ("c1", "c2")
    journal.record(tmp_path / "copy.png", STAMP, whole, retryable=False,
                   answers_done=answers_done(("c1", "c2"), whole))
    assert journal.paid_answer("api", "c1") is None and journal.paid_answer("api", "c2") is None
    assert journal.paid_answer("api", "other") is not None


def test_a_page_with_a_failed_card_is_journaled_as_failed(journal: Journal,
                                                          tmp_path: Path) -> None:
    page = tmp_path / "copy.png"
    journal.record(page, STAMP, [_row(1), _row(2, "error", "400")], retryable=False)
    entries = journal.entries_if_unchanged(page, STAMP)
    assert entries == [JournalEntry(status="error", retryable=False, sha256="p1", engine="api")]
    assert [r.card for r in journal.rows()] == [1, 2]
    assert journal.count_by_status() == {"ok": 1, "error": 1}  # what the output holds
    assert decide_pages(entries, ResumePolicy()).value == "skip"  # final, as for a file
    assert decide_pages(entries, ResumePolicy(retry_failed=True)).value == "process"
    # A transient failure is retried by the next run whatever the flags.
    journal.record(page, STAMP, [_row(1), _row(2, "error", "500")], retryable=True)
    assert decide_pages(journal.entries_if_unchanged(page, STAMP), ResumePolicy()).value == (
        "process")


def test_a_journal_of_the_previous_version_resumes_and_gains_the_table(tmp_path: Path) -> None:
    state = tmp_path / "out.csv.state.sqlite"
    db = sqlite3.connect(state)
    db.executescript(MIGRATIONS[0] + MIGRATIONS[1] + "PRAGMA user_version = 2;")
    cards = [Row(file="four.png", status="ok", side=side, card=n, sha256="bb" * 32,
                 engine="api", page=None)
             for n, side in ((1, "front"), (2, "back"), (3, "front"))]  # fmt: skip
    db.execute("INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
               (bytes(tmp_path / "four.png"), 0, 1, "four.png", 100, 1, "bb" * 32, "ok", 0,
                rows_to_json(cards), 0.0))  # fmt: skip
    db.commit()
    db.close()

    with Journal(state) as journal:
        entries = journal.entries_if_unchanged(tmp_path / "four.png", STAMP)
        # No version is known (recorded before versions were kept): its rows name the engine.
        assert entries == [JournalEntry(status="ok", retryable=False, sha256="bb" * 32,
                                        engine="api", engine_version="")]
        assert decide_pages(entries, ResumePolicy(retry_failed=True)).value == "skip"
        assert list(journal.rows()) == cards
        assert journal.final_rows_for_content("bb" * 32) == cards
        assert not journal.holds_paid_answers("api")
        journal.keep_paid_answer("api", "c1", FRONT.model_dump_json(), 1)
    with sqlite3.connect(state) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) == 5


def test_the_previous_version_still_opens_a_journal_with_kept_answers(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    state = tmp_path / "out.csv.state.sqlite"
    with Journal(state) as journal:
        journal.record(tmp_path / "a.jpg", STAMP, _row(None), retryable=False)
        journal.keep_paid_answer("api", "c1", FRONT.model_dump_json(), 1)
    from batch_ocr.run.journal import state as state_module

    monkeypatch.setattr(state_module, "MIGRATIONS", MIGRATIONS[:2])  # what it knows
    with Journal(state) as journal:
        assert [r.file for r in journal.rows()] == ["copy.png"]
        journal.record(tmp_path / "b.jpg", STAMP, _row(None), retryable=False)


def test_a_run_that_started_with_no_answer_asks_the_journal_only_about_its_own(
        journal: Journal) -> None:
    trips: list[str] = []

    async def counted(call: Callable[[], T]) -> T:
        trips.append("writer")
        return call()

    keeper = JournalAnswers(journal, "api", policy=ResumePolicy(), in_writer=counted,
                            dry_run=False)
    key = "ab" * 32  # the engine's keys are sha256 digests
    assert asyncio.run(keeper.recall(key)) is None
    assert asyncio.run(keeper.recall("cd" * 32)) is None
    assert len(trips) == 1  # "does the journal hold any?", asked once
    asyncio.run(keeper.keep(key, PaidAnswer(FRONT, 1)))
    assert asyncio.run(keeper.recall(key)) == PaidAnswer(FRONT, 1)


def test_answers_and_version_are_journaled_under_the_engine_that_read_the_page(journal: Journal,
                                                            tmp_path: Path) -> None:
    # Hybrid keeps its answers as "hybrid"; its rows say "api" or "local".
    journal.keep_paid_answer("hybrid", "c1", FRONT.model_dump_json(), 1)
    rows = [Row(file="copy.png", status="ok", side="both", sha256="p1", engine="api")]
    journal.record(tmp_path / "copy.png", STAMP, rows, retryable=False, answers_done=("c1",),
                   engine="hybrid", engine_version="1")
    assert journal.paid_answer("hybrid", "c1") is None
    # Its version is the run's engine's, so --redo-engine-older-than finds its pages.
    [entry] = journal.entries_if_unchanged(tmp_path / "copy.png", STAMP) or []
    assert (entry.engine, entry.engine_version) == ("hybrid", "1")
