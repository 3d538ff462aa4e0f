"""Bounded memory for any accepted input (docs/survives.md, "Memory"): a small file
that decodes to a huge picture never takes the run's memory with it.

Measured as a user meets it: ``batch-ocr`` as a process of its own, its peak resident
memory read by the process itself as it ends (``VmHWM``: ``ru_maxrss`` would carry the
peak of the test process it was started from across ``exec``), and the largest peak of
the processes it started and waited for (its offline workers: ``RUSAGE_CHILDREN``, which
counts at least the run's own memory when each was started, so it never reads low).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from tests.e2e_support import demo_env, emulator_process
from tests.skips import needs_local

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")]

BOUND_MB = 500
SIDE_PX = 8900  # under the 80 M pixel cap
#: Runs ``batch-ocr`` in this process and prints its peak memory (kB).
_MEASURED = """
import resource
import sys
from batch_ocr.cli import main
code = main(sys.argv[1:])
with open("/proc/self/status") as status:
    peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
print("PEAK", peak, file=sys.stderr)
print("CHILDREN", resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)
sys.exit(code)
"""
#: A worker process of the offline engine (docs/offline-engine.md).
WORKER_BOUND_MB = 400


def page(mode: str) -> Image.Image:
    """An 8,900 px square, flat but for a card's outline and a line of print."""
    image = Image.new(mode, (SIDE_PX, SIDE_PX), 230 if mode == "L" else (236, 228, 210))
    ink = 40 if mode == "L" else (40, 40, 40)
    draw = ImageDraw.Draw(image)
    draw.rectangle((1000, 1000, 4000, 2900), outline=ink, width=20)
    draw.rectangle((1300, 1300, 2500, 1400), fill=ink)
    return image


@pytest.fixture(scope="module")
def pictures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("huge")
    made = {}
    for mode in ("RGB", "L"):
        image = page(mode)
        png = folder / f"{mode}" / "flat.png"
        png.parent.mkdir()
        image.save(png, compress_level=9)
        tiff = folder / f"{mode}-tiff" / "three.tiff"
        tiff.parent.mkdir()
        image.save(tiff, save_all=True, append_images=[image, image],
                   compression="tiff_adobe_deflate")
        made[f"{mode} PNG"], made[f"{mode} 3-frame TIFF"] = png.parent, tiff.parent
    jpeg = folder / "jpeg" / "photo.jpg"
    jpeg.parent.mkdir()
    page("RGB").save(jpeg, quality=85)
    made["RGB JPEG"] = jpeg.parent
    assert (made["RGB PNG"] / "flat.png").stat().st_size < 300_000  # a 250 KB file
    return made


def peaks_mb(folder: Path, out: Path, *args: str, env: dict[str, str]) -> tuple[float, float]:
    """``batch-ocr FOLDER -o OUT --concurrency 1 ARGS``: its peak resident memory and the
    largest of its child processes' (MB)."""
    done = subprocess.run([sys.executable, "-c", _MEASURED, str(folder), "-o", str(out),
                           "--concurrency", "1", "--quiet", *args],
                          capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode in (0, 1), done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    own = next(x for x in lines if x.startswith("PEAK "))
    children = next(x for x in lines if x.startswith("CHILDREN "))
    return int(own.split()[1]) / 1024, int(children.split()[1]) / 1024


KINDS = ["RGB PNG", "RGB 3-frame TIFF", "L PNG", "L 3-frame TIFF", "RGB JPEG"]


@pytest.fixture(scope="module")
def emulator_url() -> Iterator[str]:
    """One emulator for the module's runs: what is measured is the run's process, not
    the emulator's, and no test counts its calls."""
    with emulator_process() as url:
        yield url


@pytest.mark.parametrize("kind", KINDS)
def test_through_the_api_a_huge_picture_stays_under_the_bound(
        pictures: dict[str, Path], tmp_path: Path, kind: str, emulator_url: str) -> None:
    own, _ = peaks_mb(pictures[kind], tmp_path / "out.jsonl", "--endpoint", emulator_url,
                      env=demo_env())
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert len(rows) == (3 if "TIFF" in kind else 1)
    # Read (227 MB of colour pixels a band of rows at a time), never refused for its size.
    assert all(row["error_code"] != "image_too_large" for row in rows), rows
    assert own <= BOUND_MB, f"{kind}: {own:.0f} MB"


@needs_local
@pytest.mark.parametrize("kind", KINDS)
def test_offline_the_run_itself_stays_under_the_bound(
        pictures: dict[str, Path], tmp_path: Path, kind: str) -> None:
    own, worker = peaks_mb(pictures[kind], tmp_path / "out.jsonl", "--engine", "local",
                           "--workers", "1", env=demo_env())
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert all(row["error_code"] != "image_too_large" for row in rows), rows
    # The run's own process decodes and cuts down; its worker is handed at most 4,000 px
    # and its text detector sees a page in strips (docs/survives.md, "Memory").
    assert own <= BOUND_MB, f"{kind}: {own:.0f} MB"
    assert worker <= WORKER_BOUND_MB, f"{kind}: worker {worker:.0f} MB"
