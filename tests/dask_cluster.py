"""A real Dask cluster on 127.0.0.1 for tests and benchmarks: ``dask scheduler`` and
``dask worker`` processes, started here and always cleaned up.

Workers run without a nanny (``--no-nanny``), so killing one's process removes that
worker for good, as a lost machine does; each has one thread, as docs/cluster.md advises.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: Seconds for the scheduler to write its file and for workers to join.
START_TIMEOUT_S = 60.0


def dask_available() -> bool:
    """Whether the ``dask`` extra (dask.distributed) is installed."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        return False
    return True


#: ``python -m dask ARGS``, but first asks Linux to SIGKILL this process when the one that
#: started it dies (``PR_SET_PDEATHSIG``): a test run killed outright (a CI timeout, kill -9)
#: never runs its fixtures' clean-up, and a cluster in a session of its own would outlive
#: it. SIGKILL, not SIGTERM: a worker told to stop while its scheduler stops too can hang
#: in Dask's own shutdown; a nanny's worker ends with its nanny (it watches a pipe to it).
#: The parent may have died before the request was made: then end at once.
_DIE_WITH_PARENT = """
import ctypes, os, runpy, signal, sys
if sys.platform == "linux":
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
if os.getppid() != int(sys.argv[1]):
    sys.exit("the process that started this one has ended")
sys.argv = ["dask", *sys.argv[2:]]
runpy.run_module("dask", run_name="__main__", alter_sys=True)
"""


def _spawn(args: list[str], log_path: Path, env_extra: dict[str, str] | None = None
           ) -> subprocess.Popen[bytes]:
    """``dask ARGS`` in a session of its own (a Ctrl-C at the terminal is the test's, not
    the cluster's), ended with the process that started it. The death signal goes when
    the starting *thread* ends: clusters are started and used within one ``with``."""
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO), **(env_extra or {}))
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-c", _DIE_WITH_PARENT, str(os.getpid()), *args], cwd=REPO,
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )


def _stop(process: subprocess.Popen[bytes], *, sig: int = signal.SIGTERM) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        return
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


@dataclass
class LocalCluster:
    """The processes of one test cluster and where its scheduler listens."""

    folder: Path
    scheduler: subprocess.Popen[bytes]
    address: str
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    #: Workers under a nanny are restarted when they die (as in production).
    nanny: bool = False
    #: Dask's configuration as environment variables for every process (TLS settings).
    env: dict[str, str] = field(default_factory=dict)

    def add_worker(self) -> subprocess.Popen[bytes]:
        """Start one more single-threaded worker on this cluster."""
        n = len(self.workers)
        worker = _spawn(["worker", self.address, "--nthreads", "1",
                         "--nanny" if self.nanny else "--no-nanny",
                         "--no-dashboard", "--host", "127.0.0.1", "--name", f"w{n}",
                         "--memory-limit", "0", "--local-directory",
                         str(self.folder / f"w{n}")],
                        self.folder / f"worker{n}.log", self.env)
        self.workers.append(worker)
        return worker

    def wait_for_workers(self, count: int, timeout_s: float = START_TIMEOUT_S) -> None:
        """Block until ``count`` workers have joined the scheduler."""
        import dask.config
        from distributed import Client

        with dask.config.set(_dask_config(self.env)), \
                Client(self.address, timeout=timeout_s, set_as_default=False) as client:
            client.wait_for_workers(count, timeout=timeout_s)

    def kill_worker(self, index: int) -> None:
        """SIGKILL one worker: no goodbye to the scheduler, as a lost machine."""
        _stop(self.workers[index], sig=signal.SIGKILL)

    def kill_scheduler(self) -> None:
        """SIGKILL the scheduler."""
        _stop(self.scheduler, sig=signal.SIGKILL)

    def logs(self) -> str:
        """Every process's log, for a failing assertion's message."""
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.folder.glob("*.log")))

    def close(self) -> None:
        for process in (*self.workers, self.scheduler):
            _stop(process)


def _dask_config(env: dict[str, str]) -> dict[str, str]:
    """``DASK_A__B__C_D`` environment variables as Dask configuration keys (``a.b.c-d``)."""
    return {name.removeprefix("DASK_").lower().replace("__", ".").replace("_", "-"): value
            for name, value in env.items() if name.startswith("DASK_")}


@contextmanager
def local_cluster(folder: Path, workers: int = 2, *, nanny: bool = False,
                  allowed_failures: int | None = None,
                  tls_env: dict[str, str] | None = None) -> Iterator[LocalCluster]:
    """A scheduler and ``workers`` workers on 127.0.0.1 (free ports), ready to use.

    ``allowed_failures``: how many workers a task may kill before the scheduler gives
    up on it (Dask's default is 3). ``tls_env``: Dask's TLS settings as environment
    variables (``DASK_DISTRIBUTED__COMM__TLS__...``): the cluster then speaks ``tls://``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    scheduler_file = folder / "scheduler.json"
    env = dict(tls_env or {})
    scheduler_env = dict(env)
    if allowed_failures is not None:
        scheduler_env["DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES"] = str(allowed_failures)
    protocol = ["--protocol", "tls"] if tls_env else []
    scheduler = _spawn(["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                        *protocol, "--scheduler-file", str(scheduler_file)],
                       folder / "scheduler.log", scheduler_env)
    cluster = LocalCluster(folder, scheduler, address="", nanny=nanny, env=env)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not scheduler_file.is_file():
            if scheduler.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the Dask scheduler did not start:\n{cluster.logs()}")
            time.sleep(0.1)
        while not cluster.address:
            try:
                cluster.address = json.loads(scheduler_file.read_text())["address"]
            except (ValueError, KeyError):  # being written
                time.sleep(0.05)
        for _ in range(workers):
            cluster.add_worker()
        cluster.wait_for_workers(workers)
        yield cluster
    finally:
        cluster.close()


#: A batch holding an image with these bytes kills the worker running it.
CRASH_MARKER = b"CRASH-THIS-DASK-WORKER"


def crash_on_marker_batch(payloads: list[bytes]) -> list[object]:
    """Kill the worker process outright (no exception) when the batch holds the marker."""
    from batch_ocr.engines.local.dask_worker import recognise_batch

    if any(CRASH_MARKER in payload for payload in payloads):
        os._exit(70)
    return list(recognise_batch(payloads))


def noop_batch(payloads: list[bytes]) -> list[object]:
    """A batch task that recognises nothing: what is left of a batch's time is Dask's
    scheduling and the bytes' transfer (the benchmark's overhead per image)."""
    from batch_ocr.engines.local import LocalRecognition
    from batch_ocr.provider.models import CardData

    return [LocalRecognition(CardData(), None) for _ in payloads]


def rss_mb(pid: int) -> float:
    """Resident memory of a process now, in MB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_s(pid: int) -> float:
    """user + sys CPU seconds a running process has used (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
