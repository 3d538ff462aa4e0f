"""batch-ocr's benchmarks: time, CPU, memory and cost against the provider emulator.

    python tests/benchmarks/run.py [--quick] [--only NAME[,NAME]] [--report PATH]
                                   [--against CHECKOUT]

Drives the real CLI (``python -m batch_ocr`` as a child process) against
``batch-ocr-emulator`` (a separate process on 127.0.0.1) over images generated in a
temporary folder. Every number that is compared is a ratio of two things measured in
this same run, side by side, because the machine is shared and absolute numbers are
noisy. Writes ``tests/benchmarks/report.json`` and prints a markdown table.

``--against CHECKOUT`` runs each benchmark first with the CLI of another checkout (an
earlier version: ``git worktree add /tmp/before <commit>``), then with this one, and
adds a row per figure with this version's ratio over that one's: "no worse than before"
measured side by side, in the same run.

Benchmarks (``--only`` takes these names): throughput, rate_cap, cpu_per_mb, memory,
rerun (runs memory's 20k set first if needed), baselines.
"""

from __future__ import annotations

import argparse
import base64
import csv
import hashlib
import json
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parents[1]))

import harness  # noqa: E402
import images  # noqa: E402
from harness import PYTHON, Measured, emulator, measure, run_batch_ocr  # noqa: E402

REPORT_PATH = HERE / "report.json"
CLEAN = ("ok", "not_id_card")


@dataclass
class Result:
    """One line of the table."""

    benchmark: str
    measured: str
    target: str
    ratio: float | None
    met: bool | None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class Scale:
    """How much work each benchmark does (``--quick`` shrinks everything)."""

    latency_ms: float = 200.0
    throughput_concurrency: tuple[int, ...] = (16, 64, 128)
    throughput_min_images: int = 2000
    #: Each throughput run gets at least this many seconds of ideal work, so that
    #: start-up is counted but a fixed 0.7 s does not decide the result alone.
    throughput_min_ideal_s: float = 10.0
    rate_images: int = 500
    rate_concurrency: int = 32
    large_images: int = 200
    scale_small: int = 2000
    scale_large: int = 20000
    scale_concurrency: int = 16
    baseline_images: int = 200
    baseline_concurrency: int = 64


QUICK = Scale(
    throughput_min_images=300,
    throughput_min_ideal_s=0.0,
    rate_images=100,
    large_images=20,
    scale_small=300,
    scale_large=3000,
    baseline_images=30,
)


class Context:
    """Shared between benchmarks: the scale, the scratch folder, what was built."""

    def __init__(self, scale: Scale, work: Path) -> None:
        self.scale = scale
        self.work = work
        self.results: list[Result] = []
        self.scale_done: tuple[Path, Path] | None = None  # (20k folder, its output)

    def add(self, result: Result) -> None:
        self.results.append(result)
        ratio = "" if result.ratio is None else f" ratio {result.ratio:.3g}"
        met = "" if result.met is None else (" met" if result.met else " MISSED")
        print(f"  {result.benchmark}: {result.measured}{ratio}{met}", file=sys.stderr, flush=True)


