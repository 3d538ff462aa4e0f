"""The output file (``batch_ocr/run/output/file.py``): rewrite, append, rewrite, privately and whole."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

import pytest

from batch_ocr.columns import CSV_COLUMNS, JSONL_COLUMNS, PAIRED_TABLE_COLUMNS
from batch_ocr.errors import ConfigError
from batch_ocr.run.output import Writer, make_writer
from batch_ocr.run.output import file as output_module
from batch_ocr.run.output.file import OutputFile, PairedOutputFile, output_format
from batch_ocr.run.present.rows import Row


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def files(rows: list[dict[str, Any]]) -> list[str]:
    return [row["file"] for row in rows]


@pytest.fixture(autouse=True)
def open_umask() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


class WriterSpy:
    """Records which writers were made and which of them were finished."""

    def __init__(self) -> None:
        self.made: list[Writer] = []
        self.finished: list[Writer] = []

    def make(self, fmt: str, stream: TextIO, *, columns: tuple[str, ...],
             bom: bool = True, flush_each_row: bool = True) -> Writer:
        writer = make_writer(fmt, stream, columns=columns, bom=bom,
                             flush_each_row=flush_each_row)
        original_finish = writer.finish

        def finish() -> None:
            self.finished.append(writer)
            original_finish()

        writer.finish = finish  # type: ignore[method-assign]
        self.made.append(writer)
        return writer


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> WriterSpy:
    found = WriterSpy()
    monkeypatch.setattr(output_module, "make_writer", found.make)
    return found


@pytest.mark.parametrize(
    ("target", "forced", "expected"),
    [("-", None, "jsonl"), ("a.csv", None, "csv"), ("a.CSV", None, "csv"),
     ("a.jsonl", None, "jsonl"), ("a.ndjson", None, "jsonl"), ("a.txt", "csv", "csv"),
     ("-", "csv", "csv")],
)
def test_output_format(target: str, forced: str | None, expected: str) -> None:
    assert output_format(target, forced) == expected


def test_output_format_refuses_an_unknown_extension() -> None:
    with pytest.raises(ConfigError, match="cannot tell the format of out.txt"):
        output_format("out.txt", None)


def test_start_write_finish_rewrites_from_the_final_rows(tmp_path: Path, spy: WriterSpy) -> None:
    target = tmp_path / "out.jsonl"
    target.write_text("a torn line from a killed run {\"fi")
    target.chmod(0o644)
    out = OutputFile(str(target), "jsonl", bom=False)

    out.start([Row(file="earlier.jpg", status="ok")])
    assert files(jsonl(target)) == ["earlier.jpg"], "the torn file was not rebuilt"
    assert mode(target) == 0o600

    out.write(Row(file="new.jpg", status="error", error_code="503"))
    assert files(jsonl(target)) == ["earlier.jpg", "new.jpg"], "a row was not flushed"
    streaming = spy.made[-1]

    with target.open(encoding="utf-8") as reader:  # opened before the final rewrite
        out.finish([Row(file="earlier.jpg", status="ok"), Row(file="new.jpg", status="ok")])
        assert files([json.loads(line) for line in reader]) == ["earlier.jpg", "new.jpg"]
    final = jsonl(target)
    assert [(r["file"], r["status"]) for r in final] == [("earlier.jpg", "ok"), ("new.jpg", "ok")]
    assert list(final[0]) == list(JSONL_COLUMNS)
    assert mode(target) == 0o600
    assert streaming in spy.finished, "the streaming writer was not finished"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl"], "temp file left"


def test_finish_without_rows_keeps_the_appended_file(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    out = OutputFile(str(target), "csv", bom=True)
    out.start()
    out.write(Row(file="a.jpg", status="ok", id_number="110101199010090011"))
    out.finish()
    out.finish()  # a second finish is harmless
    text = target.read_text(encoding="utf-8")
    assert text.startswith("\ufeff")
    table = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert table[0] == list(CSV_COLUMNS)
    assert [line[0] for line in table[1:]] == ["a.jpg"]


def test_a_failed_rewrite_leaves_the_old_output_and_no_temporary(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "out.jsonl"
    out = OutputFile(str(target), "jsonl", bom=False)
    out.start([Row(file="a.jpg", status="ok")])

    def broken_rows() -> Iterator[Row]:
        yield Row(file="b.jpg", status="ok")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        out.finish(broken_rows())
    assert files(jsonl(target)) == ["a.jpg"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl"]


def test_stdout_is_written_and_never_closed(monkeypatch: pytest.MonkeyPatch,
                                            spy: WriterSpy) -> None:
    stdout = io.StringIO()
    monkeypatch.setattr(sys, "stdout", stdout)
    out = OutputFile("-", "jsonl", bom=True)
    out.start([Row(file="earlier.jpg", status="ok")])  # stdout gets only this run's rows
    out.write(Row(file="a.jpg", status="ok"))
    out.finish([Row(file="a.jpg", status="ok"), Row(file="z.jpg", status="ok")])
    assert not stdout.closed
    assert [json.loads(line)["file"] for line in stdout.getvalue().splitlines()] == ["a.jpg"]
    assert spy.finished == spy.made


def test_paired_output_writes_the_paired_columns(tmp_path: Path) -> None:
    target = tmp_path / "cards.csv"
    front = Row(file="zhang_front.jpg", status="ok", side="front", name="张三",
                id_number="110101199010090011", sha256="a" * 64)
    back = Row(file="zhang_back.jpg", status="ok", side="back", authority="某公安局",
               sha256="b" * 64)
    out = PairedOutputFile(str(target), "csv", bom=False, pair_by="auto")
    out.start([])
    out.write(front)  # nothing streams in pair mode
    table = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert table == [list(PAIRED_TABLE_COLUMNS)]

    out.finish([front, back])
    table = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert table[0] == list(PAIRED_TABLE_COLUMNS)
    assert len(table) == 2, table
    record = dict(zip(table[0], table[1], strict=True))
    assert (record["front_file"], record["back_file"]) == ("zhang_front.jpg", "zhang_back.jpg")
    assert mode(target) == 0o600


def test_paired_output_on_stdout(monkeypatch: pytest.MonkeyPatch) -> None:
    stdout = io.StringIO()
    monkeypatch.setattr(sys, "stdout", stdout)
    out = PairedOutputFile("-", "jsonl", bom=False, pair_by="auto")
    out.start()
    out.write(Row(file="a.jpg", status="error", error_code="400"))
    assert stdout.getvalue() == ""
    out.finish([Row(file="a.jpg", status="error", error_code="400")])
    records = [json.loads(line) for line in stdout.getvalue().splitlines()]
    assert [list(r) for r in records] == [list(PAIRED_TABLE_COLUMNS)]
    assert records[0]["pair_status"] == "unpaired"
    assert not stdout.closed
