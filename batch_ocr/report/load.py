"""Read a batch-ocr output file (JSONL or CSV) back into rows in the JSONL shape.

The CSV writer flattens a few things that the report needs back as they were:

* list columns (``invalid_fields``, ``checks``, ``warnings``, ``review_reasons``) are
  ``;``-joined;
* numbers and booleans are text;
* cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``,
  ``@``, a tab or a CR) carry a leading ``'`` (OWASP "CSV injection" advice);
* long digit strings (ID and order numbers) carry a trailing tab so Excel keeps them as
  text;
* the file starts with a UTF-8 BOM so that Excel picks the right encoding.

All of that is undone here, so a report rebuilt from a CSV reads like one built from
the JSONL of the same run.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from batch_ocr.errors import ConfigError
from batch_ocr.run.output.csv_writer import FORMULA_TRIGGERS

#: Columns that hold a list (``;``-joined in CSV).
LIST_COLUMNS: frozenset[str] = frozenset(
    {"invalid_fields", "checks", "warnings", "review_reasons"}
)
#: Columns that hold an int.
INT_COLUMNS: frozenset[str] = frozenset({"attempts"})
#: Columns that hold an int or nothing (``page``: empty for a file that is one image;
#: ``card``: empty for an image of one card, or of one front and back).
OPTIONAL_INT_COLUMNS: frozenset[str] = frozenset({"page", "card"})
#: Columns that hold a bool.
BOOL_COLUMNS: frozenset[str] = frozenset({"fitted", "needs_review"})

_JSONL_SUFFIXES = frozenset({".jsonl", ".ndjson", ".json"})


class ReportInputError(ConfigError):
    """The output file to build a report from cannot be read (exit 2 in the CLI)."""


def load_rows(output_path: Path | str) -> list[dict[str, Any]]:
    """Read a JSONL or CSV output of batch-ocr into a list of row dicts (JSONL shape).

    The format is chosen by suffix (``.jsonl``/``.ndjson``/``.json`` or ``.csv``); any
    other suffix is sniffed from the first character. Types are restored: lists for
    ``LIST_COLUMNS``, an int for ``attempts`` (and for ``page``, or None when empty),
    bools for ``fitted`` and ``needs_review``.

    Raises:
        ReportInputError: the file is missing, unreadable or not a batch-ocr output.
    """
    path = Path(output_path)
    try:
        # utf-8-sig drops the BOM the CSV writer puts first (and is harmless without it).
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ReportInputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ReportInputError(f"{path}: is a folder, not an output file") from None
    except UnicodeDecodeError as exc:
        raise ReportInputError(f"{path}: not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise ReportInputError(f"{path}: {exc.strerror or exc}") from None

    suffix = path.suffix.lower()
    if suffix in _JSONL_SUFFIXES or (suffix != ".csv" and text.lstrip().startswith("{")):
        return _parse_jsonl(text, path)
    return _parse_csv(text, path)


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
        rows.append(_restore_types(value.items(), from_csv=False))
    return rows


def _parse_csv(text: str, path: Path) -> list[dict[str, Any]]:
    # newline="" as the csv docs ask: quoted CR/LF inside a cell must reach the parser
    # untouched (str.splitlines would also cut at U+2028 and friends inside OCR text).
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not reader.fieldnames or not (
        "file" in reader.fieldnames or "front_file" in reader.fieldnames
    ):
        raise ReportInputError(f"{path}: not a batch-ocr output (no 'file' or 'front_file' column)")
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
            rows.append(_restore_types(cells, from_csv=True))
    except csv.Error as exc:
        raise ReportInputError(f"{path}:{reader.line_num}: bad CSV ({exc})") from None
    return rows


def undo_csv_escapes(cell: str) -> str:
    """Undo ``writers/csv_writer.cell_text``: the Excel tab after digits, the ``'`` prefix."""
    if cell.endswith("\t") and cell[:-1].isdigit():
        return cell[:-1]
    if len(cell) >= 2 and cell[0] == "'" and cell.startswith(FORMULA_TRIGGERS, 1):
        return cell[1:]
    return cell


def _restore_types(items: Iterable[tuple[str, Any]], *, from_csv: bool) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for key, value in items:
        if key in LIST_COLUMNS:
            row[key] = _as_list(value)
        elif key in INT_COLUMNS:
            row[key] = _as_int(value)
        elif key in OPTIONAL_INT_COLUMNS:
            row[key] = None if value is None or str(value).strip() == "" else _as_int(value)
        elif key in BOOL_COLUMNS and from_csv:
            row[key] = str(value).strip().lower() in {"true", "1", "yes"}
        elif key == "validity" and from_csv:
            row[key] = _as_validity(str(value))
        else:
            row[key] = value
    return row


def _as_list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return [str(item) for item in value]
    return [part for part in str(value).split(";") if part]


def _as_validity(value: str) -> dict[str, bool]:
    """``name=true;number=false`` (how the CSV writer flattens a dict) back to a dict."""
    pairs = (part.partition("=") for part in value.split(";") if part)
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
