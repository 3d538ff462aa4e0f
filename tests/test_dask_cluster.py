"""The test cluster (tests/dask_cluster.py) never outlives the test run that started it,
even one killed outright, as a CI job's timeout kills it: its fixtures' clean-up never
runs, and the scheduler and workers, each in a session of their own, would be left."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.dask_cluster import REPO, dask_available

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not dask_available(), reason="the 'dask' extra is not installed"),
    pytest.mark.skipif(sys.platform != "linux", reason="the parent's death signal is Linux's"),
]

#: A test run in miniature: starts a cluster, prints its processes' ids, then waits.
_RUN = """
import sys, time
from pathlib import Path
from tests.dask_cluster import local_cluster
with local_cluster(Path(sys.argv[1]), workers=1) as cluster:
    print(cluster.scheduler.pid, *(worker.pid for worker in cluster.workers), flush=True)
    time.sleep(300)
"""


def _running(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie nobody reaps yet has ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def test_the_cluster_ends_when_the_run_that_started_it_is_killed(tmp_path: Path) -> None:
    run = subprocess.Popen([sys.executable, "-c", _RUN, str(tmp_path)], cwd=REPO,
                           env=dict(os.environ, PYTHONPATH=str(REPO)),
                           stdout=subprocess.PIPE, text=True)
    pids: list[int] = []
    try:
        assert run.stdout is not None
        pids = [int(pid) for pid in run.stdout.readline().split()]  # "" if it failed to start
        assert len(pids) == 2, "the cluster did not start"
        run.kill()
        run.wait(10)
        deadline = time.monotonic() + 30
        while any(_running(pid) for pid in pids):
            assert time.monotonic() < deadline, "the cluster outlived its run"
            time.sleep(0.1)
    finally:
        run.kill()
        run.wait(10)
        for pid in pids:  # when the test fails: leave nothing behind
            if _running(pid):
                os.killpg(pid, signal.SIGKILL)
