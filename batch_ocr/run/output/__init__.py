"""Output: the table a run writes, and the writers chosen by name (``csv``, ``jsonl``, ``xlsx``).

``file`` is the output file itself: created private, rebuilt from the journal, appended
row by row. Each writer has a start / write / finish lifecycle (``base``).

``xlsx`` writes bytes: its stream must be opened in binary mode (``BINARY_FORMATS``).
"""

from __future__ import annotations

from typing import IO, Any

from batch_ocr.run.output.base import Writer
from batch_ocr.run.output.csv_writer import CsvWriter
from batch_ocr.run.output.jsonl_writer import JsonlWriter
from batch_ocr.run.output.xlsx_writer import XlsxWriter

WRITERS: dict[str, type[Writer]] = {"csv": CsvWriter, "jsonl": JsonlWriter, "xlsx": XlsxWriter}
#: Formats whose writer needs a binary stream (a workbook is a zip file).
BINARY_FORMATS: frozenset[str] = frozenset({"xlsx"})


def make_writer(fmt: str, stream: IO[Any], *, columns: tuple[str, ...], bom: bool = True,
                flush_each_row: bool = True) -> Writer:
    """A writer for ``fmt`` over ``stream`` (which the caller opened and will close)."""
    try:
        writer_class = WRITERS[fmt]
    except KeyError:
        raise ValueError(f"unknown output format {fmt!r}") from None
    return writer_class(stream, columns=columns, bom=bom, flush_each_row=flush_each_row)


__all__ = ["BINARY_FORMATS", "WRITERS", "Writer", "make_writer"]
