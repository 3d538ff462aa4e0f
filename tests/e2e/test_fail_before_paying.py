"""Fail before paying: a path the run cannot write is one message and exit 3 before any
image is read or any call made; never a traceback (stderr is scanned, as a user sees it).

The suite runs as root in CI, where permissions stop nothing: the paths that cannot be
used here are a folder where a file must go, a file where a folder must go, and /proc.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from batch_ocr.cli import EXIT_FATAL, EXIT_USAGE, main
from tests.e2e_support import demo_env, emulator_in_thread, emulator_process, make_images, stats_of


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    make_images(tmp_path / "scans", 3)
    (tmp_path / "a_file").write_text("not a folder")
    (tmp_path / "a_folder").mkdir()
    (tmp_path / "folder.csv").mkdir()
    return tmp_path


CASES = [
    (["-o", "a_file/out.csv"],
     "cannot write the output a_file/out.csv: a_file is a file, not a folder"),
    (["-o", "folder.csv"], "cannot write the output folder.csv: it is a folder"),
    (["-o", "out.csv", "--state", "a_folder"],
     "cannot write the state journal a_folder: it is a folder"),
    (["-o", "out.csv", "--state", "a_file/state.sqlite"],
     "cannot write the state journal a_file/state.sqlite: a_file is a file, not a folder"),
    (["-o", "out.csv", "--summary-json", "a_folder"],
     "cannot write the summary JSON a_folder: it is a folder"),
    (["-o", "out.csv", "--summary-json", "/proc/batch-ocr/summary.json"],
     "cannot write the summary JSON /proc/batch-ocr/summary.json: cannot make the folder "
     "/proc/batch-ocr: "),
    (["-o", "out.csv", "--report", "a_folder"],
     "cannot write the review page a_folder: it is a folder"),
    (["-o", "out.csv", "--portraits", "a_file"],
     "cannot write the portraits folder a_file: it is a file, not a folder"),
]


@pytest.mark.parametrize(("argv", "message"), CASES)
def test_an_unusable_path_is_one_message_and_exit_3_before_any_call(
        workdir: Path, argv: list[str], message: str) -> None:
    with emulator_process() as url:
        done = subprocess.run(
            [sys.executable, "-m", "batch_ocr", "scans", *argv, "--endpoint", url],
            cwd=workdir, env=demo_env(), capture_output=True, text=True, timeout=60)
        assert stats_of(url)["calls"] == 0
    assert done.returncode == EXIT_FATAL, done.stderr
    assert done.stderr.startswith(f"batch-ocr: fatal: {message}"), done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert not (workdir / "out.csv").exists()


def test_an_unusable_lock_is_one_message_and_exit_3(workdir: Path) -> None:
    (workdir / "s.sqlite.lock").mkdir()  # where the lock file must go
    done = subprocess.run(
        [sys.executable, "-m", "batch_ocr", "scans", "-o", "out.csv", "--state", "s.sqlite",
         "--endpoint", "http://127.0.0.1:9/never"],
        cwd=workdir, env=demo_env(), capture_output=True, text=True, timeout=60)
    assert done.returncode == EXIT_FATAL, done.stderr
    assert done.stderr == ("batch-ocr: fatal: cannot write the state journal's lock "
                           "s.sqlite.lock: it is a folder\n")


def test_report_with_stdout_is_a_usage_error_at_start(
        workdir: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], demo_keys: None) -> None:
    monkeypatch.chdir(workdir)
    with emulator_in_thread() as emulator:
        code = main(["scans", "-o", "-", "--report", "r.html", "--endpoint", emulator.url])
        assert emulator.stats()["calls"] == 0
    assert code == EXIT_USAGE
    assert capsys.readouterr().err == (
        "batch-ocr: error: --report reads the output back: give -o a file, not '-'\n")


def test_a_summary_that_fails_after_the_run_is_one_message_and_exit_3(
        workdir: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], demo_keys: None) -> None:
    monkeypatch.chdir(workdir)

    def disk_full(path: Path, data: str | bytes) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("batch_ocr.run.runner.replace_private", disk_full)
    with emulator_in_thread() as emulator:
        code = main(["scans", "-o", "out.csv", "--summary-json", "s.json",
                     "--endpoint", emulator.url])
    assert code == EXIT_FATAL
    err = capsys.readouterr().err
    assert err.endswith("batch-ocr: fatal: cannot write the summary JSON s.json: No space "
                        "left on device\n")
    assert (workdir / "out.csv").is_file()  # the rows themselves are safe


def test_a_report_that_fails_after_the_run_is_exit_3(
        workdir: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], demo_keys: None) -> None:
    monkeypatch.chdir(workdir)

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("batch_ocr.report.write_report", disk_full)
    with emulator_in_thread() as emulator:
        code = main(["scans", "-o", "out.csv", "--report", "r.html",
                     "--endpoint", emulator.url])
    assert code == EXIT_FATAL
    assert capsys.readouterr().err.endswith(
        "batch-ocr: fatal: cannot write the review page r.html: [Errno 28] No space left "
        "on device\n")
