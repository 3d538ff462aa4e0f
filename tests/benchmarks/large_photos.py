"""The offline engine on large phone photos: field-exact rate, CPU per card, worker memory.

    python tests/benchmarks/large_photos.py [--count N] [--seed N] [--workers 1]

Phone photos of one card as phones save them: a card drawn by ``samples/make_samples.py``
for a fictional person, photographed by ``accuracy.degrade`` (textured background,
rotation, perspective, blur, noise), then saved at 1,200 to 3,000 px on the long side as
a JPEG of quality 65 to 92 (docs/offline-engine.md, "Accuracy, speed and memory"). Scored
and timed as ``accuracy.py`` scores its sets (CPU per card in this process with one
thread, models loaded first); ``--workers N`` also runs them through the local engine's
worker pool for the workers' CPU per card and peak resident memory. Exits 1 when a
target is missed (``accuracy.TARGET_*``).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import random
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent
#: Long side of the photos and their JPEG quality, as phones save them.
LONG_SIDE_RANGE_PX = (1200, 3000)
QUALITY_RANGE = (65, 92)


def _accuracy() -> ModuleType:
    """The accuracy harness (``accuracy.py``), loaded as the tests load it."""
    sys.path.insert(1, str(HERE.parents[1]))
    from tests.card_pages import module_at

    return module_at("accuracy_harness", HERE / "accuracy.py")


def large_photo_cases(accuracy: ModuleType, count: int, seed: int) -> list[Any]:
    """``count`` large phone photos, fronts and backs alternating."""
    from PIL import Image

    samples = accuracy.load_make_samples()
    rng = random.Random(seed)
    cases = []
    for i in range(count):
        person = samples.make_person(rng)
        side = "front" if i % 2 == 0 else "back"
        card = accuracy._draw(samples, person, side, rng.choice((856, 1000, 1280)))
        photo, applied = accuracy.degrade(card, rng)
        with Image.open(io.BytesIO(photo)) as image:
            long_side = rng.randint(*LONG_SIDE_RANGE_PX)
            scale = long_side / max(image.size)
            size = (round(image.width * scale), round(image.height * scale))
            big = image.convert("RGB").resize(size, Image.Resampling.BICUBIC)
        quality = rng.randint(*QUALITY_RANGE)
        buffer = io.BytesIO()
        big.save(buffer, "JPEG", quality=quality)
        applied.append(f"{size[0]}x{size[1]},q{quality}")
        truth = accuracy._truth(samples, person, side)
        cases.append(accuracy.Case(f"large-{i:03d}-{side}", buffer.getvalue(), side, truth,
                                   applied))
    return cases


def main(argv: list[str] | None = None) -> int:
    """Run the set; exit 0 when the accuracy, CPU and memory targets are met."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=24, help="photos (default 24)")
    parser.add_argument("--seed", type=int, default=2612, help="seed of the photos")
    parser.add_argument("--workers", type=int, default=1,
                        help="also run them through a worker pool of this many processes "
                             "(0: skip)")  # fmt: skip
    parser.add_argument("--failures", action="store_true", help="print every wrong field")
    args = parser.parse_args(argv)
    accuracy = _accuracy()
    cases = large_photo_cases(accuracy, args.count, args.seed)
    results, timing = accuracy.run_in_process(cases)
    report = accuracy.score(cases, results)
    report["timing"] = timing
    met = report["overall"]["rate"] >= accuracy.TARGET_EXACT
    met &= timing["cpu_s_per_card"] <= accuracy.TARGET_CPU_S_PER_CARD
    print(accuracy.markdown(f"large phone photos ({len(cases)} cards)", report))
    if args.workers > 0:
        pool = asyncio.run(accuracy._run_pool(cases, args.workers))
        print(f"WorkerPool, {pool['workers']} worker(s): {pool['cpu_s_per_card']:.3f} s CPU "
              f"per card, peak RSS per worker {pool['worker_peak_rss_mb']} MB")  # fmt: skip
        met &= max(pool["worker_peak_rss_mb"], default=0) <= accuracy.TARGET_PEAK_RSS_MB
    if args.failures:
        for failure in report["failures"]:
            print(f"  - {failure}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
