"""``-o results.xlsx``: a real workbook, as the people reading the output open it."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from batch_ocr.cli import main
from batch_ocr.columns import CSV_COLUMNS
from tests.e2e_support import FIXTURES, HOSTILE, SAMPLES, emulator_in_thread

pytestmark = pytest.mark.usefixtures("demo_keys")


@pytest.fixture
def scans(tmp_path: Path) -> Path:
    folder = tmp_path / "scans"
    folder.mkdir()
    for sample in (*SAMPLES.iterdir(), *HOSTILE.iterdir()):
        if sample.suffix.lower() in (".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff"):
            shutil.copy(sample, folder / sample.name)
    return folder


def sheet_records(sheet: Any) -> list[dict[str, Any]]:
    values = list(sheet.iter_rows(values_only=True))
    return [dict(zip(values[0], row, strict=True)) for row in values[1:]]


def csv_records(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_a_workbook_holds_what_the_csv_holds_with_numbers_as_text(
        scans: Path, tmp_path: Path) -> None:
    workbook, table = tmp_path / "results.xlsx", tmp_path / "results.csv"
    with emulator_in_thread(fixture_paths=(FIXTURES,)) as emulator:
        assert main([str(scans), "-o", str(workbook), "--endpoint", emulator.url]) == 1
        assert main([str(scans), "-o", str(table), "--endpoint", emulator.url]) == 1
    assert oct(workbook.stat().st_mode & 0o777) == "0o600"
    book = openpyxl.load_workbook(workbook)
    assert book.sheetnames == ["rows"]
    sheet = book["rows"]
    assert tuple(cell.value for cell in sheet[1]) == CSV_COLUMNS
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref.startswith("A1:")
    rows = sheet_records(sheet)
    expected = csv_records(table)
    assert [r["file"] for r in rows] == [r["file"] for r in expected]
    zhang = next(r for r in rows if r["file"] == "zhangsan_front.jpg")
    assert zhang["id_number"] == "360113199010099893"  # 18 digits, as text
    assert zhang["birth_date"] == "1990-10-09"
    for row, text in zip(rows, expected, strict=True):
        if row["order_no"]:  # each run gets its own order numbers from the API
            assert isinstance(row["order_no"], str) and len(row["order_no"]) == 18
        for column in ("status", "name", "id_number", "birth_date", "valid_to",
                       "error_code", "sha256"):
            assert (row[column] or "") == text[column].rstrip("\t"), (row["file"], column)


def test_a_rerun_keeps_every_row_and_pair_adds_a_cards_sheet(
        scans: Path, tmp_path: Path) -> None:
    workbook = tmp_path / "cards.xlsx"
    with emulator_in_thread(fixture_paths=(FIXTURES,)) as emulator:
        assert main([str(scans), "-o", str(workbook), "--endpoint", emulator.url,
                     "--pair"]) == 1
        calls = emulator.stats()["calls"]
        assert main([str(scans), "-o", str(workbook), "--endpoint", emulator.url,
                     "--pair"]) == 0
        assert emulator.stats()["calls"] == calls
    book = openpyxl.load_workbook(workbook)
    assert book.sheetnames == ["cards", "rows"]
    cards = sheet_records(book["cards"])
    complete = [c for c in cards if c["pair_status"] == "complete"]
    assert len(complete) == 5
    assert {c["other_file"] for c in cards if c["pair_status"] == "unpaired"} == {
        "broken.jpg", "not_a_card.jpg"}
    assert len(sheet_records(book["rows"])) == 12


def test_the_review_page_of_a_workbook_run_shows_every_row(scans: Path, tmp_path: Path) -> None:
    workbook, page = tmp_path / "results.xlsx", tmp_path / "review.html"
    with emulator_in_thread(fixture_paths=(FIXTURES,)) as emulator:
        assert main([str(scans), "-o", str(workbook), "--endpoint", emulator.url,
                     "--report", str(page)]) == 1
    html = page.read_text(encoding="utf-8")
    for sample in ("zhangsan_front.jpg", "broken.jpg", "wangli-正.png"):
        assert sample in html
