"""Read a batch-ocr output file (JSONL, CSV or an Excel workbook) back into rows in the JSONL shape.

What each column holds comes from the one table of columns (``batch_ocr.columns``). A CSV
and a workbook spell values as text, and the CSV writer adds a few things of its own;
all of it is undone here, so a page rebuilt from a CSV or a workbook reads like one
built from the JSONL of the same run:

* list columns (``invalid_fields``, ``checks``, ``warnings``, ``review_reasons``) are
  ``;``-joined;
* numbers and booleans are text (a workbook's ``attempts`` is a number);
* CSV only: cells that a spreadsheet would run as a formula (starting with ``=``, ``+``,
  ``-``, ``@``, a tab or a CR) carry a leading ``'`` (OWASP "CSV injection" advice);
  long digit strings (ID and order numbers) carry a trailing tab so Excel keeps them as
  text; the file starts with a UTF-8 BOM so that Excel picks the right encoding;
* a workbook saved again by Excel may hold a date where the run wrote its text, and a
  number where it wrote digits: both are read back as the text they stand for.

A workbook's ``rows`` sheet is read (one row per image, as ``batch-ocr --report`` shows
a workbook's run); its ``cards`` sheet, written with ``--pair``, is not.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from batch_ocr.columns import KINDS, LIST_SEPARATOR, Kind
from batch_ocr.errors import ConfigError
from batch_ocr.run.output.csv_writer import FORMULA_TRIGGERS

_JSONL_SUFFIXES = frozenset({".jsonl", ".ndjson", ".json"})
#: The first bytes of a zip file, which an ``.xlsx`` workbook is.
_ZIP_MAGIC = b"PK\x03\x04"
#: The workbook sheet of one row per image (``run.output.file.WorkbookOutputFile``).
ROWS_SHEET = "rows"
_NOT_AN_OUTPUT = "not a batch-ocr output (no 'file' or 'front_file' column)"


class ReportInputError(ConfigError):
    """The output file to build a report from cannot be read (exit 2 in the CLI)."""


def load_rows(output_path: Path | str) -> list[dict[str, Any]]:
    """Read a JSONL, CSV or ``.xlsx`` output of batch-ocr into row dicts (JSONL shape).

    The format is chosen by suffix (``.jsonl``/``.ndjson``/``.json``, ``.csv`` or
    ``.xlsx``); any other suffix is sniffed from the first bytes. Values are restored to
    what each column holds (``batch_ocr.columns``): lists, an int for ``attempts`` (and
    for ``page`` and ``card``, or None when empty), bools for ``fitted`` and
    ``needs_review``.

    Raises:
        ReportInputError: the file is missing, unreadable or not a batch-ocr output.
    """
    path = Path(output_path)
    raw = _read_bytes(path)
    suffix = path.suffix.lower()
    if suffix == ".xlsx" or (suffix not in _JSONL_SUFFIXES | {".csv"}
                             and raw.startswith(_ZIP_MAGIC)):
        return _parse_xlsx(raw, path)
    try:
        # utf-8-sig drops the BOM the CSV writer puts first (and is harmless without it).
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ReportInputError(f"{path}: not UTF-8 text ({exc.reason})") from None
    if suffix in _JSONL_SUFFIXES or (suffix != ".csv" and text.lstrip().startswith("{")):
        return _parse_jsonl(text, path)
    return _parse_csv(text, path)


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ReportInputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ReportInputError(f"{path}: is a folder, not an output file") from None
    except OSError as exc:
        raise ReportInputError(f"{path}: {exc.strerror or exc}") from None


def _parse_jsonl(text: str, path: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    # split("\n"), not splitlines(): the writer keeps U+2028 and friends raw inside strings
    # (ensure_ascii=False) and splitlines() would cut a row in two there.
    for line_no, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ReportInputError(f"{path}:{line_no}: not JSON ({exc.msg})") from None
        if not isinstance(value, dict):
            raise ReportInputError(f"{path}:{line_no}: expected a JSON object per line")
        rows.append(restore_types(value.items(), from_text=False))
    return rows


def _is_output_header(names: Iterable[str | None]) -> bool:
    found = set(names)
    return "file" in found or "front_file" in found


def _parse_csv(text: str, path: Path) -> list[dict[str, Any]]:
    # newline="" as the csv docs ask: quoted CR/LF inside a cell must reach the parser
    # untouched (str.splitlines would also cut at U+2028 and friends inside OCR text).
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not reader.fieldnames or not _is_output_header(reader.fieldnames):
        raise ReportInputError(f"{path}: {_NOT_AN_OUTPUT}")
    rows: list[dict[str, Any]] = []
    try:
        for record in reader:
            # A short line gives None for missing cells, a long one a None key: keep
            # what the header names and treat missing cells as empty.
            cells = (
                (key, undo_csv_escapes(value or ""))
                for key, value in record.items()
                if key is not None
            )
            rows.append(restore_types(cells, from_text=True))
    except csv.Error as exc:
        raise ReportInputError(f"{path}:{reader.line_num}: bad CSV ({exc})") from None
    return rows


def _parse_xlsx(raw: bytes, path: Path) -> list[dict[str, Any]]:
    """The ``rows`` sheet of a workbook (else its only sheet), as the CSV's rows."""
    # Imported here: only a workbook needs it, and it costs a CSV report 0.1 s.
    import openpyxl
    from openpyxl.utils.escape import unescape
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError) as exc:
        raise ReportInputError(f"{path}: not an Excel workbook ({exc})") from None
    try:
        if ROWS_SHEET in book.sheetnames:
            sheet = book[ROWS_SHEET]
        elif len(book.sheetnames) == 1:
            sheet = book.worksheets[0]
        else:
            raise ReportInputError(f"{path}: no sheet named {ROWS_SHEET!r}")
        lines = sheet.iter_rows(values_only=True)
        header = [None if name is None else str(name) for name in next(lines, ())]
        if not _is_output_header(header):
            raise ReportInputError(f"{path}: {_NOT_AN_OUTPUT}")
        # A short line's missing cells are empty, as in a CSV; cells past the header
        # name no column and are left out. Text comes back with the workbook's escapes
        # of control characters (a CR is "_x000D_", ECMA-376 Part 1, 22.9.2.19), which
        # openpyxl leaves in place: undone here.
        rows = [
            restore_types(((name, unescape(cell_text(value)))
                           for name, value in itertools.zip_longest(header, line)
                           if name is not None), from_text=True)
            for line in lines
            if any(value is not None for value in line)
        ]
    finally:
        book.close()
    return rows


