"""Cron-grade runs (issue 4): resume, never pay twice, never lose a row."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from batch_ocr.cli import main
from tests.e2e_support import (
    demo_env,
    emulator_in_thread,
    emulator_process,
    make_images,
    read_rows,
    stats_of,
)
from tests.pictures import marked

pytestmark = pytest.mark.usefixtures("demo_keys")


def run(scans: Path, out: Path, url: str, *extra: str) -> int:
    return main([str(scans), "-o", str(out), "--endpoint", url, *extra])


def test_rerun_sends_nothing_and_new_files_are_appended(tmp_path: Path) -> None:
    scans = tmp_path / "scans"
    make_images(scans, 20)
    out = tmp_path / "out.csv"
    with emulator_in_thread() as emulator:
        assert run(scans, out, emulator.url) == 0
        assert emulator.stats()["calls"] == 20
        first = out.read_bytes()
        assert run(scans, out, emulator.url) == 0
        assert emulator.stats()["calls"] == 20
        assert out.read_bytes() == first
        make_images(scans / "new", 3, seed=1)
        assert run(scans, out, emulator.url) == 0
        assert emulator.stats()["calls"] == 23
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) == 1 + 23
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    state = tmp_path / "out.csv.state.sqlite"
    assert oct(state.stat().st_mode & 0o777) == "0o600"


def test_changed_content_is_sent_again_and_its_row_replaced(tmp_path: Path) -> None:
    scans = tmp_path / "scans"
    make_images(scans, 3)
    out = tmp_path / "out.jsonl"
    with emulator_in_thread() as emulator:
        assert run(scans, out, emulator.url) == 0
        marked((300, 200), "red", "changed").save(scans / "img_00001.jpg")
        assert run(scans, out, emulator.url) == 0
        assert emulator.stats()["calls"] == 4
    rows = read_rows(out)
    assert Counter(row["file"] for row in rows) == Counter(
        ["img_00000.jpg", "img_00001.jpg", "img_00002.jpg"])
    changed = next(row for row in rows if row["file"] == "img_00001.jpg")
    assert all(row["confidence"] == {} for row in rows)  # the API gives no confidence
    assert changed["sha256"] == __import__("hashlib").sha256(
        (scans / "img_00001.jpg").read_bytes()).hexdigest()


def test_same_content_under_two_names_is_paid_once(tmp_path: Path) -> None:
    scans = tmp_path / "scans"
    make_images(scans / "a", 2)
    shutil.copytree(scans / "a", scans / "b")
    shutil.copy(scans / "a" / "img_00000.jpg", scans / "a" / "copy.jpg")
    out = tmp_path / "out.jsonl"
    with emulator_in_thread() as emulator:
        assert run(scans, out, emulator.url) == 0
        assert emulator.stats()["calls"] == 2
        # Across runs too: a new name for old content costs nothing.
        shutil.copy(scans / "a" / "img_00001.jpg", scans / "later.jpg")
        assert run(scans, out, emulator.url) == 0
        assert emulator.stats()["calls"] == 2
    assert len(read_rows(out)) == 6


def test_transient_failures_are_retried_next_run_permanent_ones_not(tmp_path: Path) -> None:
    scans = tmp_path / "scans"
    make_images(scans, 4)
    (scans / "empty.jpg").write_bytes(b"")
    out = tmp_path / "out.jsonl"
    with emulator_in_thread(fail_rate=1.0, fail_codes=(500,), seed=1) as failing:
        assert run(scans, out, failing.url, "--max-attempts", "2") == 1
    rows = read_rows(out)
    assert Counter(row["status"] for row in rows) == {"error": 4, "rejected": 1}
    with emulator_in_thread() as healthy:
        assert run(scans, out, healthy.url) == 0
        assert healthy.stats()["calls"] == 4  # the 500s again, not the empty file
        assert run(scans, out, healthy.url, "--retry-failed") == 1
        assert healthy.stats()["calls"] == 4  # the empty file is rejected locally again
        assert run(scans, out, healthy.url, "--force") == 1
        assert healthy.stats()["calls"] == 8
    assert Counter(row["status"] for row in read_rows(out)) == {"not_id_card": 4, "rejected": 1}


def test_max_calls_leaves_the_rest_pending(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    scans = tmp_path / "scans"
    make_images(scans, 10)
    out = tmp_path / "out.jsonl"
    summary = tmp_path / "summary.json"
    with emulator_in_thread() as emulator:
        assert run(scans, out, emulator.url, "--max-calls", "4", "--concurrency", "2",
                   "--summary-json", str(summary)) == 0
        assert emulator.stats()["calls"] == 4
        assert len(read_rows(out)) == 4
        assert "stopped at --max-calls" in capsys.readouterr().err
        report = json.loads(summary.read_text())
        assert report["calls"] == 4 and report["budget_exhausted"] is True
        assert report["rows_by_status"]["not_id_card"] == 4
        assert run(scans, out, emulator.url) == 0
        assert emulator.stats()["calls"] == 10
    assert len(read_rows(out)) == 10


def _wait_for_start(process: subprocess.Popen[str], timeout_s: float = 60.0) -> None:
    """Read stderr up to the run's ``engine:`` line (printed once it holds its lock)."""
    assert process.stderr is not None
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line or "batch-ocr: engine:" in line:
            return
    raise AssertionError("the run did not start in time")


