"""CSV for people who open it in Excel.

- UTF-8 with a BOM by default, or Excel shows Chinese as mojibake.
- Formula injection: a cell starting with ``= + - @``, tab or CR gets a leading ``'``
  (OWASP "CSV Injection"), since OCR text is untrusted.
- ID and order numbers get a trailing tab: Excel otherwise turns 18 digits into
  ``1.10105E+17`` and loses the last three for good.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

from batch_ocr.columns import LIST_SEPARATOR, Kind, columns_of_kind
from batch_ocr.run.output.base import LineWriter

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
#: Long digit strings that Excel would mangle as numbers.
EXCEL_TEXT_COLUMNS = columns_of_kind(Kind.DIGITS)


def neutralise(cell: str) -> str:
    """Prefix ``'`` to a cell Excel would run as a formula."""
    return "'" + cell if cell.startswith(FORMULA_TRIGGERS) else cell


def value_text(value: Any) -> str:
    """One value as table text: lists ``;``-joined (``columns.LIST_SEPARATOR``),
    booleans ``true``/``false``."""
    if type(value) is str:  # most cells: no other test needed
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return LIST_SEPARATOR.join(str(item) for item in value)
    if isinstance(value, dict):
        return LIST_SEPARATOR.join(f"{k}={'true' if v else 'false'}" for k, v in value.items())
    return str(value)


def cell_text(column: str, value: Any) -> str:
    """One value as CSV text (``value_text``), safe to open in a spreadsheet."""
    text = neutralise(value_text(value))
    if column in EXCEL_TEXT_COLUMNS and text.isdigit():
        text += "\t"
    return text


class CsvWriter(LineWriter):
    """Writes the header, then one flushed line per row."""

    def __init__(self, stream: TextIO, *, columns: tuple[str, ...], bom: bool = True,
                 flush_each_row: bool = True) -> None:
        super().__init__(stream, columns=columns, bom=bom, flush_each_row=flush_each_row)
        self._buffer = io.StringIO()
        self._csv = csv.writer(self._buffer, lineterminator="\r\n")

    def start(self) -> None:
        if self.bom:
            self.stream.write("\ufeff")
        self.stream.write(self._csv_line(self.columns))
        self.stream.flush()

    def line(self, row: Mapping[str, Any]) -> str:
        return self._csv_line([cell_text(column, row.get(column)) for column in self.columns])

    def _csv_line(self, cells: Sequence[str]) -> str:
        """``cells`` quoted and joined as the csv module does, as a string."""
        self._buffer.seek(0)
        self._buffer.truncate()
        self._csv.writerow(cells)
        return self._buffer.getvalue()
