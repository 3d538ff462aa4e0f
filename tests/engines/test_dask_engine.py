"""``--dask``: the offline engine on a real Dask cluster started on 127.0.0.1 here.

A scheduler and two single-threaded ``dask worker`` processes; the CLI runs as a child
process, as users run it. Each test is bounded in time and cleans its processes up.
"""

from __future__ import annotations

import asyncio
import csv
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from tests.dask_cluster import LocalCluster, dask_available, local_cluster

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples" / "cards"
HOSTILE = REPO / "samples" / "hostile"
#: Every CLI run here ends well within this (a failure must not hang CI).
RUN_TIMEOUT_S = 180
#: Seconds a nanny is given to finish starting once its worker has joined.
NANNY_SETTLE_S = 2.0


def _local_available() -> bool:
    from batch_ocr.engines.local import available

    return available()


pytestmark = [
    pytest.mark.skipif(not dask_available(), reason="the 'dask' extra is not installed"),
    pytest.mark.skipif(not _local_available(), reason="the 'local' extra is not installed"),
    pytest.mark.slow,
]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BATCH_OCR_")}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "no-config")
    env.update(extra)
    return env


def _start(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "batch_ocr", *args], cwd=tmp_path,
                            env=_env(tmp_path), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _run(tmp_path: Path, *args: str, env: dict[str, str] | None = None
         ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "batch_ocr", *args], cwd=tmp_path,
                          env=env or _env(tmp_path), capture_output=True, text=True,
                          timeout=RUN_TIMEOUT_S)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return sorted(csv.DictReader(handle), key=lambda row: row["file"])


def _rows_so_far(path: Path) -> int:
    try:
        return max(0, len(path.read_text(encoding="utf-8-sig").splitlines()) - 1)
    except OSError:
        return 0


def _scans(folder: Path, copies: int) -> Path:
    """``copies`` distinct JPEGs of each sample card (distinct bytes: no dedup)."""
    folder.mkdir()
    cards = ["zhangsan_front.jpg", "zhangsan_back.png", "wangli-正.png", "lixiaohong_back.gif"]
    for name in cards:
        with Image.open(SAMPLES / name) as image:
            rgb = image.convert("RGB")
            for n in range(copies):
                rgb.save(folder / f"{Path(name).stem}_{n}.jpg", "JPEG", quality=90 - n)
    return folder


def _no_traceback(stderr: str) -> None:
    assert "Traceback" not in stderr, stderr
    # Every line is batch-ocr's own: Dask's log lines stay out of the terminal.
    assert all(line.startswith("batch-ocr: ") for line in stderr.splitlines()), stderr


@pytest.fixture
def cluster(dask_cluster: LocalCluster) -> LocalCluster:
    """The session's cluster (tests/conftest.py): these tests kill none of its processes."""
    return dask_cluster


def test_rows_on_the_cluster_equal_the_local_pools(tmp_path: Path, cluster: LocalCluster) -> None:
    on_cluster = _run(tmp_path, str(SAMPLES), str(HOSTILE), "-o", "cluster.csv",
                      "--dask", cluster.address)
    local = _run(tmp_path, str(SAMPLES), str(HOSTILE), "-o", "local.csv", "--workers", "2")
    assert on_cluster.returncode == local.returncode == 1, on_cluster.stderr  # broken.jpg
    assert f"on the Dask cluster at {cluster.address}" in on_cluster.stderr
    _no_traceback(on_cluster.stderr)
    # Dask's own log lines stay out of the terminal.
    assert "distributed" not in on_cluster.stderr, on_cluster.stderr
    cluster_rows = _rows(tmp_path / "cluster.csv")
    assert len(cluster_rows) == 12
    assert cluster_rows == _rows(tmp_path / "local.csv")
    assert sum(row["status"] == "ok" for row in cluster_rows) == 10


def test_pages_of_several_cards_give_the_same_rows_on_the_cluster(
    tmp_path: Path, cluster: LocalCluster
) -> None:
    """A two-sided copy (its back as pale as the paper) is one ``both`` row, and a page of
    four sides four numbered rows, on the cluster as in the local pool."""
    from tests.card_pages import (
        PALE_BACK,
        make_samples,
        page_bytes,
        people,
        scanned_copy,
    )

    samples = make_samples()
    a, b = people(2, seed=21)
    scans = tmp_path / "scans"
    scans.mkdir()
    (scans / "pale.jpg").write_bytes(scanned_copy("jpeg75", washed_out=PALE_BACK))
    four = samples.CardPage("four", tuple(samples.PageCard(kind, person) for person in (a, b)
                                          for kind in ("front", "back")), columns=2)  # fmt: skip
    (scans / "four.png").write_bytes(page_bytes(four))
    on_cluster = _run(tmp_path, str(scans), "-o", "cluster.csv", "--dask", cluster.address)
    local = _run(tmp_path, str(scans), "-o", "local.csv", "--workers", "1")
    assert on_cluster.returncode == local.returncode == 0, on_cluster.stderr
    cluster_rows = _rows(tmp_path / "cluster.csv")
    assert [(r["file"], r["card"], r["side"]) for r in cluster_rows] == [
        ("four.png", "1", "front"), ("four.png", "2", "back"),
        ("four.png", "3", "front"), ("four.png", "4", "back"), ("pale.jpg", "", "both")]
    assert cluster_rows == _rows(tmp_path / "local.csv")


