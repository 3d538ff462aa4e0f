"""``progress.Progress`` with its stderr captured: what the bar says, and when."""

from __future__ import annotations

import asyncio
import io
import re
from collections import Counter
from pathlib import Path

import pytest

from batch_ocr.run.progress import Progress, count_images
from batch_ocr.run.summary import RunCounters


def test_the_total_counts_what_the_run_walks_and_skips_its_own_files(tmp_path: Path) -> None:
    for name in ("a.jpg", "b.png", "notes.txt", "portraits/a.jpg"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    assert count_images([tmp_path]) == 3
    assert count_images([tmp_path], [tmp_path / "portraits"]) == 2


@pytest.mark.slow  # 1.3 s: the fast suite stays under a minute
async def test_files_already_done_move_the_bar_without_any_row(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A rerun over done files writes no row; the bar still reaches done/total."""
    for index in range(5):
        (tmp_path / f"{index}.jpg").write_bytes(b"x")
    screen = io.StringIO()
    monkeypatch.setattr("sys.stderr", screen)
    counters = RunCounters(images_found=5, rows_by_status=Counter(), already_done=5,
                           files_done=5)
    progress = Progress(tty=True, verbose=False, quiet=False, calls=lambda: 0,
                        counters=lambda: counters)
    progress.start([tmp_path])
    await asyncio.sleep(1.3)  # two ticks
    progress.clear()
    frames = re.split(r"[\r\n]", screen.getvalue())
    assert any(re.search(r"100%\|.*\| 5/5 \[", frame) for frame in frames), frames


def test_off_a_terminal_or_quiet_nothing_is_drawn(monkeypatch: pytest.MonkeyPatch,
                                                  tmp_path: Path) -> None:
    screen = io.StringIO()
    monkeypatch.setattr("sys.stderr", screen)
    for tty, quiet in ((False, False), (True, True)):
        progress = Progress(tty=tty, verbose=False, quiet=quiet)
        progress.start([tmp_path])
        progress.update(RunCounters(images_found=3, rows_by_status=Counter(ok=3)))
        progress.clear()
    assert screen.getvalue() == ""


def test_the_bar_counts_calls_only_for_an_engine_that_bills_them() -> None:
    counters = RunCounters(images_found=3, rows_by_status=Counter(ok=3, rejected=1),
                           pages_read=4, files_done=3)
    billed = Progress(tty=True, verbose=False, quiet=False, calls=lambda: 7)
    offline = Progress(tty=True, verbose=False, quiet=False, calls=lambda: 7, billed=False)
    assert billed.postfix(counters) == "1 failed, 7 calls"
    assert offline.postfix(counters) == "4 pages, 3 cards, 1 failed"
