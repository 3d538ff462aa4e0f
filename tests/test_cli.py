"""CLI behaviour that needs no server: usage, configuration, help, dry runs, locks."""

from __future__ import annotations

import gc
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from batch_ocr import __version__, cli
from batch_ocr.cli import EXIT_LOCKED, EXIT_USAGE, build_parser, main
from batch_ocr.run.journal.locks import output_locked
from batch_ocr.run.journal.state import Journal
from batch_ocr.settings import SETTING_KEYS, env_var
from tests.pictures import marked

MISSING_CREDENTIALS = (
    "batch-ocr: error: missing API credentials: set BATCH_OCR_SECRET_ID and "
    "BATCH_OCR_SECRET_KEY in the environment (or secret_id/secret_key in the config file)\n"
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in list(os.environ):
        if key.startswith("BATCH_OCR_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "no-config"))
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def scans(tmp_path: Path) -> Path:
    folder = tmp_path / "scans"
    folder.mkdir()
    marked((200, 120), "white").save(folder / "a.jpg")
    marked((200, 120), "white").save(folder / "a_copy.jpg")
    marked((200, 120), "black").save(folder / "b.png")
    (folder / "empty.jpg").write_bytes(b"")
    return folder


def test_missing_credentials_exit_2_with_one_line(scans: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(scans), "-o", "out.csv", "--engine", "api"]) == EXIT_USAGE
    captured = capsys.readouterr()
    assert captured.err == MISSING_CREDENTIALS
    assert not Path("out.csv").exists()


def test_missing_only_the_key_names_only_the_key(scans: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BATCH_OCR_SECRET_ID", "AKIDx")
    assert main([str(scans), "-o", "out.csv"]) == EXIT_USAGE
    assert "set BATCH_OCR_SECRET_KEY in the environment" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-o", "out.xls"], "cannot tell the format of out.xls: name it .csv, .jsonl or "
         ".xlsx, or give --format"),
        (["-o", "-", "--format", "xlsx"], "an Excel workbook cannot be written to stdout: "
         "name a .xlsx file"),
        (["-o", "out.csv", "--concurrency", "0"], "invalid settings: concurrency: Input should "
         "be greater than or equal to 1"),
        (["-o", "out.csv", "--endpoint", "ftp://x"], "invalid settings: endpoint: Value error, "
         "must start with https:// or http://"),
        (["-o", "out.csv", "--config", "nope.toml"], "config file not found: nope.toml"),
        (["-o", "out.csv", "--review-on", "copy,glare"], "invalid settings: review_on: Value "
         "error, unknown risk(s) glare; valid: copy, reshoot, blur, border_incomplete, expired"),
    ],
)
def test_usage_errors_exit_2(scans: Path, monkeypatch: pytest.MonkeyPatch,
                             capsys: pytest.CaptureFixture[str], argv: list[str],
                             message: str) -> None:
    monkeypatch.setenv("BATCH_OCR_SECRET_ID", "AKIDx")
    monkeypatch.setenv("BATCH_OCR_SECRET_KEY", "k")
    assert main([str(scans), *argv]) == EXIT_USAGE
    assert capsys.readouterr().err == f"batch-ocr: error: {message}\n"


