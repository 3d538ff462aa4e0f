"""Nothing paid for a blank: a blank, uniform or tiny picture gets a ``not_id_card`` row
without any call, the same row whichever engine the run has (docs/reference.md, "Statuses")."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from batch_ocr.cli import main
from tests.card_pages import DOCUMENTS
from tests.e2e_support import emulator_in_thread, read_rows
from tests.skips import needs_documents, needs_local

pytestmark = pytest.mark.usefixtures("demo_keys")

A4_INCHES = (8.27, 11.69)
#: Columns that say which engine answered and how: the rest must be the same.
ENGINE_COLUMNS = ("order_no", "attempts", "fitted", "engine", "portrait_url")


def a4(dpi: int) -> tuple[int, int]:
    return round(A4_INCHES[0] * dpi), round(A4_INCHES[1] * dpi)


def blank_folder(folder: Path) -> Path:
    """The four cases of the hostile-input test, and a scanner's white page."""
    folder.mkdir(parents=True)
    Image.new("RGB", (16, 16), "white").save(folder / "white16.png")
    Image.new("RGB", (9, 9), "black").save(folder / "black9.png")
    Image.new("RGB", a4(150), "white").save(folder / "white-a4-150dpi.jpg", quality=90)
    Image.new("L", a4(300), 255).save(folder / "white-a4-300dpi.png")
    # A scanned white page: paper a little grey, the scanner's shadow line at its edge.
    scanned = Image.new("L", a4(200), 244)
    ImageDraw.Draw(scanned).rectangle((0, 0, 5, scanned.height), fill=90)
    scanned.save(folder / "scanned-white-a4-200dpi.jpg", quality=75)
    return folder


def grey_squares(path: Path, count: int = 500) -> None:
    """A TIFF of ``count`` 16 px grey squares (500: the most pages a file may have)."""
    frames = [Image.new("L", (16, 16), 60 + index % 120) for index in range(count)]
    frames[0].save(path, save_all=True, append_images=frames[1:])


@pytest.mark.parametrize("frames", [pytest.param(500, marks=pytest.mark.slow), 20])
def test_blank_pictures_cost_no_call_and_get_a_row_each(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], frames: int) -> None:
    scans = blank_folder(tmp_path / "scans")
    grey_squares(scans / "grey-squares.tiff", frames)
    out, summary = tmp_path / "out.jsonl", tmp_path / "summary.json"
    with emulator_in_thread() as emulator:
        dry = main([str(scans), "-o", str(out), "--dry-run", "--endpoint", emulator.url])
        assert "a real run would make 0 calls" in capsys.readouterr().err
        code = main([str(scans), "-o", str(out), "--summary-json", str(summary), "--quiet",
                     "--endpoint", emulator.url])
        stats = emulator.stats()
    assert (dry, code) == (0, 0)  # clean: a blank page is no failure of the run
    assert (stats["calls"], stats["billable"]) == (0, 0)
    assert json.loads(summary.read_text())["calls"] == 0
    rows = read_rows(out)
    assert len(rows) == 5 + frames  # the TIFF: a row per frame
    assert {row["status"] for row in rows} == {"not_id_card"}
    codes = {(row["file"], row["page"]): row["error_code"] for row in rows}
    assert codes[("white16.png", None)] == codes[("black9.png", None)] == "image_too_small"
    assert codes[("grey-squares.tiff", frames)] == "image_too_small"
    for page in ("white-a4-150dpi.jpg", "white-a4-300dpi.png", "scanned-white-a4-200dpi.jpg"):
        assert codes[(page, None)] == "blank_image"
    blank = next(row for row in rows if row["file"] == "white-a4-300dpi.png")
    assert blank["error_message"] == ("the picture is blank: one flat colour, nothing "
                                      "card-like on it (no call made)")
    assert blank["engine"] == "" and blank["attempts"] == 0


@needs_local
def test_a_blank_gives_the_same_row_through_both_engines(tmp_path: Path) -> None:
    scans = tmp_path / "scans"
    scans.mkdir()
    Image.new("RGB", (16, 16), "white").save(scans / "white16.png")
    Image.new("RGB", a4(150), "white").save(scans / "white-a4.png")
    with emulator_in_thread() as emulator:
        assert main([str(scans), "-o", str(tmp_path / "api.jsonl"), "--quiet",
                     "--endpoint", emulator.url]) == 0
        assert emulator.stats()["calls"] == 0
    assert main([str(scans), "-o", str(tmp_path / "local.jsonl"), "--quiet",
                 "--engine", "local", "--workers", "1"]) == 0
    assert read_rows(tmp_path / "api.jsonl") == read_rows(tmp_path / "local.jsonl")


@needs_local
@needs_documents
@pytest.mark.slow
def test_a_blank_template_page_gives_the_same_row_through_both_engines(
        tmp_path: Path) -> None:
    scans = tmp_path / "scans"
    scans.mkdir()
    shutil.copy(DOCUMENTS / "a4_photocopy_blank_template.png", scans)
    with emulator_in_thread() as emulator:
        assert main([str(scans), "-o", str(tmp_path / "api.jsonl"), "--quiet",
                     "--endpoint", emulator.url]) == 0
        paid = emulator.stats()["billable"]
        # Done for good: a rerun that retries failures pays nothing more for it.
        assert main([str(scans), "-o", str(tmp_path / "api.jsonl"), "--quiet",
                     "--retry-failed", "--endpoint", emulator.url]) == 0
        assert emulator.stats()["billable"] == paid
    assert main([str(scans), "-o", str(tmp_path / "local.jsonl"), "--quiet",
                 "--engine", "local", "--workers", "1"]) == 0
    (api,), (local,) = read_rows(tmp_path / "api.jsonl"), read_rows(tmp_path / "local.jsonl")
    assert api["status"] == "not_id_card"
    assert ({k: v for k, v in api.items() if k not in ENGINE_COLUMNS}
            == {k: v for k, v in local.items() if k not in ENGINE_COLUMNS})
