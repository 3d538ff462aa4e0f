"""Off POSIX: the package imports and runs without fcntl, fchmod, O_NONBLOCK or
add_signal_handler, and the run lock still dies with its process (docs/security.md, "Platforms")."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from batch_ocr.cli import main
from batch_ocr.errors import RunLockedError
from batch_ocr.run.discovery import Candidate
from batch_ocr.run.jobs import read_file
from batch_ocr.run.journal import locks
from batch_ocr.run.journal.state import Journal
from tests.e2e_support import REPO, emulator_in_thread, make_images, read_rows


def test_the_package_imports_and_the_lock_works_without_fcntl(tmp_path: Path) -> None:
    script = textwrap.dedent(f"""
        import sys
        sys.modules["fcntl"] = None  # as on Windows: "import fcntl" raises ImportError
        import batch_ocr.cli, batch_ocr.run.runner, batch_ocr.run.pipeline
        from batch_ocr.run.journal.state import Journal
        with Journal(__import__("pathlib").Path({str(tmp_path / "s.sqlite")!r})):
            print("journal opened")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=REPO, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "journal opened" in done.stdout


def test_no_module_imports_fcntl() -> None:
    offenders = [str(p.relative_to(REPO)) for p in (REPO / "batch_ocr").rglob("*.py")
                 if "import fcntl" in p.read_text(encoding="utf-8")]
    assert offenders == []


def test_a_second_journal_is_locked_out_and_the_lock_dies_with_its_process(
        tmp_path: Path) -> None:
    state = tmp_path / "out.state.sqlite"
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import pathlib, time
            from batch_ocr.run.journal.state import Journal
            with Journal(pathlib.Path({str(state)!r})):
                print("held", flush=True)
                time.sleep(60)
        """)],
        stdout=subprocess.PIPE, text=True, cwd=REPO)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(RunLockedError, match="another batch-ocr run is using"), \
                Journal(state):
            pass
        holder.kill()  # kill -9: no chance to release anything
        holder.wait(10)
        with Journal(state):
            pass
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(10)
    lock = tmp_path / "out.state.sqlite.lock"
    assert oct(lock.stat().st_mode & 0o777) == "0o600"


def test_images_are_read_without_nonblocking_open(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    image = tmp_path / "a.jpg"
    image.write_bytes(b"\xff\xd8\xff" + bytes(range(256)))
    monkeypatch.delattr(os, "O_NONBLOCK")
    assert read_file(Candidate(image, "a.jpg")) == image.read_bytes()


def test_a_run_works_without_fchmod_or_loop_signal_handlers(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, demo_keys: None) -> None:
    """What Windows lacks, taken away; a whole run still writes every row.

    filelock's own POSIX code needs fchmod; on Windows it runs other code, so it gets
    fchmod back for the moment it takes the lock.
    """
    fchmod = os.fchmod
    take_lock = locks.take_run_lock

    def take_lock_with_fchmod(*args: Any) -> Any:
        os.fchmod = fchmod
        try:
            return take_lock(*args)
        finally:
            del os.fchmod

    monkeypatch.setattr(locks, "take_run_lock", take_lock_with_fchmod)
    monkeypatch.delattr(os, "fchmod")

    def no_signal_handlers(self: asyncio.AbstractEventLoop, *args: object) -> None:
        raise NotImplementedError

    monkeypatch.setattr(asyncio.unix_events._UnixSelectorEventLoop,  # type: ignore[attr-defined]
                        "add_signal_handler", no_signal_handlers)
    before = signal.getsignal(signal.SIGINT)
    scans = tmp_path / "scans"
    make_images(scans, 3)
    out = tmp_path / "out.jsonl"
    with emulator_in_thread() as emulator:
        assert main([str(scans), "-o", str(out), "--endpoint", emulator.url]) == 0
    assert len(read_rows(out)) == 3
    assert signal.getsignal(signal.SIGINT) is before
