"""The writer lifecycle: ``start`` once, ``write`` per row (flushed), ``finish`` once."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import IO, Any


class Writer(ABC):
    """Writes rows (dicts in column order) to a stream it does not own (text, or bytes
    for the formats in ``writers.BINARY_FORMATS``)."""

    def __init__(self, stream: IO[Any], *, columns: tuple[str, ...], bom: bool = True,
                 flush_each_row: bool = True) -> None:
        self.stream = stream
        self.columns = columns
        self.bom = bom
        #: Off for a file written whole and then swapped in (``output``): its rows are
        #: flushed once, at ``finish``, instead of a system call each.
        self.flush_each_row = flush_each_row

    def start(self) -> None:  # noqa: B027 - an optional hook, not an abstract step
        """Write whatever comes before the first row (a header)."""

    @abstractmethod
    def write(self, row: Mapping[str, Any]) -> None:
        """Write one row and flush it (``flush_each_row``), so a killed run loses nothing
        already written."""

    def finish(self) -> None:
        """Flush; never closes the stream."""
        self.stream.flush()


class LineWriter(Writer):
    """A writer whose rows are lines of text (CSV, JSON Lines): ``line`` formats one, so
    a caller may keep the lines it wrote and write them again (``output``)."""

    @abstractmethod
    def line(self, row: Mapping[str, Any]) -> str:
        """One row as its line of text, line ending included."""

    def write(self, row: Mapping[str, Any]) -> None:
        self.write_line(self.line(row))

    def write_line(self, line: str) -> None:
        """Write a line made by ``line``, flushed (``flush_each_row``)."""
        self.stream.write(line)
        if self.flush_each_row:
            self.stream.flush()
