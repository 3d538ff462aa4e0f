"""Output writers, chosen by name from a registry (``csv``, ``jsonl``)."""

from __future__ import annotations

from typing import TextIO

from batch_ocr.writers.base import Writer
from batch_ocr.writers.csv_writer import CsvWriter
from batch_ocr.writers.jsonl_writer import JsonlWriter

WRITERS: dict[str, type[Writer]] = {"csv": CsvWriter, "jsonl": JsonlWriter}


def make_writer(fmt: str, stream: TextIO, *, columns: tuple[str, ...], bom: bool = True) -> Writer:
    """A writer for ``fmt`` over ``stream`` (which the caller opened and will close)."""
    try:
        writer_class = WRITERS[fmt]
    except KeyError:
        raise ValueError(f"unknown output format {fmt!r}") from None
    return writer_class(stream, columns=columns, bom=bom)


__all__ = ["WRITERS", "Writer", "make_writer"]
