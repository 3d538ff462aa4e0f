"""The progress bar: drawn on a terminal (a pseudo-terminal here), never off one."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from batch_ocr.cli import main
from tests.e2e_support import demo_env, emulator_in_thread, emulator_process, make_images

pytestmark = [pytest.mark.slow,  # a real pseudo-terminal per test
              pytest.mark.skipif(os.name != "posix", reason="pseudo-terminals are POSIX")]

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def run_on_a_terminal(tmp_path: Path, url: str, *extra: str) -> tuple[int, str]:
    """``batch-ocr`` with its stderr on a pseudo-terminal; returns (exit code, screen text)."""
    import pty

    master, slave = pty.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "batch_ocr", "scans", "-o", "out.csv", "--endpoint", url,
             "--concurrency", "2", *extra],
            cwd=tmp_path, env=demo_env(COLUMNS="120"), stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=slave)
    finally:
        os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    code = process.wait(60)
    return code, ANSI.sub("", b"".join(chunks).decode("utf-8", "replace"))


def test_a_terminal_gets_a_bar_with_total_failures_calls_rate_and_time_left(
        tmp_path: Path) -> None:
    make_images(tmp_path / "scans", 20)
    (tmp_path / "scans" / "empty.jpg").write_bytes(b"")
    with emulator_process("--latency-ms", "150") as url:
        code, screen = run_on_a_terminal(tmp_path, url)
    assert code == 1  # empty.jpg
    frames = [frame for frame in re.split(r"[\r\n]", screen) if "%|" in frame]
    assert frames, screen
    # tqdm pads a rate under 10 with a second space (",  9.67 files/s").
    frame = re.compile(r"\d+%\|.*\| (\d+)/21 \[\d\d:\d\d<\d\d:\d\d, +[\d.]+ files/s, "
                       r"([01]) failed, (\d+) calls\]")
    shown = [match.groups() for match in map(frame.search, frames) if match]
    assert len(shown) >= 2, frames  # done/total, time left, rate, failures, calls
    assert any(failed == "1" for _, failed, _ in shown)  # empty.jpg, as it happened
    assert int(shown[-1][0]) >= 15 and int(shown[-1][2]) >= 14
    assert "batch-ocr: rows written: 21" in screen  # the summary comes after the bar


def test_quiet_silences_the_bar_on_a_terminal(tmp_path: Path) -> None:
    make_images(tmp_path / "scans", 4)
    with emulator_process() as url:
        code, screen = run_on_a_terminal(tmp_path, url, "--quiet")
    assert code == 0
    assert screen == ""  # no bar, and nothing to say about a success


def test_verbose_lines_go_above_the_bar(tmp_path: Path) -> None:
    make_images(tmp_path / "scans", 3)
    with emulator_process() as url:
        code, screen = run_on_a_terminal(tmp_path, url, "--verbose")
    assert code == 0
    lines = screen.splitlines()
    for index in range(3):
        assert f"batch-ocr: img_{index:05d}.jpg: not_id_card" in lines


def test_off_a_terminal_no_progress_is_drawn_or_logged(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], demo_keys: None) -> None:
    """A cron log holds the summary, not progress lines (docs/reference.md, "Exit codes")."""
    monkeypatch.chdir(tmp_path)
    make_images(tmp_path / "scans", 12)
    with emulator_in_thread() as emulator:
        assert main(["scans", "-o", "out.csv", "--endpoint", emulator.url]) == 0
    err = capsys.readouterr().err
    assert "progress" not in err and "\r" not in err and "%|" not in err
    assert err.splitlines()[0].startswith("batch-ocr: engine: api")


def test_a_scanned_pdf_counts_once_in_the_bar_whatever_its_pages(tmp_path: Path) -> None:
    """Done/total are files: a 3-page TIFF is one file done, not three."""
    from PIL import Image

    scans = tmp_path / "scans"
    make_images(scans, 6)
    pages = [Image.new("RGB", (200, 120), color) for color in ("white", "grey", "black")]
    pages[0].save(scans / "three_pages.tif", save_all=True, append_images=pages[1:])
    with emulator_process("--latency-ms", "150") as url:
        code, screen = run_on_a_terminal(tmp_path, url)
    assert code == 0
    counts = [tuple(map(int, m.groups())) for m in re.finditer(r"\| (\d+)/(\d+) \[", screen)]
    assert counts and all(total == 7 and done <= 7 for done, total in counts), counts


def test_offline_the_bar_and_the_summary_count_pages_and_cards_not_calls(
        tmp_path: Path) -> None:
    """Offline work is pages and cards, never calls (docs/reference.md, "Summary"): the bar, the
    summary and the review page name files, pages and cards with the same numbers."""
    import shutil

    from PIL import Image

    from tests.e2e_support import SAMPLES

    scans = tmp_path / "scans"
    scans.mkdir()
    for name in ("zhangsan_front.jpg", "zhangsan_back.png"):
        shutil.copy(SAMPLES / name, scans / name)
    pages = [Image.new("RGB", (300, 200), color) for color in ("white", "grey", "black")]
    pages[0].save(scans / "three_pages.tif", save_all=True, append_images=pages[1:])
    code, screen = run_on_a_terminal(tmp_path, "http://127.0.0.1:9/", "--engine", "local",
                                     "--report", "review.html", "--workers", "1")
    assert code == 0, screen
    frames = [frame for frame in re.split(r"[\r\n]", screen) if "%|" in frame or "/?" in frame]
    assert frames, screen
    bar = re.compile(r" files/s, (\d+) pages, (\d+) cards, 0 failed\]")
    shown = [tuple(map(int, match.groups())) for match in map(bar.search, frames) if match]
    assert shown, frames
    assert all(cards <= pages <= 5 for pages, cards in shown)
    assert not any("calls" in frame for frame in frames)
    lines = screen.splitlines()
    assert "batch-ocr: files found: 3" in lines
    assert "batch-ocr: pages read: 5, cards read: 2" in lines
    assert "batch-ocr: rows written: 5 (ok 2, not_id_card 3)" in lines
    assert ("batch-ocr: recognised offline by the local engine: no call made, nothing billed"
            in lines)
    assert any(re.fullmatch(r"batch-ocr: elapsed: [\d.]+ s, [\d.]+ pages/s", line)
               for line in lines)
    page = (tmp_path / "review.html").read_text(encoding="utf-8")
    assert "<title>batch-ocr review — 5 rows</title>" in page
    for label, value in (("Rows", "5"), ("Files found", "3"), ("Pages read", "5"),
                         ("Cards read", "2"), ("Billed", "no call made, nothing billed")):
        assert f"<dt>{label}</dt><dd>{value}</dd>" in page
    assert "<dt>Calls made</dt>" not in page and "Images found" not in page
