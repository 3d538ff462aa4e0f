"""CSV and JSONL writers (``batch_ocr/writers``)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from batch_ocr.columns import CSV_COLUMNS, JSONL_COLUMNS
from batch_ocr.run.output import WRITERS, make_writer
from batch_ocr.run.output.csv_writer import CsvWriter, cell_text, neutralise
from batch_ocr.run.output.jsonl_writer import JsonlWriter
from batch_ocr.run.output.xlsx_writer import XlsxWriter
from batch_ocr.run.present.rows import Row


def front_row(**changes: Any) -> dict[str, Any]:
    row = Row(
        file="批次一/张三.jpg",
        status="ok",
        side="front",
        name="张三",
        sex="女",
        nation="汉",
        birth_date="1990-10-09",
        address="江西省南昌市红谷滩新区0号楼0单元0室",
        id_number="360429199010090000",
        invalid_fields=["address", "name"],
        order_no="578630091093970000",
        attempts=1,
        validity={"name": False, "address": False, "number": True},
    ).to_dict()
    row.update(changes)
    return row


def csv_text(rows: list[dict[str, Any]], *, bom: bool = True) -> str:
    stream = io.StringIO(newline="")
    writer = make_writer("csv", stream, columns=CSV_COLUMNS, bom=bom)
    writer.start()
    for row in rows:
        writer.write(row)
    writer.finish()
    return stream.getvalue()


def csv_records(rows: list[dict[str, Any]]) -> list[dict[str, str]]:
    text = csv_text(rows).removeprefix("\ufeff")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_registry_builds_each_writer_by_name() -> None:
    stream = io.StringIO()
    assert isinstance(make_writer("csv", stream, columns=CSV_COLUMNS), CsvWriter)
    assert isinstance(make_writer("jsonl", stream, columns=JSONL_COLUMNS), JsonlWriter)
    assert isinstance(make_writer("xlsx", io.BytesIO(), columns=CSV_COLUMNS), XlsxWriter)
    assert set(WRITERS) == {"csv", "jsonl", "xlsx"}


def test_unknown_format_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="unknown output format 'xls'"):
        make_writer("xls", io.StringIO(), columns=CSV_COLUMNS)


@pytest.mark.parametrize(("bom", "prefix"), [(True, "\ufefffile,status,"), (False, "file,status,")])
def test_csv_starts_with_bom_unless_disabled(bom: bool, prefix: str) -> None:
    text = csv_text([], bom=bom)

    assert text.startswith(prefix)
    assert text.count("\ufeff") == (1 if bom else 0)


def test_csv_bom_is_the_default() -> None:
    stream = io.StringIO()
    make_writer("csv", stream, columns=CSV_COLUMNS).start()

    assert stream.getvalue().startswith("\ufeff")


def test_csv_header_is_the_column_order() -> None:
    header = next(csv.reader(io.StringIO(csv_text([]).removeprefix("\ufeff"))))

    assert tuple(header) == CSV_COLUMNS
    assert "validity" not in header


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("http://evil.example","click")', '\'=HYPERLINK("http://evil.example","click")'),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@x", "'@x"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("张三", "张三"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_formula_cells_are_neutralised(cell: str, written: str) -> None:
    assert neutralise(cell) == written
    assert cell_text("name", cell) == written


def test_neutralised_cell_survives_the_csv_file() -> None:
    (record,) = csv_records([front_row(name='=HYPERLINK("x")', address="@SUM(A1)")])

    assert record["name"] == "'=HYPERLINK(\"x\")"
    assert record["address"] == "'@SUM(A1)"


@pytest.mark.parametrize(
    ("column", "value", "written"),
    [
        ("id_number", "110105194912310021", "110105194912310021\t"),
        ("order_no", "578630091093970000", "578630091093970000\t"),
        # An X check digit already makes Excel read it as text: no tab needed, none added.
        ("id_number", "11010519491231002X", "11010519491231002X"),
        ("id_number", "", ""),
        ("attempts", 3, "3"),  # other digit columns stay numbers
        ("name", "123456789012345678", "123456789012345678"),
    ],
)
def test_long_numbers_get_an_excel_text_tab(column: str, value: Any, written: str) -> None:
    assert cell_text(column, value) == written


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (["address", "name"], "address;name"),
        ((), ""),
        (None, ""),
        (True, "true"),
        (False, "false"),
        ({"name": True, "number": False}, "name=true;number=false"),
        (2, "2"),
    ],
)
def test_cell_text_of_each_python_type(value: Any, written: str) -> None:
    assert cell_text("invalid_fields", value) == written


def test_csv_row_has_lists_joined_and_ids_tabbed() -> None:
    (record,) = csv_records([front_row()])

    assert record["invalid_fields"] == "address;name"
    assert record["id_number"] == "360429199010090000\t"
    assert record["name"] == "张三"
    assert record["fitted"] == "false"
    assert record["attempts"] == "1"


def test_awkward_cells_round_trip_through_csv_reader() -> None:
    awkward = {
        "file": 'dir, with comma/"quoted" name.jpg',
        "address": "第一行\n第二行, 还有 \"引号\"",
        "error_message": 'HTTP 502: <html>\r\n"Bad Gateway"</html>',
        "authority": "南昌市公安局,昌北分局",
    }

    (record,) = csv_records([front_row(**awkward)])

    for column, value in awkward.items():
        assert record[column] == value


def test_missing_columns_are_empty() -> None:
    (record,) = csv_records([{"file": "a.jpg", "status": "rejected"}])

    assert record["file"] == "a.jpg"
    assert record["name"] == ""
    assert record["attempts"] == ""


def jsonl_lines(rows: list[dict[str, Any]]) -> list[str]:
    stream = io.StringIO()
    writer = make_writer("jsonl", stream, columns=JSONL_COLUMNS, bom=True)
    writer.start()
    for row in rows:
        writer.write(row)
    writer.finish()
    return stream.getvalue().split("\n")


def test_jsonl_is_one_object_per_line_chinese_readable_lists_kept() -> None:
    lines = jsonl_lines([front_row(), front_row(file="b.jpg", address="一\n二")])

    assert lines[-1] == ""  # newline-terminated, nothing else
    first, second = (json.loads(line) for line in lines[:-1])
    assert "张三" in lines[0] and "\\u" not in lines[0]
    assert not lines[0].startswith("\ufeff")  # no BOM in JSON Lines, whatever bom says
    assert list(first) == list(JSONL_COLUMNS)
    assert first["invalid_fields"] == ["address", "name"]
    assert first["validity"] == {"name": False, "address": False, "number": True}
    assert first["id_number"] == "360429199010090000"  # no Excel tab in JSON
    assert first["name"] == "张三"
    assert second["address"] == "一\n二"


def test_jsonl_does_not_neutralise_formulas() -> None:
    (line, _) = jsonl_lines([front_row(name="=1+1")])

    assert json.loads(line)["name"] == "=1+1"


@pytest.mark.parametrize(("fmt", "columns"), [("csv", CSV_COLUMNS), ("jsonl", JSONL_COLUMNS)])
def test_every_row_is_on_disk_before_finish(tmp_path: Path, fmt: str, columns: tuple) -> None:
    path = tmp_path / f"out.{fmt}"
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = make_writer(fmt, stream, columns=columns)
        writer.start()
        for index in range(3):
            writer.write(front_row(file=f"{index}.jpg"))
            on_disk = path.read_text(encoding="utf-8")
            assert f"{index}.jpg" in on_disk
        writer.finish()
        assert not stream.closed  # the writer never closes a stream it did not open


def test_csv_file_opens_as_utf8_sig_with_crlf_lines(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = make_writer("csv", stream, columns=CSV_COLUMNS)
        writer.start()
        writer.write(front_row())
        writer.finish()

    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbffile,")
    assert raw.count(b"\r\n") == 2
    with path.open(encoding="utf-8-sig", newline="") as stream:
        records = list(csv.DictReader(stream))
    assert records[0]["name"] == "张三"
