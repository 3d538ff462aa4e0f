"""Excel workbooks (``.xlsx``), for the people who read the output in Excel.

Written with XlsxWriter in its ``constant_memory`` mode: each row goes to a temporary
file (mode 0600, deleted at ``finish``) as soon as it is written, so memory stays flat
however many rows there are (tests/benchmarks: 100,000 rows). Every cell holding text is
written as a string, never guessed at: an ID or order number keeps its 18 digits, a date
stays the ``YYYY-MM-DD`` (or ``长期``) the row holds, and a cell starting with ``=`` is
text, not a formula (so no ``'`` is needed, unlike CSV). Columns are those of the CSV;
the header is frozen and filterable; widths follow the header and the first rows.

A workbook cannot be appended to, so the output file that uses this writer rewrites the
whole workbook from the state journal (``output.WorkbookOutputFile``).
"""

from __future__ import annotations

import errno
import unicodedata
from collections.abc import Mapping
from typing import IO, TYPE_CHECKING, Any

from batch_ocr.columns import Kind, columns_of_kind
from batch_ocr.run.output.base import Writer
from batch_ocr.run.output.csv_writer import value_text

if TYPE_CHECKING:
    from xlsxwriter.worksheet import Worksheet

#: Excel's limits on one cell's text and one sheet's rows (the header included).
MAX_CELL_CHARS = 32_767
MAX_SHEET_ROWS = 1_048_576
#: Column widths are measured over the header and this many rows (the rest streams).
WIDTH_SAMPLE_ROWS = 500
MIN_WIDTH = 6
MAX_WIDTH = 60
#: Columns shown as whole numbers; every other value is written as text.
NUMBER_COLUMNS = columns_of_kind(Kind.COUNT)


def display_width(text: str) -> int:
    """Width in Excel's character units: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


class _Sheet:
    """One worksheet being streamed: its columns, next row and measured widths."""

    def __init__(self, worksheet: Worksheet, columns: tuple[str, ...]) -> None:
        self.worksheet = worksheet
        self.columns = columns
        self.next_row = 0
        self.widths = [display_width(column) for column in columns]


class XlsxWriter(Writer):
    """Streams rows into a workbook on a binary stream; ``finish`` completes the file.

    ``sheet`` names the first worksheet; ``add_sheet`` starts another one (``--pair``
    writes a sheet of cards and a sheet of rows). With ``constant_memory``, rows must
    arrive in order, one sheet after the other, which is how they are written here.
    """

    def __init__(self, stream: IO[Any], *, columns: tuple[str, ...], bom: bool = True,
                 flush_each_row: bool = True, sheet: str = "rows") -> None:
        super().__init__(stream, columns=columns, bom=bom, flush_each_row=flush_each_row)
        # Imported here: it costs a CSV run 0.1 s of start-up for nothing.
        import xlsxwriter

        self._book = xlsxwriter.Workbook(stream, {
            "constant_memory": True,
            # Never turn text into numbers, formulas or links: OCR text is untrusted
            # and an ID number is not a number.
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
        })
        self._header = self._book.add_format({"bold": True, "bg_color": "#E7E6E6",
                                              "bottom": 1})
        self._text = self._book.add_format({"num_format": "@"})
        self._sheets: list[_Sheet] = []
        self._sheet = self._new_sheet(sheet, columns)

    def _new_sheet(self, name: str, columns: tuple[str, ...]) -> _Sheet:
        sheet = _Sheet(self._book.add_worksheet(name), columns)
        self._sheets.append(sheet)
        return sheet

    def start(self) -> None:
        """The header row: bold, frozen, with the autofilter's buttons."""
        sheet = self._sheet
        for index, column in enumerate(sheet.columns):
            sheet.worksheet.write_string(0, index, column, self._header)
        sheet.worksheet.freeze_panes(1, 0)
        sheet.next_row = 1

    def add_sheet(self, name: str, columns: tuple[str, ...]) -> None:
        """Finish the current sheet's rows and start ``name`` with its header."""
        self._sheet = self._new_sheet(name, columns)
        self.columns = columns
        self.start()

    def write(self, row: Mapping[str, Any]) -> None:
        sheet = self._sheet
        worksheet, row_index = sheet.worksheet, sheet.next_row
        if row_index >= MAX_SHEET_ROWS:
            raise OSError(errno.EFBIG, f"an Excel sheet holds at most {MAX_SHEET_ROWS:,} "
                          "rows: write .csv or .jsonl for a table this large")
        for index, column in enumerate(sheet.columns):
            value = row.get(column)
            if column in NUMBER_COLUMNS and isinstance(value, int) and not isinstance(
                    value, bool):
                worksheet.write_number(row_index, index, value)
                continue
            text = value_text(value)[:MAX_CELL_CHARS]
            if text:
                worksheet.write_string(row_index, index, text, self._text)
            if row_index <= WIDTH_SAMPLE_ROWS:
                sheet.widths[index] = max(sheet.widths[index], display_width(text))
        sheet.next_row += 1

    def finish(self) -> None:
        """Widths, filters and the zip's directory: the file is complete after this.

        Closes the workbook, never ``stream`` (whoever opened it closes it).
        """
        for sheet in self._sheets:
            for index, width in enumerate(sheet.widths):
                clamped = min(max(width + 2, MIN_WIDTH), MAX_WIDTH)
                sheet.worksheet.set_column(index, index, clamped, self._text)
            sheet.worksheet.autofilter(0, 0, max(sheet.next_row - 1, 0),
                                       len(sheet.columns) - 1)
        self._book.close()
        self.stream.flush()
