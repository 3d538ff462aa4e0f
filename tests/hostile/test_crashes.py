"""Crashes: kill -9 at random points and a full disk leave output and state consistent.

(The one kill -9 test of the suite: it subsumes the cron test that killed without
checking anything between kills.)

After every kill the journal passes SQLite's integrity check, the output holds no row
twice and none the journal lacks (the journal is written first); the run after the
last kill pays only for what no killed run journaled, and ends with one row per image.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import random
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from batch_ocr.run.journal.state import Journal
from batch_ocr.run.output.jsonl_writer import JsonlWriter
from tests.e2e_support import (
    demo_env,
    emulator_in_thread,
    emulator_process,
    make_images,
    read_rows,
    stats_of,
)
from tests.hostile.conftest import bounded_main

KILLS = 20
IMAGES = 120
CONCURRENCY = 2
ENOSPC = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _journal_files(state: Path) -> list[str]:
    """The ``file`` of every journaled row, after SQLite's own integrity check."""
    if not state.exists():
        return []
    with contextlib.closing(sqlite3.connect(state)) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return [json.loads(text)["file"] for (text,) in db.execute("SELECT row_json FROM files")]


def _assert_consistent(out: Path, state: Path) -> None:
    journaled = _journal_files(state)
    assert len(journaled) == len(set(journaled))
    if not out.exists():
        return
    *complete, last = out.read_text(encoding="utf-8").split("\n")
    if last:  # a line torn by the kill: the next start rewrites it from the journal
        with pytest.raises(ValueError):
            json.loads(last)
    files = [json.loads(line)["file"] for line in complete]
    assert len(files) == len(set(files)), "a row written twice"
    assert set(files) <= set(journaled), "a row the journal does not have"


def _wait_until_started(process: subprocess.Popen[str], timeout_s: float = 60.0) -> None:
    """Return once the run holds its lock and starts (its ``engine:`` line), however
    slow the machine: a kill timed from the spawn alone lands in the imports under load."""
    assert process.stderr is not None
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line or "batch-ocr: engine:" in line:
            return
    raise AssertionError("the run did not start in time")


def _batch_ocr(scans: Path, out: Path, url: str, concurrency: int = CONCURRENCY
               ) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "batch_ocr", str(scans), "-o", str(out), "--endpoint", url,
         "--concurrency", str(concurrency), "--timeout", "10"],
        env=demo_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )


@pytest.mark.slow
def test_kill_9_at_20_random_points_then_the_next_run_is_exactly_once(tmp_path: Path) -> None:
    scans = tmp_path / "scans"
    hashes = make_images(scans, IMAGES, seed=6)
    out = tmp_path / "out.jsonl"
    state = tmp_path / "out.jsonl.state.sqlite"
    rng = random.Random(6)
    progress = []
    with emulator_process("--latency-ms", "150", "--latency-jitter-ms", "50", "--seed", "6") as url:
        for kill in range(KILLS):
            if len(_journal_files(state)) > len(hashes) - 30:
                # New scans land in the folder (as in a cron job's), so that every kill
                # still finds work to interrupt however fast the machine is.
                hashes += make_images(scans / f"batch{kill:02d}", 40, seed=100 + kill)
            process = _batch_ocr(scans, out, url)
            # From "still importing" (one kill in four) through "mid-batch" to
            # "rewriting the output".
            if rng.random() < 0.25:
                time.sleep(rng.uniform(0.05, 0.6))
            else:
                _wait_until_started(process)
                time.sleep(rng.uniform(0.0, 1.2))
            process.kill()
            process.wait(10)
            assert process.stderr is not None
            process.stderr.close()
            _assert_consistent(out, state)
            progress.append(len(_journal_files(state)))
        journaled = _journal_files(state)
        mid_batch = sum(1 for done, before in zip(progress, [0, *progress[:-1]], strict=True)
                        if done > before)
        assert mid_batch >= KILLS // 4, progress  # most kills interrupt real work
        calls_before = stats_of(url)["calls"]
        # The last run is never killed: what is left (dozens of images at 150 ms each)
        # goes 8 at a time, the same resume at a quarter of the wait.
        final = _batch_ocr(scans, out, url, concurrency=8)
        _, err = final.communicate(timeout=60)
        stats = stats_of(url)
    assert final.returncode == 0, err
    # Exactly once: the last run paid for precisely what no killed run had journaled.
    assert stats["calls"] - calls_before == len(hashes) - len(journaled)
    rows = read_rows(out)
    assert len(rows) == len(hashes) == len({row["file"] for row in rows})
    assert set(stats["billable_per_sha256"]) == set(hashes)
    # Billed once per image, plus at most what was in flight at each kill.
    assert stats["billable"] <= len(hashes) + KILLS * CONCURRENCY
    # Paid twice only when a kill caught the answer in flight (never journaled).
    repaid = sum(count - 1 for count in stats["billable_per_sha256"].values())
    assert repaid <= KILLS * CONCURRENCY
    assert not (tmp_path / ".out.jsonl.tmp").exists()
    for path in (out, state):
        assert path.stat().st_mode & 0o777 == 0o600


# -- a full disk ------------------------------------------------------------------------------

