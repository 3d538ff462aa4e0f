"""``--redo-engine-older-than``: after an engine fix, only the pages an older version of
that engine recorded are read again; through the API a dry run says first how many and
what they would cost, offline they cost nothing (docs/resume.md)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from batch_ocr.cli import main
from batch_ocr.engines import registry
from batch_ocr.engines.api.engine import ApiEngine
from tests.e2e_support import emulator_in_thread, make_images, read_rows
from tests.engines.echo_engine import REGISTRY_LINE, EchoEngine
from tests.pictures import marked


def _lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return capsys.readouterr().err.splitlines()


def test_through_the_api_a_dry_run_prices_the_rereads_then_the_run_pays_only_those(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, demo_keys: None,
        capsys: pytest.CaptureFixture[str]) -> None:
    scans, out, facts = tmp_path / "scans", tmp_path / "out.jsonl", tmp_path / "last.json"
    make_images(scans, 5)
    with emulator_in_thread() as emulator:
        def run(*extra: str) -> int:
            return main([str(scans), "-o", str(out), "--endpoint", emulator.url,
                         "--summary-json", str(facts), *extra])

        assert run() == 0 and emulator.stats()["calls"] == 5
        capsys.readouterr()
        monkeypatch.setattr(ApiEngine, "version", "2")  # the engine was fixed since
        make_images(scans / "new", 2, seed=1)
        redo = ("--redo-engine-older-than", "2")

        assert run(*redo, "--dry-run") == 0
        err = _lines(capsys)
        assert emulator.stats()["calls"] == 5  # a dry run sends nothing
        assert ("batch-ocr: dry run: pages the api engine recorded before version 2, to read "
                "again: 5 (5 calls, about 5.00 CNY at 1 per call)") in err
        assert "batch-ocr: dry run: a real run would make 7 calls (about 7.00 CNY at 1 per call)" in err
        dry = json.loads(facts.read_text())
        assert (dry["engine_version"], dry["redo_engine_older_than"]) == ("2", "2")
        assert (dry["older_engine_rereads"], dry["older_engine_reread_calls"]) == (5, 5)
        assert err[0] == "batch-ocr: engine: api (each call may be billed; version 2)"

        assert run(*redo) == 0
        assert emulator.stats()["calls"] == 5 + 7  # the five again, and the two new
        assert "batch-ocr: pages the api engine recorded before version 2, read again: 5" in _lines(capsys)

        assert run(*redo) == 0  # all at version 2 now: nothing is older
        assert emulator.stats()["calls"] == 12
        assert "batch-ocr: pages the api engine recorded before version 2, read again: 0" in _lines(capsys)
        assert run() == 0 and emulator.stats()["calls"] == 12
    assert len(read_rows(out)) == 7


def test_offline_the_rereads_cost_nothing_and_other_engines_pages_stay(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, demo_keys: None,
        capsys: pytest.CaptureFixture[str]) -> None:
    name, target = REGISTRY_LINE
    monkeypatch.setitem(registry.ENGINES, name, target)
    scans, out, facts = tmp_path / "scans", tmp_path / "out.csv", tmp_path / "last.json"
    argv = [str(scans), "-o", str(out), "--summary-json", str(facts)]
    make_images(scans / "api", 2)
    with emulator_in_thread() as emulator:  # two pages read through the API first
        assert main([*argv, "--engine", "api", "--endpoint", emulator.url]) == 0
    for index in range(3):
        marked((320, 200), (index * 80, 120, 200)).save(scans / f"card{index}.png")
    marked((320, 200), (0, 120, 200)).save(scans / "copy_of_card0.png")
    assert main([*argv, "--engine", "echo"]) == 0  # the cards, by the echo engine
    capsys.readouterr()
    monkeypatch.setattr(EchoEngine, "version", "2")  # the engine was fixed since

    assert main([*argv, "--engine", "echo", "--redo-engine-older-than", "2", "--dry-run"]) == 0
    # card0 and its copy are one content: read once.
    assert ("batch-ocr: dry run: pages the echo engine recorded before version 2, to read "
            "again: 3 (offline: nothing is billed)") in _lines(capsys)
    started = EchoEngine.started
    assert main([*argv, "--engine", "echo", "--redo-engine-older-than", "2"]) == 0
    err = _lines(capsys)
    assert "batch-ocr: pages the echo engine recorded before version 2, read again: 3" in err
    assert "batch-ocr: recognised offline by the echo engine: no call made, nothing billed" in err
    assert EchoEngine.started == started + 1
    assert json.loads(facts.read_text())["older_engine_rereads"] == 3
    with out.open(encoding="utf-8-sig", newline="") as handle:
        engines = {row["file"]: row["engine"] for row in csv.DictReader(handle)}
    # The API's pages are not the echo engine's to judge: they were not read again.
    assert engines == {"api/img_00000.jpg": "api", "api/img_00001.jpg": "api",
                       "card0.png": "echo", "card1.png": "echo", "card2.png": "echo",
                       "copy_of_card0.png": "echo"}
