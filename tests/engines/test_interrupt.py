"""Ctrl-C twice at a terminal during an offline run: the whole process group gets
SIGINT, worker processes included, and none of them may print a traceback."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from batch_ocr.engines.local import available
from tests.e2e_support import SAMPLES

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not available(), reason="the local engine is not installed"),
    pytest.mark.skipif(os.name != "posix", reason="process groups and SIGINT are POSIX"),
]


def test_a_double_ctrl_c_leaves_no_worker_tracebacks(tmp_path: Path) -> None:
    scans = tmp_path / "scans"
    scans.mkdir()
    for copy in range(6):  # enough work that the workers are busy when Ctrl-C comes
        for sample in SAMPLES.glob("*_front.*"):
            shutil.copy(sample, scans / f"{copy}_{sample.name}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BATCH_OCR_")}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "no-config")
    run = subprocess.Popen(
        [sys.executable, "-m", "batch_ocr", str(scans), "-o", str(tmp_path / "out.csv"),
         "--engine", "local", "--workers", "2", "--verbose"],
        cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True,
        start_new_session=True,  # its own process group, as a shell gives a job
    )
    assert run.stderr is not None
    try:
        for line in run.stderr:  # the first finished row: the workers are up and busy
            if ": ok" in line or ": not_id_card" in line:
                break
        os.killpg(run.pid, signal.SIGINT)
        time.sleep(0.3)
        os.killpg(run.pid, signal.SIGINT)
        rest = run.stderr.read()
        code = run.wait(60)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait()
    assert code == 130, rest
    assert "Traceback" not in rest and "KeyboardInterrupt" not in rest, rest
