"""A back office's first week: nothing skipped silently, the run's own files never read
back as scans."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from batch_ocr.cli import main
from tests.e2e_support import FIXTURES, HOSTILE, SAMPLES, emulator_in_thread, make_images

pytestmark = pytest.mark.usefixtures("demo_keys")


@pytest.fixture
def scans(tmp_path: Path) -> Path:
    """The sample cards (fronts have portraits) and the undecodable sample."""
    folder = tmp_path / "scans"
    folder.mkdir()
    for sample in (*SAMPLES.iterdir(), *HOSTILE.iterdir()):
        if sample.suffix.lower() in (".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff"):
            shutil.copy(sample, folder / sample.name)
    return folder


def test_portraits_output_journal_summary_and_report_inside_the_scans_are_never_read(
        scans: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = scans / "results" / "out.jsonl"
    out.parent.mkdir()
    summary = scans / "last-run.json"
    argv = [str(scans), "-o", str(out), "--portraits", str(scans / "portraits"),
            "--summary-json", str(summary), "--report", str(scans / "review.html")]
    with emulator_in_thread(fixture_paths=(FIXTURES,)) as emulator:
        first = main([*argv, "--endpoint", emulator.url])
        calls = emulator.stats()["calls"]
        assert any((scans / "portraits").iterdir())  # portraits were saved in the scans
        rows = out.read_text(encoding="utf-8").splitlines()
        second = main([*argv, "--endpoint", emulator.url])
        assert emulator.stats()["calls"] == calls  # no portrait was sent as a new scan
    assert (first, second) == (1, 0)  # broken.jpg, then nothing new
    assert out.read_text(encoding="utf-8").splitlines() == rows
    assert not any(json.loads(row)["file"].startswith(("portraits/", "results/"))
                   for row in rows)
    facts = json.loads(summary.read_text())
    assert facts["ignored_files"] == 0 and facts["ignored"] == []
    assert "ignored" not in capsys.readouterr().err


def test_ignored_files_are_named_on_stderr_and_in_the_summary(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scans = tmp_path / "scans"
    make_images(scans, 2)
    for index in range(23):
        (scans / "notes" / f"{index:02d}.txt").parent.mkdir(exist_ok=True)
        (scans / "notes" / f"{index:02d}.txt").write_text("x")
    (scans / "scan.docx").write_bytes(b"PK\x03\x04")
    summary = tmp_path / "summary.json"
    with emulator_in_thread() as emulator:
        code = main([str(scans), "-o", str(tmp_path / "out.csv"),
                     "--summary-json", str(summary), "--endpoint", emulator.url])
    assert code == 0
    err = capsys.readouterr().err.splitlines()
    assert "batch-ocr: files found: 2 (other files ignored: 24)" in err
    named = [line for line in err if line.startswith("batch-ocr: ignored: ")]
    assert named == [f"batch-ocr: ignored: notes/{i:02d}.txt" for i in range(20)] + [
        "batch-ocr: ignored: and 4 more (see --summary-json)"]
    facts = json.loads(summary.read_text())
    assert facts["ignored_files"] == 24
    assert facts["ignored"] == [f"notes/{i:02d}.txt" for i in range(23)] + ["scan.docx"]


def test_a_rerun_that_adds_nothing_still_says_what_the_output_holds(
        scans: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out, summary = tmp_path / "out.csv", tmp_path / "summary.json"
    argv = [str(scans), "-o", str(out), "--summary-json", str(summary)]
    with emulator_in_thread(fixture_paths=(FIXTURES,)) as emulator:
        assert main([*argv, "--endpoint", emulator.url]) == 1  # broken.jpg is rejected
        first = json.loads(summary.read_text())
        capsys.readouterr()
        # The exit code covers the rows this run wrote (docs/reference.md, "Exit codes"): none.
        assert main([*argv, "--endpoint", emulator.url]) == 0
    second = json.loads(summary.read_text())
    held = {"ok": 10, "not_id_card": 1, "scan_failed": 0, "rejected": 1, "error": 0}
    assert first["output_rows_by_status"] == held == second["output_rows_by_status"]
    assert second["rows_written"] == 0 and not any(second["rows_by_status"].values())
    assert ("batch-ocr: the output now holds: 12 rows (ok 10, not_id_card 1, rejected 1)"
            in capsys.readouterr().err.splitlines())


def test_to_stdout_the_output_holds_this_runs_rows(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scans = tmp_path / "scans"
    make_images(scans, 3)
    (scans / "empty.jpg").write_bytes(b"")
    summary = tmp_path / "summary.json"
    with emulator_in_thread() as emulator:
        assert main([str(scans), "-o", "-", "--summary-json", str(summary),
                     "--endpoint", emulator.url]) == 1
    facts = json.loads(summary.read_text())
    assert facts["output_rows_by_status"] == facts["rows_by_status"]
    assert facts["output_rows_by_status"]["rejected"] == 1


@pytest.mark.parametrize("where", ["environment", "config file", "both"])
def test_bad_credentials_cost_one_request_and_the_message_says_where_they_were_set(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], where: str) -> None:
    """With eight request slots and twelve images, a refused key is one request (the
    first call goes alone), exit 3, and the message names the settings to fix where
    they were set (docs/reference.md, "Fatal conditions")."""
    scans = tmp_path / "scans"
    make_images(scans, 12)
    monkeypatch.chdir(tmp_path)
    for name in ("BATCH_OCR_SECRET_ID", "BATCH_OCR_SECRET_KEY"):
        monkeypatch.delenv(name)
    config = tmp_path / "batch-ocr.toml"
    if where == "environment":
        monkeypatch.setenv("BATCH_OCR_SECRET_ID", "AKIDwrong")
        monkeypatch.setenv("BATCH_OCR_SECRET_KEY", "wrong-key")
        check = "BATCH_OCR_SECRET_ID and BATCH_OCR_SECRET_KEY in the environment"
    elif where == "config file":
        config.write_text('[api]\nsecret_id = "AKIDwrong"\nsecret_key = "wrong-key"\n',
                          encoding="utf-8")
        config.chmod(0o600)
        check = "secret_id and secret_key in the config file batch-ocr.toml"
    else:  # the environment wins over the file for the key it sets
        config.write_text('secret_id = "AKIDwrong"\nsecret_key = "file-key"\n',
                          encoding="utf-8")
        config.chmod(0o600)
        monkeypatch.setenv("BATCH_OCR_SECRET_KEY", "wrong-key")
        check = ("secret_id in the config file batch-ocr.toml and BATCH_OCR_SECRET_KEY in "
                 "the environment")
    with emulator_in_thread() as emulator:
        code = main(["scans", "-o", "out.csv", "--concurrency", "8", "--quiet",
                     "--endpoint", emulator.url])
        stats = emulator.stats()
    err = capsys.readouterr().err
    assert code == 3
    assert stats["calls"] == 1 and stats["billable"] == 0
    fatal = [line for line in err.splitlines() if "fatal" in line]
    assert fatal == ["batch-ocr: fatal: the API refused the credentials (HTTP 401: HMAC "
                     f"signature cannot be verified); check {check}"]
    assert "wrong-key" not in err and "file-key" not in err


def test_quiet_prints_nothing_on_success_and_the_summary_when_the_run_fails(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scans = tmp_path / "scans"
    make_images(scans, 3)
    argv = [str(scans), "-o", str(tmp_path / "out.csv"), "--quiet",
            "--report", str(tmp_path / "review.html")]
    with emulator_in_thread() as emulator:
        assert main([*argv, "--endpoint", emulator.url]) == 0
        assert capsys.readouterr() == ("", "")  # no start line, summary or page notice
        (scans / "empty.jpg").write_bytes(b"")
        assert main([*argv, "--endpoint", emulator.url]) == 1
    err = capsys.readouterr().err.splitlines()
    # A run that exits non-zero says why, as without --quiet (a cron log needs it).
    assert err[:3] == ["batch-ocr: files found: 4", "batch-ocr: pages read: 1, cards read: 0",
                       "batch-ocr: rows written: 1 (rejected 1)"]
    assert not any(line.startswith("batch-ocr: engine:") for line in err)
@pytest.mark.skipif(os.name != "posix",
                    reason="needs POSIX symlinks")
def test_a_linked_folder_is_named_and_read_with_follow_links(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    scans, nas = tmp_path / "scans", tmp_path / "nas"
    make_images(scans, 1)
    make_images(nas, 2, seed=1)
    (scans / "nas").symlink_to(nas, target_is_directory=True)
    (nas / "loop").symlink_to(tmp_path, target_is_directory=True)
    summary = tmp_path / "summary.json"
    argv = [str(scans), "-o", str(tmp_path / "out.csv"), "--summary-json", str(summary)]
    with emulator_in_thread() as emulator:
        assert main([*argv, "--endpoint", emulator.url]) == 0
        err = capsys.readouterr().err.splitlines()
        facts = json.loads(summary.read_text())
        assert emulator.stats()["calls"] == 1
        # Not silent: named on stderr and in the summary, counted (docs/reference.md, "Options").
        assert "batch-ocr: files found: 1 (other files ignored: 1)" in err
        assert "batch-ocr: ignored: nas/" in err
        assert any("--follow-links reads them" in line for line in err)
        assert (facts["ignored_files"], facts["ignored"]) == (1, ["nas/"])

        monkeypatch.setenv("BATCH_OCR_FOLLOW_LINKS", "true")  # as the flag, from the env
        assert main([*argv, "--endpoint", emulator.url]) == 0
        facts = json.loads(summary.read_text())
        assert emulator.stats()["calls"] == 3  # the two linked images, each read once
    assert facts["images_found"] == 3
    assert (facts["ignored_files"], facts["ignored"]) == (1, ["nas/loop/"])
    rows = (tmp_path / "out.csv").read_text(encoding="utf-8-sig").splitlines()[1:]
    assert sorted(row.split(",")[0] for row in rows) == [
        "img_00000.jpg", "nas/img_00000.jpg", "nas/img_00001.jpg"]


@pytest.mark.skipif(sys.platform != "linux", reason="needs a filesystem taking any bytes")
def test_a_byte_and_its_escape_spelled_out_never_share_a_row_name_or_a_portrait(
        tmp_path: Path) -> None:
    scans, faces, out = tmp_path / "scans", tmp_path / "faces", tmp_path / "out.jsonl"
    scans.mkdir()
    front = (SAMPLES / "zhangsan_front.jpg").read_bytes()
    for name in (b"\xff.jpg", b"\\xff.jpg"):  # the byte 0xFF; backslash, x, f, f
        with open(os.fsencode(scans) + b"/" + name, "wb") as handle:
            handle.write(front)
    with emulator_in_thread(fixture_paths=(FIXTURES,)) as emulator:
        assert main([str(scans), "-o", str(out), "--portraits", str(faces), "--quiet",
                     "--endpoint", emulator.url]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert sorted(row["file"] for row in rows) == ["\\\\xff.jpg", "\\xff.jpg"]
    portraits = {row["portrait_file"] for row in rows}
    assert len(portraits) == 2 and all(Path(p).is_file() for p in portraits)
    assert sorted(os.listdir(faces)) == ["\\\\xff.jpg.jpg", "\\xff.jpg.jpg"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX modes only")
def test_folders_the_run_makes_are_0700_with_umask_000(tmp_path: Path) -> None:
    scans = tmp_path / "scans"
    (scans / "desk").mkdir(parents=True)
    shutil.copy(SAMPLES / "zhangsan_front.jpg", scans / "desk" / "zhangsan_front.jpg")
    made = tmp_path / "made"
    old = os.umask(0o000)
    try:
        with emulator_in_thread(fixture_paths=(FIXTURES,)) as emulator:
            code = main([str(scans), "-o", str(made / "out" / "rows.csv"), "--quiet",
                         "--portraits", str(made / "faces"),
                         "--report", str(made / "review" / "page.html"),
                         "--summary-json", str(made / "runs" / "summary.json"),
                         "--endpoint", emulator.url])
    finally:
        os.umask(old)
    assert code == 0
    folders = sorted(p for p in made.rglob("*") if p.is_dir())
    assert [p.relative_to(made).as_posix() for p in folders] == [
        "faces", "faces/desk", "out", "review", "runs"]
    assert {p.relative_to(made).as_posix(): oct(p.stat().st_mode & 0o777)
            for p in [made, *folders]} == dict.fromkeys(
        [".", "faces", "faces/desk", "out", "review", "runs"], "0o700")
    files = [p for p in made.rglob("*") if p.is_file()]
    assert files and all(p.stat().st_mode & 0o777 == 0o600 for p in files)