USAGE = "usage: batch-ocr [OPTIONS] SRC [SRC ...] -o OUT\n"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--concurency", "4", "-o", "out.csv"],
         "unrecognized option --concurency: did you mean --concurrency?"),
        (["--concurency=4", "-o", "out.csv"],
         "unrecognized option --concurency: did you mean --concurrency?"),
        # Misspelt, -o is missing too: the misspelling is what to fix.
        (["--ouput", "c.csv"], "unrecognized option --ouput: did you mean --output?"),
        (["-o", "out.csv", "--summary_json", "s.json"],
         "unrecognized option --summary_json: did you mean --summary-json?"),
        (["-o", "out.csv", "--frobnicate"],
         "unrecognized option --frobnicate (see batch-ocr --help)"),
        ([], "the following arguments are required: -o/--output"),
        (["-o"], "argument -o/--output: expected one argument"),
        (["-o", "out.csv", "--concurrency"], "argument --concurrency: expected one argument"),
        (["-o", "out.csv", "--pa"], "ambiguous option: --pa could match --pair, --pair-by"),
        (["-o", "out.csv", "--redo-engine-older-than", "v2"],
         "argument --redo-engine-older-than: not an engine version (like 2 or 1.3): 'v2'"),
    ],
)
def test_a_mistyped_or_missing_option_is_named_with_the_nearest_one(
        scans: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    with pytest.raises(SystemExit) as stopped:
        main([str(scans), *argv])
    assert stopped.value.code == EXIT_USAGE
    assert capsys.readouterr().err == f"{USAGE}batch-ocr: error: {message}\n"


def test_an_abbreviation_or_a_path_after_double_dash_is_no_unknown_option(
        scans: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # --conc is --concurrency (argparse takes unambiguous prefixes); after "--" a name
    # is a SRC whatever it looks like (here one that does not exist).
    assert main(["-o", "out.csv", "--conc", "4", "--dry-run", "--engine", "local",
                 "--", str(scans), "--no-such-folder"]) == EXIT_USAGE
    assert capsys.readouterr().err == "batch-ocr: error: no such file or folder: --no-such-folder\n"


def test_missing_source_exit_2(capsys: pytest.CaptureFixture[str],
                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BATCH_OCR_SECRET_ID", "AKIDx")
    monkeypatch.setenv("BATCH_OCR_SECRET_KEY", "k")
    assert main(["nowhere", "-o", "out.csv"]) == EXIT_USAGE
    assert capsys.readouterr().err == "batch-ocr: error: no such file or folder: nowhere\n"


def test_unknown_config_key_is_named(scans: Path, capsys: pytest.CaptureFixture[str]) -> None:
    Path("batch-ocr.toml").write_text('concurency = 4\nsecret_id = "a"\nsecret_key = "b"\n')
    assert main([str(scans), "-o", "out.csv"]) == EXIT_USAGE
    assert capsys.readouterr().err == (
        "batch-ocr: error: unknown key(s) in batch-ocr.toml: concurency\n")


def test_secret_key_never_in_a_validation_message(scans: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BATCH_OCR_SECRET_ID", "AKIDx")
    monkeypatch.setenv("BATCH_OCR_SECRET_KEY", "TOPSECRET-VALUE")
    monkeypatch.setenv("BATCH_OCR_QPS", "TOPSECRET-VALUE")
    assert main([str(scans), "-o", "out.csv"]) == EXIT_USAGE
    assert "TOPSECRET" not in capsys.readouterr().err


def test_help_lists_every_option_with_default_and_environment() -> None:
    parser = build_parser()
    text = " ".join(parser.format_help().split())  # argparse wraps lines anywhere
    options = [a for a in parser._actions if a.option_strings and a.dest not in ("help",)]
    assert len(options) >= 25
    for action in options:
        for flag in action.option_strings:
            assert flag in text, flag
        if action.dest == "version":
            continue
        assert action.help and "default" in action.help, action.dest
        # A flag that sets a setting names the environment variable that sets it too.
        if action.dest in SETTING_KEYS:
            assert env_var(action.dest) in text, action.dest


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["--version"])
    assert stopped.value.code == 0
    assert capsys.readouterr().out == f"batch-ocr {__version__}\n"


def test_dry_run_counts_distinct_calls_and_cost(scans: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    Path("batch-ocr.toml").write_text("price_per_call = 1.5\n")
    summary = tmp_path / "summary.json"
    code = main([str(scans), "-o", "out.csv", "--dry-run", "--engine", "api",
                 "--summary-json", str(summary)])
    err = capsys.readouterr().err
    # a.jpg and a_copy.jpg are one content: one call. empty.jpg is refused locally.
    assert "dry run: a real run would make 2 calls (about 3.00 CNY at 1.5 per call)" in err
    assert code == 1  # the empty file would be rejected
    assert not Path("out.csv").exists()
    report = json.loads(summary.read_text())
    assert report["would_call"] == 2 and report["calls"] == 0 and report["dry_run"] is True
    assert report["estimated_cost"] == 3.0
    assert oct(summary.stat().st_mode & 0o777) == "0o600"


def test_dry_run_with_the_offline_engine_names_no_price(
        scans: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    summary = tmp_path / "summary.json"
    code = main([str(scans), "-o", "out.csv", "--dry-run", "--engine", "local",
                 "--summary-json", str(summary)])
    err = capsys.readouterr().err
    assert code == 1  # the empty file would be rejected
    assert ("dry run: a real run would recognise 2 pages with the local engine "
            "(offline: nothing is billed)") in err
    assert "CNY" not in err
    report = json.loads(summary.read_text())
    assert (report["would_call"], report["estimated_cost"], report["engine"]) == (2, 0.0, "local")


def test_second_run_on_the_same_state_exits_75(scans: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BATCH_OCR_SECRET_ID", "AKIDx")
    monkeypatch.setenv("BATCH_OCR_SECRET_KEY", "k")
    with Journal(Path("out.csv.state.sqlite")):
        assert main([str(scans), "-o", "out.csv"]) == EXIT_LOCKED
    assert capsys.readouterr().err == (
        "batch-ocr: another batch-ocr run is writing out.csv or using out.csv.state.sqlite; "
        "try again when it has finished\n")


@pytest.mark.parametrize("state", [[], ["--state", "mine.sqlite"]],
                         ids=["default state", "state of its own"])
def test_a_second_run_writing_the_same_output_exits_75_whatever_its_state(
        scans: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        state: list[str]) -> None:
    """The output itself is locked: a run writing out.csv with --state other.sqlite
    (what ``output_locked`` holds) keeps out a second one, on any journal."""
    monkeypatch.setenv("BATCH_OCR_SECRET_ID", "AKIDx")
    monkeypatch.setenv("BATCH_OCR_SECRET_KEY", "k")
    with output_locked(Path("out.csv")), Journal(Path("other.sqlite")):
        assert main([str(scans), "-o", "out.csv", *state]) == EXIT_LOCKED
        # On the default journal, the lock held is that journal's too.
        busy = "writing out.csv" + ("" if state else " or using out.csv.state.sqlite")
        assert capsys.readouterr().err == (
            f"batch-ocr: another batch-ocr run is {busy}; try again when it has finished\n")
        if state:  # a dry run writes no output: it needs only its own journal
            assert main([str(scans), "-o", "out.csv", "--dry-run", "-q", *state]) == 1
    assert not Path("out.csv").exists()


@pytest.mark.skipif(os.name != "posix", reason="file modes say who reads a file on POSIX only")
def test_a_loose_config_file_with_the_secret_is_named_and_the_run_goes_on(
        scans: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = Path("batch-ocr.toml")
    config.write_text('secret_id = "AKIDx"\nsecret_key = "k-loose-0644"\n', encoding="utf-8")
    config.chmod(0o644)
    code = main([str(scans), "-o", "out.csv", "--dry-run", "--quiet"])
    err = capsys.readouterr().err
    assert err.startswith("batch-ocr: warning: batch-ocr.toml holds secret_key and other "
                          "users can read it; run: chmod 600 batch-ocr.toml\n")
    assert "dry run: a real run would make 2 calls" in err
    assert "k-loose-0644" not in err
    assert code == 1


def test_an_offline_dry_run_says_how_many_files_and_pages_it_would_read(
        scans: Path, capsys: pytest.CaptureFixture[str]) -> None:
    frames = [marked((200, 120), color) for color in ("red", "green", "blue")]
    frames[0].save(scans / "three_pages.tif", save_all=True, append_images=frames[1:])
    code = main([str(scans), "-o", "out.csv", "--dry-run", "--engine", "local"])
    err = capsys.readouterr().err.splitlines()
    assert code == 1  # the empty file would be rejected
    assert "batch-ocr: dry run: files to read: 5 (7 pages)" in err
    assert ("batch-ocr: dry run: a real run would recognise 5 pages with the local engine "
            "(offline: nothing is billed)") in err
    assert not any("CNY" in line for line in err)


def test_the_command_collects_garbage_during_the_run_not_while_starting(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Start-up only allocates what lives to the end; a run of millions of images must
    # still be collected (cli.command).
    seen: dict[str, bool] = {}

    def fake_main(argv: object = None, *, prepared: Callable[[], None]) -> int:
        seen["starting"] = gc.isenabled()
        prepared()
        seen["running"] = gc.isenabled()
        return 0

    monkeypatch.setattr(cli, "main", fake_main)
    try:
        with pytest.raises(SystemExit) as exited:
            cli.command()
    finally:
        gc.unfreeze()
        gc.enable()
    assert seen == {"starting": False, "running": True}
    assert exited.value.code == 0
