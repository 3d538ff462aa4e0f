"""The offline engine's worker processes end with the run that started them, even when it
is killed outright (``kill -9``, the out-of-memory killer, a cron timeout): an idle
worker left behind would hold its models' memory for ever."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.skips import needs_local

REPO = Path(__file__).resolve().parents[2]

pytestmark = [needs_local, pytest.mark.slow]

#: A run's worker pool, one image done, then idle: prints the worker's process id.
PARENT = """
import asyncio, sys, time
from batch_ocr.engines.local.processes import WorkerPool
from tests.engines.test_worker_parent import worker_pid

pool = WorkerPool(1, task=worker_pid)
print(asyncio.run(pool.recognise(b"")), flush=True)
time.sleep(300)
"""


def worker_pid(_: bytes) -> int:
    """The task the pool runs: which process ran it."""
    return os.getpid()


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")
def test_workers_end_when_their_run_is_killed() -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT], cwd=REPO, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    worker = 0
    try:
        assert parent.stdout is not None
        worker = int(parent.stdout.readline())
        assert _alive(worker)
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
    deadline = time.monotonic() + 15
    while _alive(worker) and time.monotonic() < deadline:
        time.sleep(0.2)
    if _alive(worker):
        os.kill(worker, signal.SIGKILL)
        pytest.fail("the worker outlived its run")
