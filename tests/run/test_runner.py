"""A whole run as a library call (``batch_ocr/run/runner.py``) with an engine defined here:
the engine's lifecycle, the lock, the output rebuilt and shown through the view."""

from __future__ import annotations

import asyncio
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from batch_ocr.engines.base import Engine, EngineCounters, EngineResult
from batch_ocr.errors import ConfigError, RunLockedError
from batch_ocr.provider.models import CardData, CardInfo
from batch_ocr.run.journal.state import Journal
from batch_ocr.run.pipeline import RunOptions
from batch_ocr.run.runner import OutputView, Runner, state_path_for, write_summary_json
from batch_ocr.run.summary import RunSummary, exit_status, summary_json
from batch_ocr.settings import Settings
from batch_ocr.vision.imaging import PreparedImage
from tests.pictures import marked

ID_NUMBER = "360113199010099893"
BOUND_S = 30.0


class LifecycleEngine(Engine):
    """Reads every card as the same person; records its lifecycle."""

    name = "lifecycle"

    def __init__(self, *, fail_start: bool = False) -> None:
        self.fail_start = fail_start
        self.events: list[str] = []
        self.seen = 0

    async def start(self) -> None:
        self.events.append("start")
        if self.fail_start:
            raise OSError("cannot start the engine")

    async def recognise(self, image: PreparedImage) -> EngineResult:
        assert self.events == ["start"], "recognise before start or after aclose"
        self.seen += 1
        info = CardInfo(name="张三丰", number=ID_NUMBER, address="北京市东城区某街1号")
        return EngineResult(CardData(result=0, side="front", info=info,
                                     validity={"name": True}), attempts=1)

    def counters(self) -> EngineCounters:
        return EngineCounters(calls=self.seen)

    async def aclose(self) -> None:
        self.events.append("aclose")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def open_umask() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.fixture
def scans(tmp_path: Path) -> Path:
    folder = tmp_path / "scans"
    folder.mkdir()
    for index in range(3):
        marked((120, 80), (index * 70, 90, 200)).save(folder / f"card{index}.png")
    return folder


def runner(scans: Path, output: Path | str, engine: Engine, *, dry_run: bool = False,
           view: OutputView | None = None, started: list[str] | None = None) -> Runner:
    on_start = (lambda: started.append("locked")) if started is not None else None
    return Runner(Settings.model_validate({}), [scans], str(output), engine=engine,
                  options=RunOptions(concurrency=2, dry_run=dry_run), view=view,
                  on_start=on_start)


def jsonl(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


async def run(runner: Runner) -> RunSummary:
    return await asyncio.wait_for(runner.run(), BOUND_S)


def test_state_path_for() -> None:
    assert state_path_for("out/r.csv", None) == Path("out/r.csv.state.sqlite")
    assert state_path_for("out/r.csv", Path("elsewhere.sqlite")) == Path("elsewhere.sqlite")
    assert state_path_for("-", None) is None
    assert state_path_for("-", Path("s.sqlite")) == Path("s.sqlite")


async def test_a_run_starts_and_closes_its_engine_once(scans: Path, tmp_path: Path) -> None:
    engine = LifecycleEngine()
    output = tmp_path / "out.jsonl"
    summary = await run(runner(scans, output, engine))
    assert engine.events == ["start", "aclose"]
    assert engine.seen == 3
    assert summary.rows_written == 3
    assert summary.engine == "lifecycle"
    assert exit_status(summary) == 0
    rows = jsonl(output)
    assert [row["file"] for row in rows] == ["card0.png", "card1.png", "card2.png"]
    assert {row["engine"] for row in rows} == {"lifecycle"}
    assert mode(output) == 0o600
    assert mode(tmp_path / "out.jsonl.state.sqlite") == 0o600


async def test_a_dry_run_never_starts_the_engine_nor_writes(scans: Path, tmp_path: Path) -> None:
    engine = LifecycleEngine()
    output = tmp_path / "out.jsonl"
    summary = await run(runner(scans, output, engine, dry_run=True))
    assert engine.events == []
    assert summary.dry_run and summary.would_call == 3
    assert not output.exists()


class ReadingToCount(LifecycleEngine):
    """An engine that must read to count its calls (as hybrid reads offline)."""

    reads_in_dry_run = True

    async def calls_for(self, image: PreparedImage) -> int:
        assert self.events == ["start"], "counted before start or after aclose"
        return 2


async def test_a_dry_run_starts_an_engine_that_reads_to_count(scans: Path,
                                                               tmp_path: Path) -> None:
    engine = ReadingToCount()
    output = tmp_path / "out.jsonl"
    summary = await run(runner(scans, output, engine, dry_run=True))
    assert engine.events == ["start", "aclose"] and engine.seen == 0
    assert summary.would_call == 6 and not output.exists()


async def test_an_engine_that_fails_to_start_is_still_closed(scans: Path,
                                                            tmp_path: Path) -> None:
    engine = LifecycleEngine(fail_start=True)
    with pytest.raises(OSError, match="cannot start the engine"):
        await run(runner(scans, tmp_path / "out.jsonl", engine))
    assert engine.events == ["start", "aclose"]


async def test_a_locked_journal_stops_before_the_engine_starts(scans: Path,
                                                              tmp_path: Path) -> None:
    engine = LifecycleEngine()
    output = tmp_path / "out.jsonl"
    started: list[str] = []
    with Journal(tmp_path / "out.jsonl.state.sqlite"), pytest.raises(RunLockedError):
        await run(runner(scans, output, engine, started=started))
    assert engine.events == []
    assert started == []
    assert not output.exists()


async def test_masking_is_applied_on_the_way_out_without_calling_again(
        scans: Path, tmp_path: Path) -> None:
    output = tmp_path / "out.jsonl"
    await run(runner(scans, output, LifecycleEngine()))
    assert {row["id_number"] for row in jsonl(output)} == {ID_NUMBER}

    again = LifecycleEngine()
    summary = await run(runner(scans, output, again, view=OutputView(mask=True)))
    assert again.seen == 0
    assert summary.already_done == 3
    masked = jsonl(output)
    assert len(masked) == 3
    assert all(row["id_number"] != ID_NUMBER and row["name"] != "张三丰" for row in masked)
    with Journal(tmp_path / "out.jsonl.state.sqlite") as journal:
        assert {row.id_number for row in journal.rows()} == {ID_NUMBER}, "journal masked"


def test_pairing_to_stdout_needs_a_state_path(scans: Path) -> None:
    with pytest.raises(ConfigError, match="--pair writes its table from the state journal"):
        runner(scans, "-", LifecycleEngine(), view=OutputView(pair=True))


def test_the_summary_json_is_private(tmp_path: Path) -> None:
    path = tmp_path / "summary.json"
    path.write_text("{}")
    path.chmod(0o644)
    facts = summary_json(RunSummary(engine="lifecycle"), 0)
    write_summary_json(path, facts)
    assert mode(path) == 0o600
    assert json.loads(path.read_text()) == facts
