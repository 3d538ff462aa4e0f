"""The offline engine on a 2-worker Dask cluster against the local pool, side by side.

    python tests/benchmarks/cluster.py [--images 48] [--rounds 2] [--report PATH]

Same images, same machine, same run: ``python -m batch_ocr SCANS -o OUT --workers 2``
(the local pool) and ``python -m batch_ocr SCANS -o OUT --dask ADDRESS`` against a
scheduler and two single-threaded ``dask worker`` processes on 127.0.0.1, alternated
``--rounds`` times so a burst of load on this shared machine hits both alike. The
cluster is started once, before the timed runs, as a real one would be running already.

Reports:

- wall time of each, and the ratio pool / Dask (target: at least 0.8, i.e. Dask within
  0.8 of the pool's throughput);
- CPU seconds per image on the workers, the driver's CPU and peak RSS per image, and
  each worker's RSS (for docs/cluster.md, "What a million images costs");
- scheduling overhead per image: the same bytes sent through the Dask engine with a
  task that recognises nothing, in batches of 8 and of 1.

Writes ``tests/benchmarks/cluster_report.json`` and prints a markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(REPO))

from harness import PYTHON, Measured, measure  # noqa: E402

from tests.dask_cluster import cpu_s, local_cluster, noop_batch, rss_mb  # noqa: E402

REPORT_PATH = HERE / "cluster_report.json"
SAMPLES = REPO / "samples" / "cards"
CARDS = ("zhangsan_front.jpg", "zhangsan_back.png", "wangli-正.png", "lixiaohong_back.gif",
         "ouyangming-front.gif", "ayiguli_back.jpeg")
#: Target: Dask's wall time at most 1 / 0.8 of the pool's on the same images.
MIN_RATIO = 0.8


def make_scans(folder: Path, count: int) -> list[Path]:
    """``count`` distinct JPEGs of the sample cards (different quality: no dedup)."""
    from PIL import Image

    folder.mkdir(parents=True)
    paths = []
    for n in range(count):
        name = CARDS[n % len(CARDS)]
        with Image.open(SAMPLES / name) as image:
            path = folder / f"{Path(name).stem}_{n:04d}.jpg"
            image.convert("RGB").save(path, "JPEG", quality=92 - (n // len(CARDS)) % 20)
            paths.append(path)
    return paths


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("BATCH_OCR_")}


def run_cli(scans: Path, output: Path, *extra: str) -> Measured:
    argv = [PYTHON, "-m", "batch_ocr", str(scans), "-o", str(output), "-q", "--force", *extra]
    result = measure(argv, env=_env(), cwd=output.parent, timeout_s=900)
    if result.exit_code != 0:
        raise SystemExit(f"run failed ({result.exit_code}): {result.stderr_tail}")
    return result


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return sorted(csv.DictReader(handle), key=lambda row: row["file"])


def overhead_per_image_ms(address: str, payloads: list[bytes], batch_images: int) -> float:
    """Milliseconds per image of Dask's own work: a task that recognises nothing."""
    from batch_ocr.engines.local import LocalEngine
    from batch_ocr.engines.local.dask_cluster import DaskCluster
    from batch_ocr.vision.imaging import PreparedImage

    images = [PreparedImage("image/jpeg", p, 1, 1, False) for p in payloads]

    async def push() -> float:
        engine = LocalEngine(DaskCluster(address, batch_images=batch_images,
                                         task=noop_batch))  # type: ignore[arg-type]
        await engine.start()
        try:
            started = time.perf_counter()
            # As a run does: at most images_in_flight() images held at once.
            gate = asyncio.Semaphore(engine.images_in_flight())

            async def one(image: PreparedImage) -> None:
                async with gate:
                    await engine.recognise(image)

            await asyncio.gather(*(one(image) for image in images))
            return time.perf_counter() - started
        finally:
            await engine.aclose()

    return 1000 * asyncio.run(push()) / len(images)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=48, help="images per run (default: 48)")
    parser.add_argument("--rounds", type=int, default=2,
                        help="pool/Dask pairs, alternated (default: 2)")
    parser.add_argument("--overhead-images", type=int, default=2000,
                        help="images pushed through the no-op task (default: 2000)")
    parser.add_argument("--report", type=Path, default=REPORT_PATH)
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as tmp:
        work = Path(tmp)
        paths = make_scans(work / "scans", args.images)
        with local_cluster(work / "cluster", workers=2) as cluster:
            workers_cpu_before = sum(cpu_s(w.pid) for w in cluster.workers)
            pool_runs, dask_runs = [], []
            for round_no in range(args.rounds):
                pool_runs.append(run_cli(work / "scans", work / f"pool{round_no}.csv",
                                         "--workers", "2"))
                dask_runs.append(run_cli(work / "scans", work / f"dask{round_no}.csv",
                                         "--dask", cluster.address))
            workers_cpu_s = sum(cpu_s(w.pid) for w in cluster.workers) - workers_cpu_before
            worker_rss = [round(rss_mb(w.pid), 1) for w in cluster.workers]
            same_rows = _rows(work / "pool0.csv") == _rows(work / "dask0.csv")
            # The driver's fixed cost (interpreter, imports, connecting), to subtract.
            startup = measure([PYTHON, "-c", "import batch_ocr.cli, batch_ocr.engines."
                               "local.dask_cluster, batch_ocr.engines.local.engine"],
                              env=_env(), cwd=work)
            payloads = [p.read_bytes() for p in paths]
            many = (payloads * (args.overhead_images // len(payloads) + 1))[:args.overhead_images]
            overhead_8 = overhead_per_image_ms(cluster.address, many, 8)
            overhead_1 = overhead_per_image_ms(cluster.address, many[: len(many) // 4], 1)
    pool_s = min(r.wall_s for r in pool_runs)
    dask_s = min(r.wall_s for r in dask_runs)
    ratio = pool_s / dask_s
    images = args.images
    report: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_average_before": [round(x, 2) for x in load_before],
                    "load_average_after": [round(x, 2) for x in os.getloadavg()]},
        "images": images,
        "rounds": args.rounds,
        "pool_wall_s": [round(r.wall_s, 2) for r in pool_runs],
        "dask_wall_s": [round(r.wall_s, 2) for r in dask_runs],
        "ratio_pool_over_dask": round(ratio, 3),
        "target_ratio": MIN_RATIO,
        "met": ratio >= MIN_RATIO,
        "same_rows": same_rows,
        "pool_cpu_s_per_image": round(min(r.cpu_s for r in pool_runs) / images, 3),
        "worker_cpu_s_per_image": round(workers_cpu_s / (images * args.rounds), 3),
        "driver_cpu_s_per_image": round(min(r.cpu_s for r in dask_runs) / images, 4),
        "driver_startup_cpu_s": round(startup.cpu_s, 3),
        "driver_cpu_s_per_image_after_startup": round(
            (min(r.cpu_s for r in dask_runs) - startup.cpu_s) / images, 4),
        "driver_peak_rss_mb": round(max(r.max_rss_mb for r in dask_runs), 1),
        "worker_rss_mb": worker_rss,
        "overhead_ms_per_image_batch_8": round(overhead_8, 2),
        "overhead_ms_per_image_batch_1": round(overhead_1, 2),
        "overhead_images": len(many),
    }
    args.report.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print("| measure | local pool (2 processes) | Dask (2 workers) |\n|---|---:|---:|")
    print(f"| wall time, {images} images (best of {args.rounds}) | {pool_s:.1f} s "
          f"| {dask_s:.1f} s |")
    print(f"| images per second | {images / pool_s:.2f} | {images / dask_s:.2f} |")
    print(f"| ratio pool / Dask (target >= {MIN_RATIO}) | | {ratio:.2f} "
          f"({'met' if ratio >= MIN_RATIO else 'NOT met'}) |")
    print(f"| same rows | | {same_rows} |")
    print(f"| recognition CPU per image | {report['pool_cpu_s_per_image']} s "
          f"| {report['worker_cpu_s_per_image']} s on the workers |")
    print(f"| driver CPU per image (start-up of {report['driver_startup_cpu_s']} s "
          f"subtracted) | | {report['driver_cpu_s_per_image_after_startup']} s |")
    print(f"| driver peak RSS | | {report['driver_peak_rss_mb']} MB |")
    print(f"| worker RSS | | {worker_rss} MB |")
    print(f"| scheduling overhead per image (batches of 8 / of 1) | | {overhead_8:.2f} ms "
          f"/ {overhead_1:.2f} ms |")
    print(f"load average before {load_before[0]:.2f}, after {os.getloadavg()[0]:.2f}")
    return 0 if ratio >= MIN_RATIO and same_rows else 1


if __name__ == "__main__":
    sys.exit(main())