def _rows(output: Path) -> list[dict[str, str]]:
    with output.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _status_counts(output: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in _rows(output):
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    return counts


def _check_run(run: Measured, expected_images: int, output: Path) -> dict[str, Any]:
    """Fail loudly if the run did not do the work (a fast wrong run is no benchmark)."""
    counts = _status_counts(output)
    clean = sum(counts.get(s, 0) for s in CLEAN)
    if run.exit_code != 0 or clean != expected_images:
        raise RuntimeError(
            f"batch-ocr run went wrong: exit {run.exit_code}, rows {counts}, expected "
            f"{expected_images} clean\n{run.stderr_tail}"
        )
    return counts


def _run_facts(run: Measured) -> dict[str, Any]:
    return {
        "wall_s": round(run.wall_s, 3),
        "user_s": round(run.user_s, 3),
        "sys_s": round(run.sys_s, 3),
        "max_rss_mb": round(run.max_rss_mb, 1),
        "exit_code": run.exit_code,
        "in_run_elapsed_s": run.summary.get("elapsed_s"),
        "calls": run.summary.get("calls"),
        "retries": run.summary.get("retries"),
    }


# -- throughput ---------------------------------------------------------------------------


def bench_throughput(ctx: Context) -> None:
    """Achieved / ideal images per second at C in-flight calls and latency L (ideal C/L)."""
    scale = ctx.scale
    latency_s = scale.latency_ms / 1000
    with emulator("--latency-ms", str(scale.latency_ms)) as emu:
        for concurrency in scale.throughput_concurrency:
            ideal_per_s = concurrency / latency_s
            target_applies = concurrency == 64
            # The target row is the issue's own measure: 2,000 small images, the median
            # of three whole runs; the others get enough images for 10 s of ideal work.
            count = scale.throughput_min_images if target_applies else max(
                scale.throughput_min_images, round(ideal_per_s * scale.throughput_min_ideal_s))
            folder = ctx.work / f"throughput-{count}"
            if not folder.exists():
                images.write_tiny(folder, count)
            runs = []
            for _ in range(3 if target_applies else 1):
                output = ctx.work / f"throughput-c{concurrency}-{len(runs)}.csv"
                emu.reset()
                emulator_cpu_before = emu.cpu_s()
                attempt = run_batch_ocr([folder], output, endpoint=emu.url,
                                        extra=["--concurrency", str(concurrency)])
                emulator_cpu_s = emu.cpu_s() - emulator_cpu_before
                counts = _check_run(attempt, count, output)
                runs.append(attempt)
            walls = sorted(r.wall_s for r in runs)
            run = next(r for r in runs if r.wall_s == walls[len(walls) // 2])
            achieved_per_s = count / run.wall_s
            ratio = achieved_per_s / ideal_per_s
            in_run = run.summary.get("elapsed_s") or run.wall_s
            ceiling: dict[str, Any] = {}
            if concurrency == 64:
                # Same images, same emulator, the least client possible: what the
                # machine and the emulator allow, for the reader to judge the rest by.
                emu.reset()
                raw = measure([PYTHON, str(HERE / "raw_client.py"), emu.url, str(folder),
                               str(concurrency)], env=harness.credentials_env())
                if raw.exit_code != 0 or emu.stats()["billable"] != count:
                    raise RuntimeError(f"raw client failed: {raw.stderr_tail}")
                ceiling = {"raw_client_wall_s": round(raw.wall_s, 3),
                           "raw_client_ratio": (count / raw.wall_s) / ideal_per_s,
                           "raw_client_cpu_s": round(raw.cpu_s, 3)}
            ctx.add(Result(
                benchmark=f"throughput C={concurrency}, L={scale.latency_ms:g} ms, "
                f"{count} images (whole process"
                + (", median of 3)" if target_applies else ")"),
                measured=f"{achieved_per_s:.0f} img/s of ideal {ideal_per_s:.0f}",
                target=">= 0.9 of ideal" if target_applies else "report",
                ratio=ratio,
                met=(ratio >= 0.9) if target_applies else None,
                details={
                    **_run_facts(run),
                    "images": count,
                    "ratios_of_runs": [round(count / w / ideal_per_s, 3) for w in walls],
                    "ideal_per_s": ideal_per_s,
                    "achieved_per_s": achieved_per_s,
                    "in_run_ratio": (count / in_run) / ideal_per_s,
                    "start_and_finish_s": round(run.wall_s - in_run, 3),
                    "rows": counts,
                    "emulator_cpu_s": round(emulator_cpu_s, 2),
                    "emulator_calls": emu.stats()["calls"],
                    **ceiling,
                },
            ))
            if ceiling:
                ctx.add(Result(
                    benchmark="  ceiling: bare aiohttp client (raw_client.py), same images "
                    "and emulator (whole process)",
                    measured=f"{count / raw.wall_s:.0f} img/s; batch-ocr reaches "
                    f"{run.wall_s and raw.wall_s / run.wall_s:.0%} of it",
                    target="report", ratio=ceiling["raw_client_ratio"], met=None,
                    details=ceiling,
                ))


# -- rate cap ------------------------------------------------------------------------------


def bench_rate_cap(ctx: Context) -> None:
    """``--qps 50`` against a gateway allowing 50/s: the full rate, no 429; and without."""
    scale = ctx.scale
    qps = 50.0
    folder = ctx.work / "rate"
    images.write_tiny(folder, scale.rate_images, start=500_000)
    with emulator("--latency-ms", str(scale.latency_ms), "--qps", f"{qps:g}") as emu:
        for capped in (True, False):
            output = ctx.work / f"rate-{'capped' if capped else 'uncapped'}.csv"
            emu.reset()
            extra = ["--concurrency", str(scale.rate_concurrency)]
            if capped:
                extra += ["--qps", f"{qps:g}"]
            run = run_batch_ocr([folder], output, endpoint=emu.url, extra=extra,
                                timeout_s=240)
            stats = emu.stats()
            answers_429 = int(stats["by_status"].get("429", 0))
            counts = _status_counts(output)
            clean = sum(counts.get(s, 0) for s in CLEAN)
            in_run_s = run.summary.get("elapsed_s") or run.wall_s
            rate = scale.rate_images / in_run_s
            facts = {**_run_facts(run), "rows": counts, "emulator_calls": stats["calls"],
                     "answers_429": answers_429, "by_status": stats["by_status"],
                     "billable": stats["billable"],
                     "rate_over_whole_process": scale.rate_images / run.wall_s}
            if capped:
                ctx.add(Result(
                    benchmark=f"rate cap: --qps 50 vs gateway 50/s, C={scale.rate_concurrency}, "
                    f"{scale.rate_images} images",
                    measured=f"{rate:.1f} img/s (in-run), {answers_429} x 429",
                    target=">= 0.97 of 50/s, zero 429",
                    ratio=rate / qps,
                    met=rate / qps >= 0.97 and answers_429 == 0 and clean == scale.rate_images,
                    details=facts,
                ))
            else:
                ctx.add(Result(
                    benchmark=f"no --qps vs gateway 50/s, C={scale.rate_concurrency}, "
                    f"{scale.rate_images} images",
                    measured=f"{clean}/{scale.rate_images} ok, {rate:.1f} img/s, "
                    f"{answers_429} x 429 retried",
                    target="every image ok",
                    ratio=clean / scale.rate_images,
                    met=clean == scale.rate_images,
                    details=facts,
                ))


# -- CPU per megabyte -------------------------------------------------------------------


def _cpu_per_mb(work: Callable[[bytes], object], paths: list[Path]) -> float:
    """In-process CPU milliseconds per MB (2**20 bytes) of ``work`` over the files.

    One file in memory at a time: a child's ``ru_maxrss`` starts from this process's
    peak RSS (Linux carries it over fork and exec), so this process must stay small or
    every later peak-RSS number would be ours, not batch-ocr's.
    """
    spent_s = 0.0
    total_bytes = 0
    for path in paths:
        blob = path.read_bytes()
        started = time.process_time()
        work(blob)
        spent_s += time.process_time() - started
        total_bytes += len(blob)
        del blob
    return spent_s * 1000 / (total_bytes / 2**20)


def _startup(repeat: int = 3) -> Measured:
    runs = [measure([PYTHON, "-m", "batch_ocr", "--version"], env=harness.credentials_env())
            for _ in range(repeat)]
    return sorted(runs, key=lambda r: r.cpu_s)[len(runs) // 2]


def bench_cpu_per_mb(ctx: Context) -> None:
    """Client CPU (user+sys of the whole CLI process) per MB of image sent."""
    from batch_ocr.provider.encoding import form_body
    from batch_ocr.vision import imaging

    scale = ctx.scale
    folder = ctx.work / "large"
    paths = images.write_large(folder, scale.large_images)
    total_mb = sum(p.stat().st_size for p in paths) / 2**20
    output = ctx.work / "large.csv"
    with emulator("--latency-ms", "0") as emu:
        run = run_batch_ocr([folder], output, endpoint=emu.url)
    counts = _check_run(run, len(paths), output)
    fitted = sum(1 for row in _rows(output) if row.get("fitted") == "true")
    startup = _startup()
    cli_ms_per_mb = run.cpu_s * 1000 / total_mb

    floor_ms = _cpu_per_mb(lambda b: form_body("image/jpeg", b), paths)
    few = paths[: min(20, len(paths))]  # urlencode is slow; a sample is enough
    urlencode_ms = _cpu_per_mb(
        lambda b: urlencode({"image": "data:image/jpeg;base64," + base64.b64encode(b).decode(),
                             "url": ""}).encode(), few)
    sha_ms = _cpu_per_mb(lambda b: hashlib.sha256(b).digest(), paths)
    prepare_ms = _cpu_per_mb(imaging.prepare, few)
    ctx.add(Result(
        benchmark=f"client CPU per MB, {len(paths)} noise JPEGs of "
        f"{total_mb * 1024 / len(paths):.0f} KiB, L=0 (whole process, nothing subtracted)",
        measured=f"{cli_ms_per_mb:.2f} ms/MB ({run.cpu_s:.2f} s CPU for {total_mb:.0f} MB)",
        target="<= 10 ms/MB",
        ratio=cli_ms_per_mb / 10.0,
        met=cli_ms_per_mb <= 10.0 and fitted == 0,
        details={**_run_facts(run), "rows": counts, "fitted_rows": fitted, "mb": total_mb,
                 "startup_cpu_s": startup.cpu_s,
                 "cpu_minus_startup_ms_per_mb": (run.cpu_s - startup.cpu_s) * 1000 / total_mb},
    ))
    ctx.add(Result(
        benchmark="  start-up: `python -m batch_ocr --version` (median of 3)",
        measured=f"{startup.cpu_s * 1000:.0f} ms CPU, {startup.wall_s * 1000:.0f} ms wall, "
        f"{startup.max_rss_mb:.0f} MB RSS",
        target="report", ratio=None, met=None,
        details={"cpu_s": startup.cpu_s, "wall_s": startup.wall_s},
    ))
    for name, value, note in (
        ("floor: base64 + %-escaping (encoding.form_body), in-process", floor_ms,
         "the floor"),
        ("stdlib urlencode of the same data URI, in-process", urlencode_ms,
         f"{urlencode_ms / floor_ms:.0f}x the floor"),
        ("sha256, in-process", sha_ms, "part of the CLI's work"),
        ("pre-flight decode check (imaging.prepare), in-process", prepare_ms,
         "part of the CLI's work"),
    ):
        ctx.add(Result(benchmark="  " + name, measured=f"{value:.2f} ms/MB ({note})",
                       target="report", ratio=value / cli_ms_per_mb, met=None,
                       details={"ms_per_mb": value, "ratio_is": "of the CLI's ms/MB"}))


# -- memory and scale, incremental rerun --------------------------------------------------


def _scale_run(ctx: Context, count: int) -> tuple[Measured, Path, Path]:
    folder = ctx.work / f"scale-{count}"
    made = time.perf_counter()
    images.write_tiny(folder, count, start=1_000_000)
    print(f"  (wrote {count} images in {time.perf_counter() - made:.1f} s)", file=sys.stderr)
    output = ctx.work / f"scale-{count}.csv"
    with emulator("--latency-ms", "0") as emu:
        run = run_batch_ocr([folder], output, endpoint=emu.url,
                            extra=["--concurrency", str(ctx.scale.scale_concurrency)],
                            timeout_s=400)
    _check_run(run, count, output)
    return run, folder, output


def bench_memory(ctx: Context) -> None:
    """Peak RSS at 2k and 20k images; it must not grow with the folder."""
    scale = ctx.scale
    small, _, _ = _scale_run(ctx, scale.scale_small)
    large, folder, output = _scale_run(ctx, scale.scale_large)
    ctx.scale_done = (folder, output)
    growth = large.max_rss_mb / small.max_rss_mb - 1
    ctx.add(Result(
        benchmark=f"peak RSS, {scale.scale_large} tiny images, L=0",
        measured=f"{large.max_rss_mb:.0f} MB",
        target="<= 150 MB",
        ratio=large.max_rss_mb / 150,
        met=large.max_rss_mb <= 150,
        details={**_run_facts(large), "images_per_s_whole_process":
                 scale.scale_large / large.wall_s},
    ))
    ctx.add(Result(
        benchmark=f"RSS growth {scale.scale_small} -> {scale.scale_large} images",
        measured=f"{small.max_rss_mb:.0f} -> {large.max_rss_mb:.0f} MB ({growth:+.1%})",
        target="<= +20%",
        ratio=1 + growth,
        met=growth <= 0.20,
        details={"small": _run_facts(small), "large": _run_facts(large)},
    ))


def bench_rerun(ctx: Context) -> None:
    """A rerun with nothing to do over the 20k images already done."""
    if ctx.scale_done is None:
        _, folder, output = _scale_run(ctx, ctx.scale.scale_large)
    else:
        folder, output = ctx.scale_done
    with emulator("--latency-ms", "0") as emu:
        run = run_batch_ocr([folder], output, endpoint=emu.url,
                            extra=["--concurrency", str(ctx.scale.scale_concurrency)])
        calls = emu.stats()["calls"]
    done = run.summary.get("already_done")
    ok = run.exit_code == 0 and calls == 0 and done == ctx.scale.scale_large
    ctx.add(Result(
        benchmark=f"no-op rerun over {ctx.scale.scale_large} done images",
        measured=f"{run.wall_s:.2f} s wall, {calls} calls",
        target="< 5 s, no call",
        ratio=run.wall_s / 5.0,
        met=ok and run.wall_s < 5.0,
        details={**_run_facts(run), "already_done": done, "emulator_calls": calls},
    ))


# -- against what users would otherwise run ---------------------------------------------


def bench_baselines(ctx: Context) -> None:
    """batch-ocr vs the provider's sample loop and vs ``xargs -P C`` + curl, same images."""
    scale = ctx.scale
    count, concurrency = scale.baseline_images, scale.baseline_concurrency
    folder = ctx.work / "baseline"
    images.write_tiny(folder, count, start=2_000_000)
    env = harness.credentials_env()
    contenders: dict[str, Measured] = {}
    billed: dict[str, int] = {}
    with emulator("--latency-ms", str(scale.latency_ms)) as emu:
        env["BENCH_URL"] = emu.url

        def verify(name: str, run: Measured) -> None:
            stats = emu.stats()
            billed[name] = stats["billable"]
            if stats["billable"] != count or stats["calls"] != count:
                raise RuntimeError(f"{name}: {stats['calls']} calls, {stats['billable']} "
                                   f"billable, expected {count}\n{run.stderr_tail}")
            contenders[name] = run

        emu.reset()
        output = ctx.work / "baseline-batch-ocr.csv"
        run = run_batch_ocr([folder], output, endpoint=emu.url,
                            extra=["--concurrency", str(concurrency)])
        _check_run(run, count, output)
        verify("batch-ocr", run)

        emu.reset()
        output = ctx.work / "baseline-batch-ocr-default.csv"
        run = run_batch_ocr([folder], output, endpoint=emu.url)
        _check_run(run, count, output)
        verify("batch-ocr-default", run)

        emu.reset()
        run = measure([PYTHON, str(HERE / "sample_loop.py"), emu.url, str(folder)], env=env,
                      stdout_path=ctx.work / "sample-loop.jsonl", timeout_s=600)
        verify("sample-loop", run)

        if shutil.which("curl") and shutil.which("openssl"):
            answers = ctx.work / "curl-answers"
            answers.mkdir(exist_ok=True)
            listing = ctx.work / "baseline-files.txt"
            listing.write_text("".join(f"{p}\n" for p in sorted(folder.iterdir())))
            emu.reset()
            run = measure(["xargs", "-a", str(listing), "-d", "\n", "-P", str(concurrency),
                           "-n", "1", "sh", str(HERE / "curl_one.sh")],
                          env={**env, "BENCH_OUT": str(answers)}, timeout_s=600)
            verify("xargs-curl", run)

    ours = contenders["batch-ocr"]
    default = contenders["batch-ocr-default"]
    ctx.add(Result(
        benchmark=f"batch-ocr C={concurrency}, {count} images, L={scale.latency_ms:g} ms",
        measured=f"{ours.wall_s:.2f} s wall, {ours.cpu_s:.2f} s CPU",
        target="report", ratio=None, met=None, details=_run_facts(ours),
    ))
    loop = contenders["sample-loop"]
    ctx.add(Result(
        benchmark="  speedup over the provider's sample loop (urllib, one at a time)",
        measured=f"{loop.wall_s:.1f} s vs {ours.wall_s:.2f} s "
        f"(loop CPU {loop.cpu_s:.2f} s)",
        target="> 1", ratio=loop.wall_s / ours.wall_s, met=loop.wall_s > ours.wall_s,
        details={"sample_loop": _run_facts(loop), "batch_ocr": _run_facts(ours)},
    ))
    ctx.add(Result(
        benchmark="  same, batch-ocr at its default --concurrency 8",
        measured=f"{loop.wall_s:.1f} s vs {default.wall_s:.2f} s",
        target="report", ratio=loop.wall_s / default.wall_s, met=None,
        details={"batch_ocr_default": _run_facts(default)},
    ))
    if "xargs-curl" in contenders:
        xargs = contenders["xargs-curl"]
        ctx.add(Result(
            benchmark=f"  speedup over `xargs -P {concurrency}` + curl "
            "(sh + date + openssl HMAC + base64/sed per request)",
            measured=f"{xargs.wall_s:.2f} s vs {ours.wall_s:.2f} s; CPU {xargs.cpu_s:.2f} s "
            f"vs {ours.cpu_s:.2f} s",
            target="> 1", ratio=xargs.wall_s / ours.wall_s, met=xargs.wall_s > ours.wall_s,
            details={"xargs_curl": _run_facts(xargs), "batch_ocr": _run_facts(ours),
                     "cpu_ratio": xargs.cpu_s / ours.cpu_s},
        ))
    else:
        ctx.add(Result(benchmark="  xargs + curl", measured="skipped: no curl or openssl",
                       target="report", ratio=None, met=None))


BENCHMARKS: dict[str, Callable[[Context], None]] = {
    "throughput": bench_throughput,
    "rate_cap": bench_rate_cap,
    "cpu_per_mb": bench_cpu_per_mb,
    "memory": bench_memory,
    "rerun": bench_rerun,
    "baselines": bench_baselines,
}


# -- report ----------------------------------------------------------------------------------


def markdown_table(results: list[Result]) -> str:
    lines = ["| benchmark | measured | target | ratio | met? |", "|---|---|---|---|---|"]
    for r in results:
        ratio = "" if r.ratio is None else f"{r.ratio:.3g}"
        met = "" if r.met is None else ("yes" if r.met else "**no**")
        lines.append(f"| {r.benchmark} | {r.measured} | {r.target} | {ratio} | {met} |")
    return "\n".join(lines)


def _run_one(name: str, ctx: Context, failed: dict[str, str], timings: dict[str, float], *,
             label: str) -> None:
    """One benchmark into ``ctx``; a failure is a result, and the others go on."""
    ctx.work.mkdir(parents=True, exist_ok=True)
    begun = time.perf_counter()
    try:
        BENCHMARKS[name](ctx)
    except Exception as exc:  # noqa: BLE001 - report it, go on with the others
        failed[label] = f"{type(exc).__name__}: {exc}"
        ctx.add(Result(benchmark=label, measured=f"FAILED: {exc}".splitlines()[0],
                       target="", ratio=None, met=False))
    timings[label] = round(time.perf_counter() - begun, 1)


def compared(this: list[Result], before: list[Result], label: str) -> list[Result]:
    """This version's figures over the other checkout's, figure by figure (each
    ``ratio`` grows with its figure: above 1 is more throughput, CPU or time). Figures
    measured in this process (``in-process``) run this checkout's code either way."""
    earlier = {result.benchmark: result for result in before}
    rows = []
    for result in this:
        other = earlier.get(result.benchmark)
        if (other is None or not result.ratio or not other.ratio
                or "in-process" in result.benchmark):
            continue
        rows.append(Result(
            benchmark=f"{result.benchmark}: this version / {label}",
            measured=f"{result.measured} vs {other.measured}", target="report",
            ratio=result.ratio / other.ratio, met=None,
            details={"this": asdict(result), label: asdict(other)}))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke check")
    parser.add_argument("--only", action="append", default=[], metavar="NAME",
                        help=f"run only these (repeatable or comma-separated): "
                        f"{', '.join(BENCHMARKS)}")
    parser.add_argument("--report", type=Path, default=REPORT_PATH,
                        help=f"JSON report path (default: {REPORT_PATH})")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    parser.add_argument("--against", type=Path, metavar="CHECKOUT",
                        help="also run each benchmark with the CLI of this checkout, first, "
                        "and report this version's ratios over its figures")
    args = parser.parse_args(argv)
    names = [n for group in args.only for n in group.split(",") if n] or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    scale = QUICK if args.quick else Scale()
    harness.byte_compile_package()  # measured as installed: see its docstring
    if args.against:
        harness.byte_compile_package(args.against)
    started = time.perf_counter()
    load_before = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="batch-ocr-bench-"))
    ctx = Context(scale, work)
    timings: dict[str, float] = {}
    failed: dict[str, str] = {}
    against = Context(scale, work / "against") if args.against else None
    try:
        for name in names:
            if against is not None:
                print(f"[{name}, {args.against}]", file=sys.stderr, flush=True)
                harness.CLI_SOURCE = args.against.resolve()
                try:
                    _run_one(name, against, failed, timings, label=f"{name} (against)")
                finally:
                    harness.CLI_SOURCE = None
            print(f"[{name}]", file=sys.stderr, flush=True)
            _run_one(name, ctx, failed, timings, label=name)
    finally:
        if args.keep:
            print(f"scratch kept in {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    if against is not None:
        for result in compared(ctx.results, against.results, args.against.name):
            ctx.add(result)
    total_s = time.perf_counter() - started
    report = {
        "quick": args.quick,
        "benchmarks": names,
        "scale": asdict(scale),
        "seconds": {"total": round(total_s, 1), **timings},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform(),
                    "loadavg_before": load_before, "loadavg_after": os.getloadavg()},
        "failed": failed,
        # Children's ru_maxrss is at least this (Linux carries the parent's peak over
        # fork + exec); it must stay well under the children's own numbers.
        "driver_max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "results": [asdict(r) for r in ctx.results],
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    args.report.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(markdown_table(ctx.results))
    print(f"\n{len(names)} benchmark(s) in {total_s:.0f} s; load average "
          f"{load_before[0]:.1f} before, {os.getloadavg()[0]:.1f} after; report: {args.report}")
    missed = [r.benchmark for r in ctx.results if r.met is False]
    return 1 if missed or failed else 0


if __name__ == "__main__":
    sys.exit(main())