def _batch_ocr(scans: Path, out: Path, url: str, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "batch_ocr", str(scans), "-o", str(out), "--endpoint", url,
         "--concurrency", "8", *extra],
        env=demo_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


@pytest.mark.slow
def test_second_concurrent_run_exits_75_and_stale_lock_does_not_block(tmp_path: Path) -> None:
    scans = tmp_path / "scans"
    make_images(scans, 30)
    out = tmp_path / "out.jsonl"
    # 15 s of calls: the first run still holds its lock when the second has started, however
    # slowly a busy machine starts Python (at 200 ms a call it was once done before).
    with emulator_process("--latency-ms", "1000") as url:
        first = _batch_ocr(scans, out, url, "--concurrency", "2")
        _wait_for_start(first)  # it holds the lock from here
        second = _batch_ocr(scans, out, url)
        _, err = second.communicate(timeout=30)
        assert second.returncode == 75
        assert "another batch-ocr run is writing" in err
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        third = _batch_ocr(scans, out, url)
        _, err = third.communicate(timeout=60)
        assert third.returncode == 0, err
    assert len(read_rows(out)) == 30


@pytest.mark.slow
def test_two_runs_with_their_own_state_cannot_write_one_output(tmp_path: Path) -> None:
    """Whatever their --state, a second run writing the output of a run still going
    exits 75 with one line, sends nothing and leaves the first run's output whole."""
    scans = tmp_path / "scans"
    make_images(scans, 20)
    out = tmp_path / "out.jsonl"
    with emulator_process("--latency-ms", "1000") as url:  # 10 s of calls, as above
        first = _batch_ocr(scans, out, url, "--concurrency", "2",
                           "--state", str(tmp_path / "first.sqlite"))
        _wait_for_start(first)  # it holds the output's lock from here
        calls_before = stats_of(url)["calls"]
        second = _batch_ocr(scans, out, url, "--state", str(tmp_path / "second.sqlite"))
        _, err = second.communicate(timeout=30)
        assert second.returncode == 75
        assert err == (f"batch-ocr: another batch-ocr run is writing {out}; "
                       "try again when it has finished\n")
        assert first.poll() is None, "the first run was still going"
        _, first_err = first.communicate(timeout=60)
        assert first.returncode == 0, first_err
        assert stats_of(url)["calls"] - calls_before <= 20  # the second sent nothing
    assert len(read_rows(out)) == 20
    assert not (tmp_path / "second.sqlite").exists()


@pytest.mark.slow
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_stops_gracefully_and_writes_in_flight_rows(tmp_path: Path, signum: int,
                                                           code: int) -> None:
    scans = tmp_path / "scans"
    make_images(scans, 40)
    out = tmp_path / "out.jsonl"
    with emulator_process("--latency-ms", "300") as url:
        process = _batch_ocr(scans, out, url, "--concurrency", "4")
        _wait_for_start(process)  # signals before then are the interpreter's, not ours
        time.sleep(0.8)
        process.send_signal(signum)
        _, err = process.communicate(timeout=30)
        stats = stats_of(url)
    assert process.returncode == code, err
    assert "rows written:" in err
    rows = read_rows(out)
    assert 0 < len(rows) < 40
    # Every call that was answered has its row: nothing paid for was lost.
    assert len(rows) == stats["billable"]
