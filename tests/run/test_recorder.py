"""Where a run's rows are recorded (``batch_ocr/run/recorder.py``): what a rerun looks up
before it reads a file."""

from __future__ import annotations

from pathlib import Path

import pytest

from batch_ocr.run.journal.state import FileStamp, Journal, JournalEntry
from batch_ocr.run.present.rows import Row
from batch_ocr.run.recorder import RunRecorder
from tests.engines.echo_engine import EchoEngine, EchoSettings


def _recorder(journal: Journal, *, force: bool = False) -> RunRecorder:
    recorder = RunRecorder(journal, sink=lambda row: None, engine=EchoEngine(EchoSettings()),
                           force=force, dry_run=False)
    recorder.start()
    return recorder


def _done(journal: Journal, path: Path) -> None:
    path.write_bytes(b"picture " + path.name.encode())
    journal.record(path, FileStamp.of(path), Row(file=path.name, status="ok", sha256="ab" * 32),
                   retryable=False)


@pytest.mark.asyncio
async def test_a_rerun_finds_unchanged_files_and_not_changed_or_new_ones(tmp_path: Path) -> None:
    same, changed, new, unannounced = (tmp_path / f"{name}.jpg"
                                       for name in ("same", "changed", "new", "unannounced"))
    with Journal(tmp_path / "out.csv.state.sqlite") as journal:
        for path in (same, changed, unannounced):
            _done(journal, path)
        changed.write_bytes(b"another picture, longer than the first")
        new.write_bytes(b"new")
        recorder = _recorder(journal)
        try:
            recorder.expect([same, changed, new])
            found = {path: await recorder.stamped_entries(path)
                     for path in (new, changed, same, unannounced)}
        finally:
            recorder.shutdown()

    assert {path: stamp for path, (stamp, _) in found.items()} == {
        path: FileStamp.of(path) for path in found}
    assert found[same][1] == found[unannounced][1] == [JournalEntry("ok", False, "ab" * 32)]
    assert found[changed][1] is None
    assert found[new][1] is None


@pytest.mark.asyncio
async def test_force_looks_nothing_up(tmp_path: Path) -> None:
    done = tmp_path / "done.jpg"
    with Journal(tmp_path / "out.csv.state.sqlite") as journal:
        _done(journal, done)
        recorder = _recorder(journal, force=True)
        try:
            recorder.expect([done])
            assert await recorder.stamped_entries(done) == (FileStamp.of(done), None)
        finally:
            recorder.shutdown()
