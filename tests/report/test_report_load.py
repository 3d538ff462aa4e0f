"""load_rows: JSONL, CSV and Excel outputs back into rows with their types."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from report_fakes import Row, base_row, sample_rows

from batch_ocr.columns import CSV_COLUMNS, JSONL_COLUMNS
from batch_ocr.report import ReportInputError, load_rows
from batch_ocr.report.load import undo_csv_escapes
from batch_ocr.run.output import make_writer
from batch_ocr.run.output.xlsx_writer import XlsxWriter

# Columns other modules add; whether rows.py lists them yet or not, the test writes them.
EXTRA_COLUMNS = ("checks", "portrait_file", "portrait_error", "page")
CSV_ALL = CSV_COLUMNS + tuple(c for c in EXTRA_COLUMNS if c not in CSV_COLUMNS)
JSONL_ALL = JSONL_COLUMNS + tuple(c for c in EXTRA_COLUMNS if c not in JSONL_COLUMNS)


def _write(fmt: str, path: Path, rows: list[dict[str, Any]], columns: tuple[str, ...]) -> None:
    """Write ``rows`` with the project's own writer, as a run would."""
    buffer = io.StringIO()
    writer = make_writer(fmt, buffer, columns=columns)
    writer.start()
    for row in rows:
        writer.write(row)
    writer.finish()
    path.write_text(buffer.getvalue(), encoding="utf-8", newline="")


HOSTILE = base_row(
    "scans/=evil.jpg",
    name='=HYPERLINK("x")',
    address="-2+3",
    authority="@SUM(A1)",
    nation="\t汉",
    id_number="110101199003071234",
    order_no="00012345",
    error_message="line one\nline two\u2028still two\r\nthree _x000D_ as typed",
    invalid_fields=["name", "number"],
    checks=["id_checksum", "expired"],
    attempts=3,
    fitted=True,
    page=12,
)


def test_jsonl_round_trip(tmp_path: Path) -> None:
    rows = sample_rows() + [HOSTILE]
    path = tmp_path / "out.jsonl"
    _write("jsonl", path, rows, JSONL_ALL)
    loaded = load_rows(path)
    assert loaded == [{k: row[k] for k in JSONL_ALL} for row in rows]


def test_csv_round_trip_restores_types_and_undoes_excel_escapes(tmp_path: Path) -> None:
    rows = sample_rows() + [HOSTILE]
    path = tmp_path / "out.csv"
    _write("csv", path, rows, CSV_ALL)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the writer's BOM, which load_rows must drop
    assert b"'=HYPERLINK" in raw and b"110101199003071234\t" in raw

    loaded = load_rows(path)

    assert list(loaded[0]) == list(CSV_ALL)
    assert loaded == [{k: row[k] for k in CSV_ALL} for row in rows]
    last = loaded[-1]
    assert last["name"] == '=HYPERLINK("x")'
    assert last["nation"] == "\t汉"
    assert last["id_number"] == "110101199003071234"
    assert last["order_no"] == "00012345"
    assert last["invalid_fields"] == ["name", "number"]
    assert last["checks"] == ["id_checksum", "expired"]
    assert last["attempts"] == 3 and last["fitted"] is True
    assert last["error_message"] == "line one\nline two\u2028still two\r\nthree _x000D_ as typed"
    flagged = loaded[1]
    assert flagged["needs_review"] is True and loaded[0]["needs_review"] is False
    assert flagged["warnings"] == ["glare"]
    assert flagged["review_reasons"] == ["check:id_checksum", "warning:glare"]


def _write_workbook(path: Path, sheets: dict[str, tuple[tuple[str, ...], list[Row]]]) -> None:
    """A workbook of ``sheets`` (name: columns, rows), as the run's writer makes it."""
    with path.open("wb") as stream:
        writer: XlsxWriter | None = None
        for name, (columns, rows) in sheets.items():
            if writer is None:
                writer = XlsxWriter(stream, columns=columns, sheet=name)
                writer.start()
            else:
                writer.add_sheet(name, columns)
            for row in rows:
                writer.write(row)
        assert writer is not None
        writer.finish()


def test_xlsx_round_trip_reads_like_the_csv(tmp_path: Path) -> None:
    rows = sample_rows() + [HOSTILE]
    book, table = tmp_path / "out.xlsx", tmp_path / "out.csv"
    _write_workbook(book, {"rows": (CSV_ALL, rows)})
    _write("csv", table, rows, CSV_ALL)
    loaded = load_rows(book)
    assert loaded == load_rows(table)
    assert loaded == [{k: row[k] for k in CSV_ALL} for row in rows]
    last = loaded[-1]
    assert last["id_number"] == "110101199003071234" and last["order_no"] == "00012345"
    assert last["attempts"] == 3 and last["fitted"] is True and last["page"] == 12
    assert last["checks"] == ["id_checksum", "expired"]


