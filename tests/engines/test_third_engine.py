"""A new engine is one module, one registry line and one settings section.

The engine (``echo_engine.py``) is defined here, in the tests: the run, the CLI and the
settings know nothing of it but its registry line. A billed one brings its own price
(the dry run quotes it) and names its own failures that a later run retries.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest

from batch_ocr.cli import build_parser, main
from batch_ocr.engines import registry
from tests.engines.echo_engine import (
    BUSY,
    PAID_REGISTRY_LINE,
    REFUSED,
    REGISTRY_LINE,
    EchoEngine,
)
from tests.pictures import marked


@pytest.fixture
def echo_registered(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    name, target = REGISTRY_LINE
    monkeypatch.setitem(registry.ENGINES, name, target)
    for key in list(os.environ):
        if key.startswith("BATCH_OCR_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.chdir(tmp_path)
    scans = tmp_path / "scans"
    scans.mkdir()
    for index in range(3):
        marked((320, 200), (index * 80, 120, 200)).save(scans / f"card{index}.png")
    marked((320, 200), (0, 120, 200)).save(scans / "copy_of_card0.png")
    return scans


def test_engine_choices_come_from_the_registry(echo_registered: Path) -> None:
    engine_action = next(a for a in build_parser()._actions if a.dest == "engine")
    assert list(engine_action.choices or ()) == ["api", "local", "hybrid", "echo", "auto"]


def test_the_real_cli_runs_through_a_registered_engine(
        echo_registered: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    Path("batch-ocr.toml").write_text('[echo]\nname_prefix = "测试"\n', encoding="utf-8")
    out = tmp_path / "out.csv"
    started, closed = EchoEngine.started, EchoEngine.closed

    code = main([str(echo_registered), "-o", str(out), "--engine", "echo",
                 "--portraits", str(tmp_path / "faces")])

    err = capsys.readouterr().err
    assert code == 0, err
    assert "batch-ocr: engine: echo (the tests' echo engine; version 1)" in err
    assert "recognised offline by the echo engine: no call made, nothing billed" in err
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = {row["file"]: row for row in csv.DictReader(handle)}
    assert sorted(rows) == ["card0.png", "card1.png", "card2.png", "copy_of_card0.png"]
    assert all(row["engine"] == "echo" and row["status"] == "ok" for row in rows.values())
    assert all(row["name"].startswith("测试") for row in rows.values())
    # Same content, one recognition: the copy carries the first one's fields.
    assert rows["copy_of_card0.png"]["name"] == rows["card0.png"]["name"]
    # Portraits the engine cropped itself are saved, for copies too.
    for row in rows.values():
        assert Path(row["portrait_file"]).is_file(), row
    assert (EchoEngine.started - started, EchoEngine.closed - closed) == (1, 1)


def test_a_bad_section_is_a_usage_error(echo_registered: Path, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    Path("batch-ocr.toml").write_text("[echo]\nname_prefx = 1\n", encoding="utf-8")

    code = main([str(echo_registered), "-o", str(tmp_path / "out.csv"), "--engine", "echo"])

    assert code == 2
    assert capsys.readouterr().err.startswith("batch-ocr: error: invalid [echo] section: ")


def test_an_unregistered_engine_is_refused(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main([str(tmp_path), "-o", str(tmp_path / "out.csv"), "--engine", "echo"])
    assert stopped.value.code == 2
    assert "invalid choice: 'echo'" in capsys.readouterr().err


def test_a_fatal_error_from_the_new_engine_stops_the_cli_with_exit_3(
        echo_registered: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    Path("batch-ocr.toml").write_text("[echo]\nlose_cluster_after = 1\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"

    code = main([str(echo_registered), "-o", str(out), "--engine", "echo",
                 "--concurrency", "1"])

    err = capsys.readouterr().err
    assert code == 3
    assert err.count("batch-ocr: fatal: the echo cluster at tcp://127.0.0.1:1 went away") == 1
    assert "Traceback" not in err and "internal_error" not in out.read_text(encoding="utf-8")
    assert "not attempted (left for the next run): 3" in err


@pytest.fixture
def paid_echo_registered(echo_registered: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    name, target = PAID_REGISTRY_LINE
    monkeypatch.setitem(registry.ENGINES, name, target)
    return echo_registered


def _summary(path: Path) -> dict[str, object]:
    facts: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
    return facts


def test_a_dry_run_quotes_the_new_engines_own_price(
        paid_echo_registered: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The API's price (a flat key of its [api] section) is not the new engine's.
    Path("batch-ocr.toml").write_text("price_per_call = 9.0\n[paid_echo]\nprice_per_call = 0.25\n",
                                      encoding="utf-8")
    out, summary = tmp_path / "out.csv", tmp_path / "summary.json"

    code = main([str(paid_echo_registered), "-o", str(out), "--engine", "paid_echo",
                 "--dry-run", "--summary-json", str(summary)])

    err = capsys.readouterr().err
    assert code == 0, err
    # Four files, three contents: the copy is never paid for.
    assert "batch-ocr: dry run: a real run would make 3 calls (about 0.75 CNY at 0.25 per call)" \
        in err
    facts = _summary(summary)
    assert (facts["would_call"], facts["estimated_cost"]) == (3, 0.75)

    code = main([str(paid_echo_registered), "-o", str(out), "--engine", "paid_echo",
                 "--summary-json", str(summary)])

    assert code == 0, capsys.readouterr().err
    facts = _summary(summary)
    assert (facts["calls"], facts["estimated_cost"], facts["engine"]) == (3, 0.75, "paid_echo")


def test_a_later_run_retries_the_failures_the_new_engine_names(
        paid_echo_registered: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scans = tmp_path / "shapes"
    scans.mkdir()
    for name, size in (("wide.png", (320, 200)), ("square.png", (200, 200)),
                       ("tall.png", (200, 320))):
        marked(size, (90, 120, 200)).save(scans / name)
    out, summary = tmp_path / "out.csv", tmp_path / "summary.json"
    config = Path("batch-ocr.toml")

    config.write_text("[paid_echo]\nbusy = true\n", encoding="utf-8")
    first = main([str(scans), "-o", str(out), "--engine", "paid_echo"])
    capsys.readouterr()
    config.write_text("[paid_echo]\nbusy = false\n", encoding="utf-8")
    second = main([str(scans), "-o", str(out), "--engine", "paid_echo",
                   "--summary-json", str(summary)])

    err = capsys.readouterr().err
    assert (first, second) == (1, 0), err
    # Only the image whose failure the engine called transient was sent again.
    assert "already done in an earlier run: 2" in err
    assert _summary(summary)["calls"] == 1
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = {row["file"]: row for row in csv.DictReader(handle)}
    assert {name: (row["status"], row["error_code"]) for name, row in rows.items()} == {
        "wide.png": ("ok", ""), "square.png": ("ok", ""), "tall.png": ("error", REFUSED)}
    assert BUSY not in out.read_text(encoding="utf-8-sig")
