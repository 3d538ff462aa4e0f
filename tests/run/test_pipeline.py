"""``pipeline.BatchRun`` with a fake engine: resume, dedup, the gate's refusals, fatal
errors from an engine that is not the API, portraits from engine bytes, image limits."""

from __future__ import annotations

import asyncio
import io
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from batch_ocr.engines.base import CardRead, Engine, EngineCounters, EngineResult
from batch_ocr.errors import (
    CallBudgetExhausted,
    ClusterLostError,
    FileError,
    TransientApiError,
)
from batch_ocr.provider.models import CardData, CardInfo
from batch_ocr.run import jobs
from batch_ocr.run.discovery import Candidate
from batch_ocr.run.journal.state import Journal
from batch_ocr.run.pipeline import BatchRun, RunOptions
from batch_ocr.run.present.rows import Row
from batch_ocr.run.summary import EXIT_FATAL, exit_status
from batch_ocr.vision.imaging import API_LIMITS, ImageLimits, PreparedImage
from tests.pictures import marked

Behaviour = Callable[[PreparedImage, int], EngineResult]


def front(image: PreparedImage, index: int) -> EngineResult:
    info = CardInfo(name=f"甲{index}", number="360113199010099893")
    data = CardData(result=0, side="front", info=info, validity={"name": True})
    return EngineResult(data, attempts=1)


class FakeEngine(Engine):
    """Counts what it was given; ``behaviour`` decides each answer."""

    name = "fake"
    billed = False
    image_limits: ImageLimits | None = None  # type: ignore[misc]
    #: Its timeouts are transient: a later run tries those images again.
    retried_next_run = frozenset({"timeout"})

    def __init__(self, behaviour: Behaviour = front, *, delay_s: float = 0.0) -> None:
        self.behaviour = behaviour
        self.delay_s = delay_s
        self.seen: list[PreparedImage] = []

    async def recognise(self, image: PreparedImage) -> EngineResult:
        self.seen.append(image)
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        return self.behaviour(image, len(self.seen))

    def counters(self) -> EngineCounters:
        return EngineCounters(calls=len(self.seen))


