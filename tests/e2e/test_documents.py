"""Documents end to end (docs/documents.md): the real CLI over PDFs and multi-page TIFFs.

One row per page, numbered in ``page``; a PDF that grows by a page costs one call on the
next run, and the output still has one row per page. Calls are counted by the emulator.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw

from batch_ocr.run.pages import Page, split_pages
from tests.e2e_support import demo_env, emulator_process, read_rows, stats_of

RUN_TIMEOUT_S = 120


def page_picture(seed: int) -> Image.Image:
    """A small scanned page (A6-ish at 100 dpi), different for every ``seed``."""
    image = Image.new("L", (413, 583), 236)
    draw = ImageDraw.Draw(image)
    draw.rectangle((30 + 9 * seed, 40, 300, 200 + 7 * seed), fill=40)
    draw.text((30, 500), f"page {seed}", fill=0)
    return image


def write_pdf(path: Path, seeds: list[int], *, append: bool = False) -> None:
    """A scanner's PDF; ``append`` adds pages as an incremental update, as scanners do."""
    first, *rest = [page_picture(seed) for seed in seeds]
    first.save(path, "PDF", save_all=True, append_images=rest, append=append, resolution=100)


def write_tiff(path: Path, seeds: list[int]) -> None:
    first, *rest = [page_picture(seed) for seed in seeds]
    first.save(path, "TIFF", save_all=True, append_images=rest, compression="tiff_deflate")


def batch_ocr(scans: Path, out: Path, url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "batch_ocr", str(scans), "-o", str(out), "--endpoint", url,
         *extra],
        env=demo_env(), capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False,
    )


def pages_of(rows: list[dict[str, Any]]) -> list[tuple[str, int | None]]:
    return [(row["file"], row["page"]) for row in rows]


@pytest.mark.slow
def test_pages_are_rows_and_a_grown_pdf_costs_only_its_new_page(tmp_path: Path) -> None:
    scans = tmp_path / "scans"
    scans.mkdir()
    write_pdf(scans / "daily.pdf", [1, 2, 3])
    write_tiff(scans / "stack.tiff", [4, 5])
    (scans / "one.png").write_bytes(b"")  # a plain file beside them keeps its one row
    out = tmp_path / "out.jsonl"
    with emulator_process() as url:
        first = batch_ocr(scans, out, url)
        assert first.returncode == 1, first.stderr  # one.png is empty: rejected
        assert "Traceback" not in first.stderr
        rows = read_rows(out)
        assert pages_of(rows) == [("daily.pdf", 1), ("daily.pdf", 2), ("daily.pdf", 3),
                                  ("one.png", None), ("stack.tiff", 1), ("stack.tiff", 2)]
        assert [r["status"] for r in rows] == ["not_id_card"] * 3 + ["rejected"] + [
            "not_id_card"] * 2
        assert stats_of(url)["calls"] == 5
        page_sha256 = {(r["file"], r["page"]): r["sha256"] for r in rows}
        assert len(set(page_sha256.values())) == 6

        # The scanner adds a page to the day's file.
        write_pdf(scans / "daily.pdf", [6], append=True)
        second = batch_ocr(scans, out, url)
        assert second.returncode == 0, second.stderr  # this run's rows are all clean
        assert stats_of(url)["calls"] == 6  # only the new page was sent
        rows = read_rows(out)
        assert pages_of(rows) == [("daily.pdf", 1), ("daily.pdf", 2), ("daily.pdf", 3),
                                  ("daily.pdf", 4), ("one.png", None), ("stack.tiff", 1),
                                  ("stack.tiff", 2)]
        for row in rows:  # earlier pages keep their identity
            if (row["file"], row["page"]) in page_sha256:
                assert row["sha256"] == page_sha256[(row["file"], row["page"])]

        # Nothing changed: nothing is read or sent.
        third = batch_ocr(scans, out, url, "--summary-json", str(tmp_path / "third.json"))
        assert third.returncode == 0, third.stderr
        assert stats_of(url)["calls"] == 6
        assert len(read_rows(out)) == 7
        summary = json.loads((tmp_path / "third.json").read_text())
        assert summary["already_done"] == 3  # files: the PDF, the TIFF, the empty PNG


@pytest.mark.slow  # tests/test_pipeline_pages.py counts pages in a dry run in-process
def test_dry_run_counts_pages(tmp_path: Path) -> None:
    scans = tmp_path / "scans"
    scans.mkdir()
    write_pdf(scans / "daily.pdf", [1, 2, 3])
    write_pdf(scans / "copy.pdf", [1, 2, 3])  # same pages: no extra call
    write_tiff(scans / "stack.tiff", [4, 5])
    summary_path = tmp_path / "summary.json"
    with emulator_process() as url:
        result = batch_ocr(scans, tmp_path / "out.csv", url, "--dry-run",
                           "--summary-json", str(summary_path))
        assert stats_of(url)["calls"] == 0
    assert result.returncode == 0, result.stderr
    assert "a real run would make 5 calls" in result.stderr
    assert json.loads(summary_path.read_text())["would_call"] == 5


@pytest.mark.slow
def test_kill_9_mid_document_then_rerun_pays_each_page_once(tmp_path: Path) -> None:
    scans = tmp_path / "scans"
    scans.mkdir()
    for index in range(3):
        write_pdf(scans / f"day{index}.pdf", [10 * index + page for page in range(6)])
    page_sha256 = {
        hashlib.sha256(page.image).hexdigest()
        for path in scans.iterdir() for page in split_pages(path.read_bytes())
        if isinstance(page, Page)
    }
    assert len(page_sha256) == 18
    out = tmp_path / "out.csv"
    rng = random.Random(7)
    kills = 4
    with emulator_process("--latency-ms", "150") as url:
        for _ in range(kills):
            process = subprocess.Popen(
                [sys.executable, "-m", "batch_ocr", str(scans), "-o", str(out), "--endpoint",
                 url, "--concurrency", "2"],
                env=demo_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.8, 1.6))
            process.send_signal(signal.SIGKILL)
            process.wait(10)
        final = batch_ocr(scans, out, url)
        stats = stats_of(url)
    assert final.returncode == 0, final.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert sorted((r["file"], r["page"]) for r in rows) == sorted(
        (f"day{index}.pdf", str(page)) for index in range(3) for page in range(1, 7))
    assert set(stats["billable_per_sha256"]) == page_sha256
    # Paid once per page, plus at most what was in flight at each kill.
    assert stats["billable"] <= 18 + kills * 2