def test_the_address_comes_from_the_environment_too(tmp_path: Path,
                                                    cluster: LocalCluster) -> None:
    env = _env(tmp_path) | {"BATCH_OCR_DASK": cluster.address}
    done = subprocess.run([sys.executable, "-m", "batch_ocr", str(SAMPLES / "zhangsan_front.jpg"),
                           "-o", "one.csv"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=RUN_TIMEOUT_S)
    assert done.returncode == 0, done.stderr
    assert f"on the Dask cluster at {cluster.address}" in done.stderr
    assert _rows(tmp_path / "one.csv")[0]["name"] == "张三"


def test_batches_fill_up_under_load(cluster: LocalCluster) -> None:
    from batch_ocr.engines.local import LocalEngine
    from batch_ocr.engines.local.dask_cluster import DaskCluster
    from batch_ocr.vision.imaging import prepare

    images = [prepare((SAMPLES / "zhangsan_back.png").read_bytes())] * 12

    async def recognise_all() -> tuple[list[str], int]:
        on_cluster = DaskCluster(cluster.address, batch_images=4)
        engine = LocalEngine(on_cluster)
        await engine.start()
        try:
            assert engine.images_in_flight() == 4 * 2 * 2  # 2 batches per thread, 2 threads
            results = await asyncio.wait_for(
                asyncio.gather(*(engine.recognise(image) for image in images)), 120)
        finally:
            await engine.aclose()
        return [r.data.side for r in results], on_cluster.tasks_submitted

    sides, tasks = asyncio.run(recognise_all())
    assert sides == ["back"] * 12
    # 12 images queued at once leave in full batches of 4, not one task per image.
    assert tasks == 3


def test_an_image_that_kills_every_worker_fails_alone(tmp_path: Path) -> None:
    from batch_ocr.engines.local import LocalEngine, LocalEngineError
    from batch_ocr.engines.local.dask_cluster import DaskCluster
    from batch_ocr.vision.imaging import PreparedImage, prepare
    from tests.dask_cluster import CRASH_MARKER, crash_on_marker_batch

    card = prepare((SAMPLES / "zhangsan_back.png").read_bytes())
    poison = PreparedImage(card.mime, card.payload + CRASH_MARKER, card.width, card.height,
                           False)

    async def recognise_all(address: str) -> list[object]:
        engine = LocalEngine(DaskCluster(address, task=crash_on_marker_batch))  # type: ignore[arg-type]
        await engine.start()
        try:
            return await asyncio.wait_for(asyncio.gather(
                *(engine.recognise(image) for image in (card, poison, card, card)),
                return_exceptions=True), 150)
        finally:
            await engine.aclose()

    # Nannies restart the killed workers, as in production; each task may kill one.
    with local_cluster(tmp_path / "cluster", nanny=True, allowed_failures=1) as cluster:
        results = asyncio.run(recognise_all(cluster.address))
    assert isinstance(results[1], LocalEngineError), results
    assert results[1].error_code == "local_worker_died"
    assert [r.data.side for i, r in enumerate(results) if i != 1] == ["back"] * 3  # type: ignore[union-attr]


@pytest.mark.serial  # times how soon the run stops
def test_a_cluster_left_without_workers_stops_instead_of_hanging(tmp_path: Path) -> None:
    from batch_ocr.engines.local import LocalEngine
    from batch_ocr.engines.local.dask_cluster import DaskCluster
    from batch_ocr.errors import ClusterLostError
    from batch_ocr.vision.imaging import prepare

    card = prepare((SAMPLES / "zhangsan_back.png").read_bytes())

    async def recognise_all(cluster: LocalCluster) -> tuple[list[object], float]:
        engine = LocalEngine(DaskCluster(cluster.address, no_worker_grace_s=3))
        await engine.start()
        try:
            calls = asyncio.gather(*(engine.recognise(card) for _ in range(8)),
                                   return_exceptions=True)
            await asyncio.sleep(0.5)
            for index in range(len(cluster.workers)):
                cluster.kill_worker(index)
            started = time.monotonic()
            results = await asyncio.wait_for(calls, 60)
            return results, time.monotonic() - started
        finally:
            await engine.aclose()

    with local_cluster(tmp_path / "cluster") as cluster:
        results, waited_s = asyncio.run(recognise_all(cluster))
        address = cluster.address
    assert all(isinstance(r, ClusterLostError) for r in results), results
    assert f"no Dask worker left on the scheduler at {address} for 3 s" in str(results[0])
    assert waited_s < 30


def test_a_worker_killed_mid_run_costs_nothing(tmp_path: Path) -> None:
    scans = _scans(tmp_path / "scans", copies=4)
    with local_cluster(tmp_path / "cluster") as cluster:
        run = _start(tmp_path, str(scans), "-o", "out.csv", "--dask", cluster.address)
        try:
            deadline = time.monotonic() + RUN_TIMEOUT_S
            while _rows_so_far(tmp_path / "out.csv") < 2 and run.poll() is None:
                assert time.monotonic() < deadline, "no row came back from the cluster"
                time.sleep(0.2)
            cluster.kill_worker(0)
            _, stderr = run.communicate(timeout=RUN_TIMEOUT_S)
        finally:
            run.kill()
    assert run.returncode == 0, stderr
    _no_traceback(stderr)
    rows = _rows(tmp_path / "out.csv")
    assert len(rows) == 16
    assert {row["status"] for row in rows} == {"ok"}
    assert len({row["file"] for row in rows}) == 16


@pytest.mark.serial  # times how soon the run stops
def test_a_lost_scheduler_stops_the_run_and_the_next_run_completes(
        tmp_path: Path, cluster: LocalCluster) -> None:
    scans = _scans(tmp_path / "scans", copies=4)
    with local_cluster(tmp_path / "cluster1") as lost:
        run = _start(tmp_path, str(scans), "-o", "out.csv", "--dask", lost.address)
        try:
            deadline = time.monotonic() + RUN_TIMEOUT_S
            while _rows_so_far(tmp_path / "out.csv") < 1 and run.poll() is None:
                assert time.monotonic() < deadline, "no row came back from the cluster"
                time.sleep(0.2)
            lost.kill_scheduler()
            stopped_at = time.monotonic()
            _, stderr = run.communicate(timeout=60)
            stop_s = time.monotonic() - stopped_at
        finally:
            run.kill()
        first_address = lost.address
    assert run.returncode == 3, stderr
    _no_traceback(stderr)
    fatal = [line for line in stderr.splitlines() if "fatal" in line]
    assert len(fatal) == 1, stderr
    assert f"lost the Dask scheduler at {first_address}" in fatal[0]
    assert stop_s < 30
    done_before = _rows(tmp_path / "out.csv")
    assert 1 <= len(done_before) < 16
    assert all(row["status"] == "ok" for row in done_before)

    # The next run, on a cluster that is up (the session's: the lost one is not started
    # again, a new scheduler is what the rerun needs, not a new cluster of its own).
    rerun = _run(tmp_path, str(scans), "-o", "out.csv", "--dask", cluster.address)
    assert rerun.returncode == 0, rerun.stderr
    assert f"already done in an earlier run: {len(done_before)}" in rerun.stderr
    rows = _rows(tmp_path / "out.csv")
    assert len(rows) == 16 and len({row["file"] for row in rows}) == 16
    assert {row["status"] for row in rows} == {"ok"}


@pytest.mark.parametrize("nanny", [True, False], ids=["nanny", "no nanny"])
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL], ids=["stopped", "killed"])
def test_workers_end_when_their_scheduler_stops(tmp_path: Path, nanny: bool,
                                                 stop: signal.Signals) -> None:
    """What docs/cluster.md says of a scheduler that stops:
    stopped or killed, its workers, with a nanny (``dask worker``'s default) or
    without, end within seconds, exit code 0, and do not wait for it to come back, so
    something must start them again (systemd, Kubernetes). One worker: each worker
    watches its scheduler alone, and a second would only add its start-up."""
    with local_cluster(tmp_path / "cluster", workers=1, nanny=nanny) as cluster:
        if nanny:
            # A nanny ends its own start-up handshake with the scheduler just after its
            # worker joins; a scheduler gone in that instant makes it exit 1 ("Nanny
            # failed to start"): a start-up race, not what is tested here.
            time.sleep(NANNY_SETTLE_S)
        cluster.scheduler.send_signal(stop)
        cluster.scheduler.wait(30)
        deadline = time.monotonic() + 30
        while any(worker.poll() is None for worker in cluster.workers):
            assert time.monotonic() < deadline, cluster.logs()
            time.sleep(0.2)
        assert [worker.returncode for worker in cluster.workers] == [0], cluster.logs()


def test_an_unreachable_scheduler_stops_before_any_work(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{probe.getsockname()[1]}"
    started = time.monotonic()
    # Given up on after 1 s, not the default 10 s (the same refusal, sooner): also shows
    # the environment's setting reaches the connection.
    done = _run(tmp_path, str(SAMPLES), "-o", "out.csv", "--dask", address,
                "--summary-json", "summary.json",
                env=_env(tmp_path, BATCH_OCR_DASK_CONNECT_TIMEOUT="1"))
    assert done.returncode == 3
    assert f"batch-ocr: fatal: cannot reach the Dask scheduler at {address}" in done.stderr
    _no_traceback(done.stderr)
    assert time.monotonic() - started < 9, "the 1 s connect timeout was not used"
    assert _rows_so_far(tmp_path / "out.csv") == 0


def test_dask_with_the_api_engine_is_a_usage_error(tmp_path: Path) -> None:
    done = _run(tmp_path, str(SAMPLES), "-o", "out.csv", "--dask", "tcp://127.0.0.1:8786",
                "--engine", "api")
    assert done.returncode == 2
    assert "--dask runs the offline engine" in done.stderr