def _writes_fail(monkeypatch: pytest.MonkeyPatch, *, after: int, times: int | None) -> None:
    """Row writes (streamed or rewritten) raise ENOSPC after ``after`` rows, ``times`` times
    (None: until the test ends, a disk that stays full)."""
    real_write = JsonlWriter.write_line  # where every row's line is written
    budget = {"ok": after, "failures": times}

    def write_line(self: JsonlWriter, line: str) -> None:
        if budget["ok"] > 0:
            budget["ok"] -= 1
            return real_write(self, line)
        if budget["failures"] is not None:
            if budget["failures"] <= 0:
                return real_write(self, line)
            budget["failures"] -= 1
        raise ENOSPC

    monkeypatch.setattr(JsonlWriter, "write_line", write_line)


def _run(scans: Path, out: Path, url: str) -> int:
    return bounded_main([str(scans), "-o", str(out), "--endpoint", url, "--concurrency", "2"])


def _assert_next_run_completes_exactly_once(scans: Path, out: Path, emulator: Any,
                                            hashes: list[str], in_flight: int) -> None:
    state = out.with_name(out.name + ".state.sqlite")
    journaled = _journal_files(state)
    calls_before = emulator.stats()["calls"]
    assert _run(scans, out, emulator.url) == 0
    stats = emulator.stats()
    assert stats["calls"] - calls_before == len(hashes) - len(journaled)
    rows = read_rows(out)
    assert len(rows) == len(hashes) == len({row["file"] for row in rows})
    assert set(stats["billable_per_sha256"]) == set(hashes)
    # Billed once per image, plus at most what was in flight at each kill.
    assert stats["billable"] <= len(hashes) + KILLS * CONCURRENCY
    assert sum(count - 1 for count in stats["billable_per_sha256"].values()) <= in_flight


def test_disk_full_once_mid_run_stops_cleanly_and_loses_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    scans = tmp_path / "scans"
    hashes = make_images(scans, 20, seed=8)
    out = tmp_path / "out.jsonl"
    with emulator_in_thread() as emulator:
        with monkeypatch.context() as patch:
            _writes_fail(patch, after=5, times=1)
            code = _run(scans, out, emulator.url)
        err = capsys.readouterr().err
        assert code == 3
        assert "fatal: cannot write the output or state: [Errno 28] No space left on device" in err
        assert "Traceback" not in err
        _assert_consistent(out, out.with_name(out.name + ".state.sqlite"))
        # The row whose write failed was journaled first: the output was made whole from it.
        assert len(read_rows(out)) == len(_journal_files(out.with_name(out.name + ".state.sqlite"))) >= 6
        _assert_next_run_completes_exactly_once(scans, out, emulator, hashes, in_flight=0)


def test_a_disk_that_stays_full_exits_3_with_one_message(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    scans = tmp_path / "scans"
    hashes = make_images(scans, 20, seed=9)
    out = tmp_path / "out.jsonl"
    with emulator_in_thread() as emulator:
        with monkeypatch.context() as patch:
            _writes_fail(patch, after=5, times=None)
            code = _run(scans, out, emulator.url)
        err = capsys.readouterr().err
        assert code == 3 and "fatal: cannot write the output or state" in err
        _assert_consistent(out, out.with_name(out.name + ".state.sqlite"))
        _assert_next_run_completes_exactly_once(scans, out, emulator, hashes, in_flight=0)


class _FullDiskConnection:
    """A journal connection whose INSERTs fail as SQLite fails on a full disk."""

    def __init__(self, db: sqlite3.Connection, budget: dict[str, int]) -> None:
        self._db = db
        self._budget = budget

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        if sql.startswith("INSERT"):
            if self._budget["ok"] <= 0:
                raise sqlite3.OperationalError("database or disk is full")
            self._budget["ok"] -= 1
        return self._db.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)


def test_a_full_disk_under_the_journal_stops_cleanly_instead_of_hanging(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    scans = tmp_path / "scans"
    hashes = make_images(scans, 30, seed=10)
    out = tmp_path / "out.jsonl"
    with emulator_in_thread() as emulator:
        with monkeypatch.context() as patch:
            budget = {"ok": 2 * 7}  # a page is two INSERTs: its rows, its engine's version
            patch.setattr(Journal, "_conn", property(
                lambda self: _FullDiskConnection(self._db, budget)))
            code = _run(scans, out, emulator.url)
        err = capsys.readouterr().err
        assert code == 3
        assert ("fatal: cannot write the output or state: [Errno 28] cannot write the state "
                "journal") in err and "database or disk is full" in err
        _assert_consistent(out, out.with_name(out.name + ".state.sqlite"))
        assert len(read_rows(out)) == len(_journal_files(out.with_name(out.name + ".state.sqlite"))) == 7
        # Answers that arrived while the journal could not take them are paid again: the
        # one whose write failed, those whose writes were queued behind it, and the calls
        # out at that moment. Together they are at most the images the API engine holds
        # at once, twice --concurrency (ApiEngine.images_in_flight): how many of the four
        # had answered when the journal failed depends on how fast the writer thread ran.
        _assert_next_run_completes_exactly_once(scans, out, emulator, hashes,
                                                in_flight=2 * CONCURRENCY)