def cell_text(value: Any) -> str:
    """A workbook cell as the text the CSV would hold (``None``: an empty cell)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        # A date typed (or turned into one) in Excel: the day, as the run writes dates.
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def undo_csv_escapes(cell: str) -> str:
    """Undo ``csv_writer.cell_text``: the Excel tab after digits, the ``'`` prefix."""
    if cell.endswith("\t") and cell[:-1].isdigit():
        return cell[:-1]
    if len(cell) >= 2 and cell[0] == "'" and cell.startswith(FORMULA_TRIGGERS, 1):
        return cell[1:]
    return cell


def restore_types(items: Iterable[tuple[str, Any]], *, from_text: bool) -> dict[str, Any]:
    """A row whose values are what each column holds (``columns.KINDS``).

    ``from_text``: the values are a table's cells (CSV, workbook), so booleans and the
    ``validity`` object are read from their text as well.
    """
    row: dict[str, Any] = {}
    for key, value in items:
        kind = KINDS.get(key)
        if kind is Kind.LIST:
            row[key] = _as_list(value)
        elif kind is Kind.COUNT:
            row[key] = _as_int(value)
        elif kind is Kind.NUMBER:
            row[key] = None if value is None or str(value).strip() == "" else _as_int(value)
        elif kind is Kind.FLAG and from_text:
            row[key] = str(value).strip().lower() in {"true", "1", "yes"}
        elif kind is Kind.FLAGS and from_text:
            row[key] = _as_flags(str(value))
        else:
            row[key] = value
    return row


def _as_list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return [str(item) for item in value]
    return [part for part in str(value).split(LIST_SEPARATOR) if part]


def _as_flags(value: str) -> dict[str, bool]:
    """``name=true;number=false`` (how the CSV writer flattens a dict) back to a dict."""
    pairs = (part.partition("=") for part in value.split(LIST_SEPARATOR) if part)
    return {key: flag.strip().lower() == "true" for key, _, flag in pairs}


def _as_int(value: Any) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip() or 0)
    except ValueError:
        # A damaged count must not hide the rest of the report.
        return 0