def test_xlsx_reads_the_rows_sheet_of_a_paired_workbook(tmp_path: Path) -> None:
    card = {"front_file": "a.jpg", "pair_status": "front_only"}
    book = tmp_path / "out.xlsx"
    _write_workbook(book, {"cards": (("front_file", "pair_status"), [card]),
                           "rows": (CSV_ALL, sample_rows())})
    assert [row["file"] for row in load_rows(book)] == [r["file"] for r in sample_rows()]


def test_xlsx_saved_again_by_excel_keeps_its_values(tmp_path: Path) -> None:
    """Excel may save a typed-over date as a date and digits as a number."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "rows"
    sheet.append(["file", "birth_date", "valid_to", "order_no", "attempts", "page", "card",
                  "needs_review", "warnings", "name", "added_by_hand"])
    sheet.append(["a.jpg", dt.datetime(1990, 3, 7), "长期", 12345, 3.0, 2, None, True,
                  "glare;blur", None, 1.5])
    sheet.append(["b.jpg"])
    path = tmp_path / "saved.xlsx"
    book.save(path)
    first, second = load_rows(path)
    assert first == {"file": "a.jpg", "birth_date": "1990-03-07", "valid_to": "长期",
                     "order_no": "12345", "attempts": 3, "page": 2, "card": None,
                     "needs_review": True, "warnings": ["glare", "blur"], "name": "",
                     "added_by_hand": "1.5"}
    assert second["file"] == "b.jpg" and second["attempts"] == 0 and second["warnings"] == []


def test_a_workbook_is_sniffed_whatever_its_name(tmp_path: Path) -> None:
    path = tmp_path / "results.bak"
    _write_workbook(path, {"rows": (CSV_ALL, sample_rows()[:1])})
    assert load_rows(path)[0]["file"] == sample_rows()[0]["file"]


@pytest.mark.parametrize(
    ("sheets", "message"),
    [
        ({"a": (("file",), []), "b": (("file",), [])}, "no sheet named 'rows'"),
        ({"rows": (("x", "y"), [])}, "not a batch-ocr output (no 'file' or 'front_file' column)"),
    ],
)
def test_a_workbook_that_is_no_output_is_a_typed_error(
        tmp_path: Path, sheets: dict[str, tuple[tuple[str, ...], list[Row]]], message: str) -> None:
    path = tmp_path / "out.xlsx"
    _write_workbook(path, sheets)
    with pytest.raises(ReportInputError, match=re.escape(f"{path}: {message}")):
        load_rows(path)


@pytest.mark.parametrize("content", [b"not a zip at all", b"PK\x03\x04 torn"])
def test_a_file_that_is_no_workbook_is_a_typed_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "out.xlsx"
    path.write_bytes(content)
    with pytest.raises(ReportInputError, match=re.escape(f"{path}: not an Excel workbook")):
        load_rows(path)


def test_csv_without_bom_and_with_empty_lists(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    path.write_text("file,status,invalid_fields,checks,attempts\r\na.jpg,ok,,,\r\n", "utf-8")
    assert load_rows(path) == [
        {"file": "a.jpg", "status": "ok", "invalid_fields": [], "checks": [], "attempts": 0}
    ]


def test_pair_csv(tmp_path: Path) -> None:
    path = tmp_path / "cards.csv"
    path.write_text(
        "\ufefffront_file,back_file,pair_status,name,front_status,back_status,checks\r\n"
        "a.jpg,b.jpg,complete,张三,ok,ok,expired\r\n"
        "c.jpg,,front_only,李小红,ok,,\r\n",
        "utf-8",
    )
    rows = load_rows(path)
    assert rows[0]["front_file"] == "a.jpg" and rows[0]["checks"] == ["expired"]
    assert rows[1]["pair_status"] == "front_only" and rows[1]["back_file"] == ""


def test_unknown_suffix_is_sniffed(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    path.write_text(json.dumps({"file": "a.jpg", "status": "ok"}) + "\n", "utf-8")
    assert load_rows(path) == [{"file": "a.jpg", "status": "ok"}]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("out.jsonl", '{"file": "a.jpg"}\n\n{oops\n', "out.jsonl:3: not JSON"),
        ("out.jsonl", "[1, 2]\n", "out.jsonl:1: expected a JSON object per line"),
        ("out.csv", "a,b\r\n1,2\r\n", "not a batch-ocr output (no 'file' or 'front_file' column)"),
    ],
)
def test_bad_input_is_a_typed_error(tmp_path: Path, name: str, content: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(content, "utf-8")
    with pytest.raises(ReportInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_rows(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ReportInputError, match="no such file"):
        load_rows(tmp_path / "nope.jsonl")


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("'=1+1", "=1+1"),
        ("'-3", "-3"),
        ("'@x", "@x"),
        ("'\tx", "\tx"),
        ("'plain", "'plain"),  # an apostrophe the writer did not add stays
        ("'", "'"),
        ("123\t", "123"),
        ("12a\t", "12a\t"),
    ],
)
def test_undo_csv_escapes(cell: str, expected: str) -> None:
    assert undo_csv_escapes(cell) == expected
