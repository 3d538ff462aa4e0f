"""Sides lost on copies whose back came out pale: the offline engine and the API engine.

    python tests/benchmarks/pale_backs.py [--washed-out 0.3 0.4 ...] [--seeds N]
                                          [--engine local|api|both] [--report PATH]

An office's A4 copy (grey, stamped, the scanner's shadow line, a quality-75 JPEG at
150 dpi) holds one person's front above the back; the back is printed ``washed_out``
paler (``samples/make_samples.py``'s ``PageCard.washed_out``: an ID-copy mode exposes
each side on its own pass). Each page is run through the real CLI, offline
(``--engine local``) and through the API emulator answering with real recognition
(``batch-ocr-emulator --engine local``). Per washed-out value and engine it counts the
sides lost (a page should give one ``both`` row: a ``front`` or ``back`` row loses one
side, no row both), how many of those the row says are missing (``warnings`` holds
``side_unread``), the back's fields read exactly, and the billable calls.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.card_pages import encode_page, make_samples, page_image  # noqa: E402
from tests.e2e_support import demo_env, emulator_process, stats_of  # noqa: E402

WASHED_OUT = (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7)
DEFAULT_REPORT = Path(__file__).with_name("pale_backs_report.json")
#: The warning a row carries when a side was seen on the page but not read.
SIDE_UNREAD = "side_unread"


def write_pages(folder: Path, washed_out: float, seeds: int) -> dict[str, dict[str, str]]:
    """``seeds`` copies with the back ``washed_out`` paler; file name -> truth."""
    samples = make_samples()
    truths: dict[str, dict[str, str]] = {}
    for seed in range(seeds):
        rng = random.Random(1000 + seed)
        person = samples.make_person(rng)
        cards = (samples.PageCard("front", person),
                 samples.PageCard("back", person, washed_out=washed_out))  # fmt: skip
        page = samples.CardPage(f"pale-{washed_out:.2f}-{seed}", cards, scan_edge=True)
        image = samples.draw_card_page(page, rng, dpi=150)
        name = f"{page.name}.jpg"
        (folder / name).write_bytes(page_image(encode_page(image, "jpeg75")))
        truths[name] = {**samples.side_truth(person, "front"),
                        **samples.side_truth(person, "back")}  # fmt: skip
    return truths


def run_cli(scans: Path, out: Path, *args: str, env: dict[str, str] | None = None) -> None:
    done = subprocess.run([sys.executable, "-m", "batch_ocr", str(scans), "-o", str(out),
                           "--force", "--as-of", "2026-01-01", *args],
                          env=env, capture_output=True, text=True, timeout=1800)  # fmt: skip
    if done.returncode not in (0, 1):
        raise RuntimeError(f"batch-ocr exited {done.returncode}: {done.stderr[-2000:]}")


def score(out: Path, truths: dict[str, dict[str, str]]) -> dict[str, Any]:
    """Sides lost, lost and flagged, back fields exact, over the rows in ``out``."""
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in truths}
    for line in out.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        rows[row["file"]].append(row)
    lost = flagged = back_exact = 0
    lost_files = []
    for name, truth in truths.items():
        sides = {s for r in rows[name] if r["status"] == "ok" for s in
                 (("front", "back") if r["side"] == "both" else (r["side"],))}  # fmt: skip
        missing = 2 - len(sides & {"front", "back"})
        lost += missing
        if missing:
            lost_files.append(name)
            flagged += missing * any(SIDE_UNREAD in r["warnings"] or r["status"] != "ok"
                                     for r in rows[name])  # fmt: skip
        back = next((r for r in rows[name] if r["side"] in ("both", "back")), None)
        timelimit = truth["timelimit"]
        if back is not None and back["authority"] == truth["authority"]:
            read = f"{back['valid_from']}-{back['valid_to']}".replace("-", "")
            back_exact += read == timelimit.replace("-", "").replace(".", "")
    return {"pages": len(truths), "sides": 2 * len(truths), "lost": lost,
            "lost_flagged": flagged, "back_exact": back_exact, "lost_files": lost_files}


@contextlib.contextmanager
def api_env() -> Iterator[dict[str, str]]:
    with emulator_process("--engine", "local", "--workers", "1") as url:
        yield {**demo_env(BATCH_OCR_ENDPOINT=url), "_URL": url}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--washed-out", type=float, nargs="+", default=list(WASHED_OUT))
    parser.add_argument("--seeds", type=int, default=3, help="pages per washed-out value")
    parser.add_argument("--engine", choices=("local", "api", "both"), default="both")
    parser.add_argument("--report", type=Path, default=DEFAULT_REPORT)
    args = parser.parse_args(argv)
    engines = ("local", "api") if args.engine == "both" else (args.engine,)
    report: dict[str, Any] = {"seeds": args.seeds, "results": {}}
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        env = stack.enter_context(api_env()) if "api" in engines else {}
        for washed_out in args.washed_out:
            scans = Path(tmp) / f"w{washed_out:.2f}"
            scans.mkdir()
            truths = write_pages(scans, washed_out, args.seeds)
            for engine in engines:
                out = Path(tmp) / f"{engine}-{washed_out:.2f}.jsonl"
                if engine == "local":
                    run_cli(scans, out, "--engine", "local", "--workers", "1")
                    calls = None
                else:
                    before = stats_of(env["_URL"])["billable"]
                    run_cli(scans, out, "--engine", "api",
                            env={k: v for k, v in env.items() if k != "_URL"})  # fmt: skip
                    calls = stats_of(env["_URL"])["billable"] - before
                result = score(out, truths)
                result["calls"] = calls
                report["results"][f"{engine} {washed_out:.2f}"] = result
                print(f"{engine:5} washed_out {washed_out:.2f}: sides lost {result['lost']}"
                      f"/{result['sides']} (flagged {result['lost_flagged']}), back exact "
                      f"{result['back_exact']}/{result['pages']}"
                      + (f", calls {calls}" if calls is not None else ""), flush=True)
    args.report.write_text(json.dumps(report, indent=1), encoding="utf-8")
    print(f"report: {args.report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
