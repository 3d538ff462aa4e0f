"""Personal data at rest, as an office meets it (docs/security.md): a sealed journal,
a run without its key, and old fields forgotten without paying again."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from batch_ocr.cli import main
from batch_ocr.run.journal.forget_cli import main as forget
from tests.e2e_support import FIXTURES, SAMPLES, emulator_in_thread, read_rows

pytestmark = pytest.mark.usefixtures("demo_keys")

KEY = "a long office secret 4f1c"
FRONT, BACK = "zhangsan_front.jpg", "zhangsan_back.png"


@pytest.fixture
def scans(tmp_path: Path) -> Path:
    folder = tmp_path / "scans"
    folder.mkdir()
    for name in (FRONT, BACK):
        shutil.copy(SAMPLES / name, folder / name)
    return folder


def fields_of(rows: list[dict[str, object]]) -> set[str]:
    return {str(row[key]) for row in rows for key in ("name", "id_number", "address")
            if row[key]}


def test_a_sealed_journal_needs_its_key_and_never_shows_it(
        scans: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    out, summary = tmp_path / "out.jsonl", tmp_path / "summary.json"
    argv = [str(scans), "-o", str(out), "--summary-json", str(summary), "--verbose"]
    monkeypatch.setenv("BATCH_OCR_JOURNAL_KEY", KEY)
    with emulator_in_thread(fixture_paths=(FIXTURES,)) as emulator:
        assert main([*argv, "--endpoint", emulator.url]) == 0
        fields = fields_of(read_rows(out))
        assert fields  # the output itself is the user's, in clear
        journal = out.with_name(out.name + ".state.sqlite").read_bytes()
        assert not any(field.encode() in journal for field in fields)

        monkeypatch.delenv("BATCH_OCR_JOURNAL_KEY")
        capsys.readouterr()
        assert main([*argv, "--endpoint", emulator.url]) == 2
        assert capsys.readouterr().err == (
            f"batch-ocr: error: the state journal {out}.state.sqlite holds encrypted "
            "fields: set BATCH_OCR_JOURNAL_KEY in the environment (or journal_key in the "
            "config file) to read it\n")
        assert emulator.stats()["calls"] == 2  # nothing sent without the key

        monkeypatch.setenv("BATCH_OCR_JOURNAL_KEY", "a wrong key")
        assert main([*argv, "--endpoint", emulator.url]) == 2
        err = capsys.readouterr().err
        assert "cannot be read with this journal_key" in err and "a wrong key" not in err
    # The key is in no log line, output, summary or journal.
    written = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    assert KEY.encode() not in written and KEY not in err
    assert KEY not in json.dumps(json.loads(summary.read_text()))


def test_forgotten_fields_cost_no_call_and_the_output_is_rebuilt_without_them(
        scans: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out.jsonl"
    monkeypatch.setenv("BATCH_OCR_JOURNAL_KEY", KEY)
    with emulator_in_thread(fixture_paths=(FIXTURES,)) as emulator:
        argv = [str(scans), "-o", str(out), "--quiet", "--endpoint", emulator.url]
        assert main(argv) == 0
        fields = fields_of(read_rows(out))
        assert forget([str(out), "--older-than", "30d"]) == 0  # nothing that old yet
        assert fields_of(read_rows(out)) == fields
        capsys.readouterr()
        assert forget([str(out), "--older-than", "0d"]) == 0
        assert capsys.readouterr().err == (
            "batch-ocr-forget: fields dropped from 2 rows older than 0 days; 0 newer rows "
            "kept as they were; 0 answers of unfinished pages dropped\n")
        shutil.copy(scans / FRONT, scans / "copy_of_front.jpg")  # known content, new name
        assert main(argv) == 0
        assert emulator.stats()["billable"] == 2  # the rerun paid for nothing
    rows = read_rows(out)
    assert len(rows) == 3 and fields_of(rows) == set()
    assert {(row["status"], row["error_code"]) for row in rows} == {("ok", "forgotten")}
    assert all(row["checks"] == [] and not row["needs_review"] for row in rows)
    journal = out.with_name(out.name + ".state.sqlite").read_bytes()
    assert not any(field.encode() in journal for field in fields)


def test_forget_says_what_is_wrong_in_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert forget([str(tmp_path / "none.csv"), "--older-than", "30d"]) == 2
    assert capsys.readouterr().err == (
        f"batch-ocr-forget: error: no state journal at {tmp_path}/none.csv.state.sqlite\n")
    with pytest.raises(SystemExit) as usage:
        forget([str(tmp_path / "none.csv"), "--older-than", "a month"])
    assert usage.value.code == 2
