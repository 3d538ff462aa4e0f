"""The output file: created private, rebuilt from the journal, appended row by row.

A run first rewrites the output from the journal (repairing a torn last line or a
missing row left by a killed run), then appends each new row as it finishes, and at
the end rewrites it once more from the journal, so a file whose content changed keeps
only its new row. Rewrites go to a temporary file that replaces the output atomically.

When the output started empty and the journal holds exactly the rows appended since,
the final rewrite puts the appended lines in the journal's order instead of reading
and formatting every row again: that was most of a first run's closing time
(tests/benchmarks, throughput).
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

from batch_ocr.columns import CSV_COLUMNS, JSONL_COLUMNS, PAIRED_TABLE_COLUMNS
from batch_ocr.errors import ConfigError
from batch_ocr.private_files import AtomicFile
from batch_ocr.run.journal.state import page_key
from batch_ocr.run.output import Writer, make_writer
from batch_ocr.run.output.base import LineWriter
from batch_ocr.run.output.xlsx_writer import XlsxWriter
from batch_ocr.run.present.pairing import PairBy, paired_records
from batch_ocr.run.present.rows import Row

STDOUT = "-"
#: Lines a first run keeps for its final rewrite, at most (about 0.5 KB each, so memory
#: stays flat: tests/benchmarks, memory); past this the rewrite reads the journal as any
#: other run's does.
MAX_KEPT_LINES = 5_000

def output_format(output: str, forced: str | None) -> str:
    """``csv``, ``jsonl`` or ``xlsx``: ``--format`` wins, then the extension; stdout is
    JSONL. A workbook is written whole into a file: never to stdout."""
    fmt = forced or _format_of_name(output)
    if fmt == "xlsx" and output == STDOUT:
        raise ConfigError("an Excel workbook cannot be written to stdout: name a .xlsx file")
    return fmt


def _format_of_name(output: str) -> str:
    if output == STDOUT:
        return "jsonl"
    suffix = Path(output).suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix == ".xlsx":
        return "xlsx"
    raise ConfigError(
        f"cannot tell the format of {output}: name it .csv, .jsonl or .xlsx, or give --format"
    )


def columns_for(fmt: str) -> tuple[str, ...]:
    return CSV_COLUMNS if fmt == "csv" else JSONL_COLUMNS


class OutputFile:
    """Where rows go for one run. ``start``, ``write`` per row, ``close``."""

    #: Whether ``write`` appends each row as it comes (not so for pairs and workbooks,
    #: which are written whole at the end).
    streams_rows = True

    def __init__(self, target: str, fmt: str, *, bom: bool) -> None:
        self.target = target
        self.fmt = fmt
        self.bom = bom
        self.columns = columns_for(fmt)
        self._stream: TextIO | None = None
        self._writer: Writer | None = None
        #: The lines appended since an empty start, with their place in the journal's
        #: order; None when the final rewrite must read the journal.
        self._appended: list[tuple[tuple[str, int, int], str]] | None = None

    @property
    def is_stdout(self) -> bool:
        return self.target == STDOUT

    def start(self, earlier_rows: Iterable[Row] = ()) -> None:
        """Write the header and ``earlier_rows``; then the file is ready for appends."""
        if self.is_stdout:
            self._stream = sys.stdout
            self._writer = make_writer(self.fmt, sys.stdout, columns=self.columns, bom=False)
            self._writer.start()
            return
        earlier = iter(earlier_rows)
        first = next(earlier, None)
        self._stream = self._rewrite(earlier if first is None else itertools.chain([first],
                                                                                  earlier))
        self._writer = make_writer(self.fmt, self._stream, columns=self.columns, bom=False)
        if first is None and self.streams_rows and isinstance(self._writer, LineWriter):
            self._appended = []

    def _rewrite(self, rows: Iterable[Row]) -> TextIO:
        """Write a complete file of ``rows`` beside the output, then swap it in."""

        def fill(writer: Writer) -> None:
            for record in self.records(rows):
                writer.write(record)

        return self._write_whole(fill)

    def _write_whole(self, fill: Callable[[Writer], None]) -> TextIO:
        """Write a complete file beside the output (header, then ``fill``), then swap it
        in atomically; returns its stream, still open."""
        atomic = AtomicFile(Path(self.target))
        try:
            writer = make_writer(self.fmt, atomic.text, columns=self.columns, bom=self.bom,
                                 flush_each_row=False)
            writer.start()
            fill(writer)
            writer.finish()
            atomic.commit()
        except BaseException:
            atomic.discard()
            raise
        return atomic.text

    def records(self, rows: Iterable[Row]) -> Iterator[dict[str, Any]]:
        """What the file holds for ``rows``: one record per image."""
        for row in rows:
            yield row.to_dict()

    def write(self, row: Row) -> None:
        """Append one row, flushed."""
        writer = self._writer
        assert writer is not None, "start() first"
        if self._appended is None or not isinstance(writer, LineWriter):
            writer.write(row.to_dict())
            return
        line = writer.line(row.to_dict())
        try:
            writer.write_line(line)
        except BaseException:
            self._appended = None
            raise
        self._appended.append(((row.file, page_key(row.page), row.card or 0), line))
        if len(self._appended) > MAX_KEPT_LINES:
            self._appended = None

    def finish(self, final_rows: Iterable[Row] | None = None, *,
               appended_are_all: bool = False) -> None:
        """Rewrite from ``final_rows`` when given (the journal), then close.

        ``appended_are_all``: the journal holds no page but those this run recorded,
        none replaced; when the output also started empty, it holds exactly the rows
        appended since, which are then put in its order without reading ``final_rows``
        (the journal orders file names by their UTF-8 bytes, as ``sorted`` orders
        their code points).
        """
        if self._stream is None:
            return
        if self._writer is not None:
            self._writer.finish()
        if self.is_stdout:
            return
        old, self._stream = self._stream, None
        try:
            if final_rows is not None:
                lines = self._appended_in_journal_order() if appended_are_all else None
                if lines is not None:
                    self._write_whole(lambda writer: _write_lines(writer, lines)).close()
                else:
                    self._rewrite(final_rows).close()
        finally:
            old.close()

    def _appended_in_journal_order(self) -> list[str] | None:
        """The appended lines in the journal's order (file name, page, card), or None
        when they were not all kept or two rows share a place (two sources holding the
        same file name: the journal also orders by full path, which rows do not hold)."""
        if self._appended is None:
            return None
        ordered = sorted(self._appended, key=lambda kept: kept[0])
        places = [place for place, _ in ordered]
        if any(a == b for a, b in itertools.pairwise(places)):
            return None
        return [line for _, line in ordered]


def _write_lines(writer: Writer, lines: Iterable[str]) -> None:
    assert isinstance(writer, LineWriter)
    for line in lines:
        writer.write_line(line)


class PairedOutputFile(OutputFile):
    """``--pair``: one record per card, written whole from the journal's rows.

    Pairs need every image of a card, so nothing is streamed: the file is written at
    the start (from earlier runs) and again at the end. Images that are no card side
    (errors, other documents) are kept as ``pair_status`` ``unpaired`` records, so no
    image disappears from the table.
    """

    streams_rows = False

    def __init__(self, target: str, fmt: str, *, bom: bool, pair_by: PairBy) -> None:
        super().__init__(target, fmt, bom=bom)
        self.columns = PAIRED_TABLE_COLUMNS
        self.pair_by = pair_by

    def records(self, rows: Iterable[Row]) -> Iterator[dict[str, Any]]:
        return paired_records(list(rows), pair_by=self.pair_by)

    def write(self, row: Row) -> None:
        """Nothing streams in pair mode: the journal has the row; ``finish`` pairs it."""

    def finish(self, final_rows: Iterable[Row] | None = None, *,
               appended_are_all: bool = False) -> None:
        if self.is_stdout and self._writer is not None and final_rows is not None:
            for record in self.records(final_rows):
                self._writer.write(record)
        super().finish(final_rows)


class WorkbookOutputFile(OutputFile):
    """``.xlsx``: a sheet of rows (the CSV's columns), and a sheet of cards first with
    ``--pair``.

    A workbook is a zip file and cannot be appended to, so it is written whole from the
    journal's rows at the start of the run and again at its end (the rows stream through
    XlsxWriter's constant-memory mode, so memory stays flat); rows finished in between
    are in the journal, and a run killed before its end is made whole by the next one.
    """

    def __init__(self, target: str, *, pair_by: PairBy | None = None) -> None:
        super().__init__(target, "xlsx", bom=False)
        self.columns = CSV_COLUMNS
        self.pair_by = pair_by
        self._started = False

    def start(self, earlier_rows: Iterable[Row] = ()) -> None:
        self._write_book(earlier_rows)
        self._started = True

    def write(self, row: Row) -> None:
        """Nothing streams into a workbook: the journal has the row; ``finish`` writes it."""

    def finish(self, final_rows: Iterable[Row] | None = None, *,
               appended_are_all: bool = False) -> None:
        if self._started and final_rows is not None:
            self._write_book(final_rows)
        self._started = False

    def _write_book(self, rows: Iterable[Row]) -> None:
        """Write the workbook beside the output, then swap it in atomically."""
        with AtomicFile(Path(self.target), binary=True) as atomic:
            stream = atomic.binary
            if self.pair_by is None:
                writer = XlsxWriter(stream, columns=CSV_COLUMNS, sheet="rows")
                writer.start()
            else:
                rows = list(rows)  # pairing needs them all; then again for the rows
                writer = XlsxWriter(stream, columns=PAIRED_TABLE_COLUMNS, sheet="cards")
                writer.start()
                for record in paired_records(rows, pair_by=self.pair_by):
                    writer.write(record)
                writer.add_sheet("rows", CSV_COLUMNS)
            for row in rows:
                writer.write(row.to_dict())
            writer.finish()
