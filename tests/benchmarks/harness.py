"""Processes for the benchmarks: the emulator as a server process, measured child runs.

Every contender (batch-ocr, the sample loop, ``xargs`` + curl) runs as a child of this
process and is reaped with ``os.wait4``, so its wall time, CPU time (user + sys, of the
child and of every descendant it waited for) and peak RSS are its own, never the
emulator's or this script's.
"""

from __future__ import annotations

import dataclasses
import json
import os
import resource
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


def byte_compile_package(checkout: Path = REPO) -> None:
    """Compile batch-ocr's modules to ``__pycache__`` as ``pip install`` does by default.

    Without it, a checkout run under ``PYTHONDONTWRITEBYTECODE=1`` (set on the machines
    these numbers come from) compiles every module from source at every start: 55 ms of
    each run's start-up that no installed copy pays.
    """
    import compileall

    compileall.compile_dir(checkout / "batch_ocr", quiet=1)


@dataclass(frozen=True, slots=True)
class Measured:
    """What one child process cost."""

    argv: tuple[str, ...]
    exit_code: int
    wall_s: float
    user_s: float
    sys_s: float
    max_rss_mb: float
    stderr_tail: str = ""
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def cpu_s(self) -> float:
        return self.user_s + self.sys_s


def measure(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout_s: float = 300.0,
    stdout_path: Path | None = None,
) -> Measured:
    """Run ``argv`` to the end; wall clock from just before fork to reaping."""
    stderr_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-stderr-{os.getpid()}.txt"
    with open(stderr_path, "wb") as err, open(stdout_path or os.devnull, "wb") as out:
        started = time.perf_counter()
        process = subprocess.Popen(
            list(argv), env=dict(env) if env is not None else None, cwd=cwd,
            stdin=subprocess.DEVNULL, stdout=out, stderr=err, start_new_session=True,
        )
        deadline = started + timeout_s
        while True:
            # wait4 rather than Popen.wait: it hands back the child's own rusage.
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                os.killpg(process.pid, signal.SIGKILL)
                pid, status, usage = os.wait4(process.pid, 0)
                break
            time.sleep(0.002)
        wall_s = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)  # so Popen does not reap again
    tail = stderr_path.read_text("utf-8", "replace")[-2000:]
    stderr_path.unlink(missing_ok=True)
    return Measured(
        argv=tuple(argv),
        exit_code=process.returncode,
        wall_s=wall_s,
        user_s=usage.ru_utime,
        sys_s=usage.ru_stime,
        max_rss_mb=usage.ru_maxrss / 1024,  # KiB on Linux
        stderr_tail=tail,
    )


def children_cpu_s() -> float:
    """user + sys of every reaped child so far (for deltas)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


#: Another checkout whose ``batch_ocr`` the CLI children run (``run.py --against``);
#: None: this one. The emulator is always this checkout's.
CLI_SOURCE: Path | None = None


def credentials_env() -> dict[str, str]:
    """The environment for a CLI child: ours plus the emulator's demo credentials, and
    ``CLI_SOURCE`` first on its path when set."""
    from batch_ocr.emulator import DEMO_SECRET_ID, DEMO_SECRET_KEY

    env = dict(os.environ)
    for name in list(env):
        if name.startswith("BATCH_OCR_"):
            del env[name]  # a developer's own settings must not change the numbers
    if CLI_SOURCE is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(CLI_SOURCE),
                                                          env.get("PYTHONPATH")]))
    env["BATCH_OCR_SECRET_ID"] = DEMO_SECRET_ID
    env["BATCH_OCR_SECRET_KEY"] = DEMO_SECRET_KEY
    return env


def run_batch_ocr(
    sources: Sequence[Path],
    output: Path,
    *,
    endpoint: str,
    extra: Sequence[str] = (),
    timeout_s: float = 300.0,
) -> Measured:
    """``python -m batch_ocr SRC -o OUT --endpoint URL -q ...`` with a summary JSON."""
    summary_path = output.with_name(output.name + ".summary.json")
    argv = [PYTHON, "-m", "batch_ocr", *map(str, sources), "-o", str(output),
            "--endpoint", endpoint, "--summary-json", str(summary_path), "-q", *extra]
    # cwd is the output's folder, so no ./batch-ocr.toml of the developer is read.
    result = measure(argv, env=credentials_env(), cwd=output.parent, timeout_s=timeout_s)
    summary: dict[str, Any] = {}
    if summary_path.exists():
        summary = json.loads(summary_path.read_text("utf-8"))
    return dataclasses.replace(result, summary=summary)


class Emulator:
    """``batch-ocr-emulator --port 0 ARGS`` as a separate process."""

    def __init__(self, process: subprocess.Popen[str], url: str) -> None:
        self.process = process
        self.url = url
        self.base_url = url.split("/release/", 1)[0]

    def stats(self) -> dict[str, Any]:
        with urllib.request.urlopen(self.base_url + "/_emulator/stats", timeout=30) as answer:
            return json.load(answer)  # type: ignore[no-any-return]

    def reset(self) -> None:
        request = urllib.request.Request(self.base_url + "/_emulator/reset", data=b"",
                                         method="POST")
        with urllib.request.urlopen(request, timeout=30) as answer:
            answer.read()

    def cpu_s(self) -> float:
        """CPU time the emulator used so far (from /proc, Linux)."""
        fields_ = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields_[11]) + int(fields_[12])) / ticks


@contextmanager
def emulator(*args: str) -> Iterator[Emulator]:
    """Start the emulator on 127.0.0.1 with a free port; stop it (by its pid) at the end."""
    process = subprocess.Popen(
        [PYTHON, "-m", "batch_ocr.emulator", "--host", "127.0.0.1", "--port", "0",
         "--seed", "1", *args],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("listening on http://127.0.0.1:"):
            raise RuntimeError(f"the emulator did not start: {line!r}")
        yield Emulator(process, line.removeprefix("listening on ").strip())
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