def png(path: Path, shade: int, size: tuple[int, int] = (120, 80)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    marked(size, (shade, 90, 200)).save(path)
    return path


@pytest.fixture
def scans(tmp_path: Path) -> Path:
    for index in range(4):
        png(tmp_path / "scans" / f"f{index}.png", index * 50)
    return tmp_path / "scans"


async def run(engine: Engine, scans: Path, journal: Journal | None = None,
              **options: object) -> tuple[list[Row], BatchRun]:
    rows: list[Row] = []
    options.setdefault("concurrency", 2)
    batch = BatchRun(engine, [scans], rows.append, journal=journal,
                     options=RunOptions(**options))  # type: ignore[arg-type]
    await asyncio.wait_for(batch.run(), timeout=30)
    return rows, batch


async def test_every_file_gets_one_row_with_the_engines_name(scans: Path) -> None:
    engine = FakeEngine()
    rows, batch = await run(engine, scans)
    assert sorted(r.file for r in rows) == ["f0.png", "f1.png", "f2.png", "f3.png"]
    assert {(r.status, r.side, r.engine) for r in rows} == {("ok", "front", "fake")}
    summary = batch.summary()
    assert (summary.images_found, summary.rows_written, summary.calls) == (4, 4, 4)
    assert summary.engine == "fake" and not summary.billed


async def test_a_fatal_error_from_any_engine_stops_the_run(scans: Path) -> None:
    def lost_after_two(image: PreparedImage, index: int) -> EngineResult:
        if index > 2:
            raise ClusterLostError("the scheduler tcp://127.0.0.1:1 went away")
        return front(image, index)

    for index in range(4, 12):
        png(scans / f"g{index}.png", index * 20)
    rows, batch = await run(FakeEngine(lost_after_two), scans, concurrency=1)
    summary = batch.summary()
    assert len(rows) == 2 and all(r.status == "ok" for r in rows)
    assert not any(r.error_code == "internal_error" for r in rows)
    assert summary.fatal_code == "cluster_lost"
    assert summary.fatal_error == "the scheduler tcp://127.0.0.1:1 went away"
    assert summary.not_attempted == 12 - 2
    assert exit_status(summary) == EXIT_FATAL


async def test_a_bug_costs_one_row_and_the_next_run_retries_it(scans: Path,
                                                               tmp_path: Path) -> None:
    def buggy(image: PreparedImage, index: int) -> EngineResult:
        if index == 1:
            raise ValueError("boom")
        return front(image, index)

    with Journal(tmp_path / "state.sqlite") as journal:
        rows, _ = await run(FakeEngine(buggy), scans, journal, concurrency=1)
        assert [r.error_code for r in rows].count("internal_error") == 1
        engine = FakeEngine()
        again, batch = await run(engine, scans, journal)
    assert len(engine.seen) == 1 and [r.status for r in again] == ["ok"]
    assert batch.summary().already_done == 3


async def test_resume_skips_done_files_and_redoes_changed_and_transient_ones(
        scans: Path, tmp_path: Path) -> None:
    def timeout_for_f1(image: PreparedImage, index: int) -> EngineResult:
        if Image.open(io.BytesIO(image.payload)).getpixel((0, 0))[0] == 50:
            raise TransientApiError("timeout", "no answer within 30 s")
        return front(image, index)

    with Journal(tmp_path / "state.sqlite") as journal:
        first, _ = await run(FakeEngine(timeout_for_f1), scans, journal)
        assert sorted((r.file, r.status) for r in first if r.status != "ok") == [
            ("f1.png", "error")]
        png(scans / "f3.png", 250)  # changed since
        engine = FakeEngine()
        second, batch = await run(engine, scans, journal)
        assert sorted(r.file for r in second) == ["f1.png", "f3.png"]
        assert batch.summary().already_done == 2
        nothing, batch = await run(FakeEngine(), scans, journal)
        assert nothing == [] and batch.summary().already_done == 4
        forced_engine = FakeEngine()
        forced, _ = await run(forced_engine, scans, journal, force=True)
        assert len(forced) == 4 and len(forced_engine.seen) == 4


async def test_retry_failed_redoes_final_failures_only_when_asked(scans: Path,
                                                                  tmp_path: Path) -> None:
    def refuse_all(image: PreparedImage, index: int) -> EngineResult:
        raise FileError("400", "bad parameters")

    with Journal(tmp_path / "state.sqlite") as journal:
        await run(FakeEngine(refuse_all), scans, journal)
        engine = FakeEngine()
        await run(engine, scans, journal)
        assert engine.seen == []  # a permanent answer is final
        rows, _ = await run(engine, scans, journal, retry_failed=True)
        assert len(engine.seen) == 4 and {r.status for r in rows} == {"ok"}


async def test_same_content_is_recognised_once_in_a_run_and_across_runs(
        tmp_path: Path) -> None:
    scans = tmp_path / "scans"
    for index in range(5):
        png(scans / f"copy{index}.png", 77)
    engine = FakeEngine(delay_s=0.05)
    with Journal(tmp_path / "state.sqlite") as journal:
        rows, batch = await run(engine, scans, journal, concurrency=5)
        assert len(engine.seen) == 1 and len(rows) == 5
        assert {r.name for r in rows} == {"甲1"} and batch.summary().reused == 4
        assert sorted(r.attempts for r in rows) == [0, 0, 0, 0, 1]
        png(scans / "later" / "copy_again.png", 77)
        later, batch = await run(engine, scans, journal)
    assert len(engine.seen) == 1  # never paid twice, whatever the name
    assert [(r.file, r.name) for r in later] == [("later/copy_again.png", "甲1")]


async def test_a_first_run_finds_a_copy_journaled_and_forgotten_before_it_came(
        tmp_path: Path) -> None:
    """One image at a time: each copy arrives after the first was journaled and dropped
    from memory, so only the journal (asked only for contents this run recorded) can
    spare the second payment."""
    scans = tmp_path / "scans"
    png(scans / "a.png", 5)
    for index in range(4):
        png(scans / f"b{index}.png", 60 + index)
    png(scans / "z.png", 5)
    engine = FakeEngine()
    with Journal(tmp_path / "state.sqlite") as journal:
        rows, batch = await run(engine, scans, journal, concurrency=1)
    assert len(rows) == 6 and len(engine.seen) == 5 and batch.summary().reused == 1


async def test_without_a_journal_dedup_memory_stays_bounded(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    monkeypatch.setattr("batch_ocr.run.dedup.MAX_REMEMBERED", 5)
    scans = tmp_path / "scans"
    for index in range(40):
        png(scans / f"f{index:02d}.png", index)
    rows: list[Row] = []
    remembered: list[int] = []
    batch = BatchRun(FakeEngine(), [scans], rows.append, options=RunOptions(concurrency=3),
                     on_row=lambda row, counters: remembered.append(len(batch.images.dedup)))
    await batch.run()
    assert len(rows) == 40 and max(remembered) <= 5 + 3


async def test_a_refused_billed_call_leaves_the_file_for_the_next_run(scans: Path) -> None:
    def budget_of_two(image: PreparedImage, index: int) -> EngineResult:
        if index > 2:
            raise CallBudgetExhausted("--max-calls 2 reached")
        return front(image, index)

    rows, batch = await run(FakeEngine(budget_of_two), scans, concurrency=1)
    summary = batch.summary()
    assert len(rows) == 2
    assert summary.budget_exhausted and summary.not_attempted == 2
    assert summary.fatal_error is None


async def test_portraits_from_an_engine_that_supplies_bytes_are_saved(
        scans: Path, tmp_path: Path) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (30, 40), "white").save(buffer, "JPEG")

    def with_portrait(image: PreparedImage, index: int) -> EngineResult:
        return EngineResult(front(image, index).data, 1, portrait_bytes=buffer.getvalue())

    rows, _ = await run(FakeEngine(with_portrait), scans,
                        portraits_dir=tmp_path / "faces")
    for row in rows:
        saved = Path(row.portrait_file)
        assert saved == tmp_path / "faces" / f"{row.file}.jpg"
        assert saved.read_bytes() == buffer.getvalue()
        assert saved.stat().st_mode & 0o777 == 0o600


async def test_each_engine_gets_images_within_its_own_limits(tmp_path: Path) -> None:
    scans = tmp_path / "scans"
    big = png(scans / "big.png", 10, size=(4600, 300))
    offline = FakeEngine()
    await run(offline, scans)
    assert offline.seen[0].payload == big.read_bytes()  # original pixels, untouched

    class ApiLimited(FakeEngine):
        image_limits = API_LIMITS

    limited = ApiLimited()
    rows, _ = await run(limited, scans)
    assert limited.seen[0].fitted and max(limited.seen[0].width, limited.seen[0].height) <= 4000
    assert rows[0].fitted


async def test_a_dry_run_never_calls_the_engine(scans: Path) -> None:
    engine = FakeEngine()
    rows, batch = await run(engine, scans, dry_run=True)
    assert engine.seen == [] and rows == []
    assert batch.summary().would_call == 4


async def test_without_a_journal_copies_met_later_are_not_recognised_again(
        tmp_path: Path) -> None:
    scans = tmp_path / "scans"
    for index in range(6):
        png(scans / f"copy{index}.png", 33)
    engine = FakeEngine()
    rows, batch = await run(engine, scans, concurrency=1)
    assert len(engine.seen) == 1 and len(rows) == 6 and batch.summary().reused == 5


async def test_a_stop_halts_the_engine_so_waiting_images_start_no_call(scans: Path) -> None:
    """Ctrl-C and fatal errors tell the engine: an image waiting for a call slot must not
    be paid for after the run decided to stop."""
    from batch_ocr.errors import BatchOcrError, OutputError, RunStopping

    class Halting(FakeEngine):
        def __init__(self) -> None:
            super().__init__()
            self.halted: list[BatchOcrError] = []

        def halt(self, reason: BatchOcrError) -> None:
            self.halted.append(reason)

    engine = Halting()
    batch = BatchRun(engine, [scans], lambda row: None)
    batch.request_stop()
    batch.fail(OutputError("disk full"))
    assert [type(r) for r in engine.halted] == [RunStopping, OutputError]


async def test_files_are_read_on_the_runs_own_threads_one_per_core(
        scans: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # asyncio's default pool stays free for host-name look-ups (jobs.reader_pool).
    readers: set[str] = set()
    real_read = jobs.read_file

    def recording_read(candidate: Candidate) -> bytes:
        readers.add(threading.current_thread().name)
        return real_read(candidate)

    monkeypatch.setattr(jobs, "read_file", recording_read)
    for index in range(4, 40):
        png(scans / f"f{index}.png", index)
    rows, _ = await run(FakeEngine(delay_s=0.01), scans, concurrency=16)
    assert len(rows) == 40
    assert readers and all(name.startswith("batch-ocr-reader") for name in readers)
    cores = (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
             else os.cpu_count() or 1)
    assert len(readers) <= cores
    deadline = time.monotonic() + 5
    while any(t.name.startswith("batch-ocr-reader") for t in threading.enumerate()):
        assert time.monotonic() < deadline, "the reader threads outlived the run"
        await asyncio.sleep(0.01)


class TwoEngines(FakeEngine):
    """An engine made of two, as hybrid is: each row says which read it, and why."""

    name = "pair"

    def __init__(self) -> None:
        super().__init__()

    async def recognise(self, image: PreparedImage) -> EngineResult:
        self.seen.append(image)
        data = front(image, len(self.seen)).data
        if len(self.seen) % 2:
            return EngineResult(data, 1, cards=(CardRead(data, engine="local"),))
        error = TransientApiError("502", "bad gateway") if len(self.seen) == 4 else None
        if error is not None:
            error.engine = "api"
            raise error
        return EngineResult(data, 1, fitted=True, cards=(CardRead(
            data, engine="api", escalated_for=("low_confidence:name",), disagree=("name",)),))


async def test_rows_say_which_of_two_engines_read_them_and_why(scans: Path) -> None:
    rows, _ = await run(TwoEngines(), scans, concurrency=1)
    shown = sorted((r.engine, r.status, r.fitted, tuple(r.escalated_for),
                    tuple(r.review_reasons)) for r in rows)
    assert shown == [
        ("api", "error", False, (), ()),
        ("api", "ok", True, ("low_confidence:name",), ("disagree:name",)),
        ("local", "ok", False, (), ()),
        ("local", "ok", False, (), ()),
    ]
