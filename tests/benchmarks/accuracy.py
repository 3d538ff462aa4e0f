"""Field-level accuracy and speed of the offline engine (issue 8).

    python tests/benchmarks/accuracy.py [--set synthetic|specimens|all] [--count 40]
                                        [--seed 8] [--workers 2] [--report PATH]

Two sets:

- ``synthetic``: cards drawn by ``samples/make_samples.py`` (imported by file path) for
  random fictional people, then degraded the way phone photos and scans are: placed
  on a textured background, rotated (a little, or by quarter turns), seen in
  perspective, blurred, noised, shrunk, JPEG-compressed. Fronts and backs alternate.
- ``specimens``: published specimen cards of fictional people in
  ``../shared/specimens`` with their true fields in sidecar JSON (a dev set, never
  copied into the project).

Prints a markdown table per set (exact-match rate per field and overall) and the
seconds per image, and writes a JSON report. With ``--workers N`` the images also go
through ``LocalEngine`` with N processes, and the throughput is reported as seconds per
image per core. Targets: >= 95 % of fields exact on each set, <= 1 s per image per core.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import io
import json
import math
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parents[2]
SPECIMENS = REPO.parent / "shared" / "specimens"
MAKE_SAMPLES = REPO / "samples" / "make_samples.py"
DEFAULT_REPORT = Path(__file__).with_name("accuracy_report.json")
FRONT_FIELDS = ("name", "sex", "nation", "birth", "address", "number")
BACK_FIELDS = ("authority", "timelimit")
TARGET_EXACT = 0.95
TARGET_S_PER_IMAGE_PER_CORE = 1.0

sys.path.insert(0, str(REPO))


@dataclass
class Case:
    """One image and what it truly says."""

    name: str
    image_bytes: bytes
    side: str
    truth: dict[str, str]
    degradations: list[str] = field(default_factory=list)


def load_make_samples() -> ModuleType:
    """``samples/make_samples.py`` as a module, without making ``samples`` a package."""
    spec = importlib.util.spec_from_file_location("make_samples", MAKE_SAMPLES)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(MAKE_SAMPLES)
    module = importlib.util.module_from_spec(spec)
    # dataclasses look the module up in sys.modules while the class body runs.
    sys.modules["make_samples"] = module
    spec.loader.exec_module(module)
    return module


# --------------------------------------------------------------------------- degradations


def _texture(rng: random.Random, width: int, height: int) -> Any:
    """A background: wood grain, a checked cloth, a noisy desk or a dark gradient."""
    import numpy as np

    kind = rng.choice(("wood", "cloth", "desk", "dark"))
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    noise_rng = np.random.default_rng(rng.randrange(2**32))
    if kind == "wood":
        base = np.array([rng.randint(60, 140), rng.randint(90, 160), rng.randint(130, 200)])
        grain = np.sin(xx / rng.uniform(6, 18) + 3 * np.sin(yy / rng.uniform(40, 90)))
        img = base[None, None, :] * (0.8 + 0.2 * grain[..., None])
    elif kind == "cloth":
        cell = rng.randint(12, 40)
        check = ((xx // cell + yy // cell) % 2)[..., None]
        a = np.array([rng.randint(0, 255) for _ in range(3)])
        b = np.array([rng.randint(0, 255) for _ in range(3)])
        img = a * check + b * (1 - check)
    elif kind == "desk":
        level = rng.randint(150, 235)
        img = np.full((height, width, 3), level, np.float32)
        img += noise_rng.normal(0, 18, (height, width, 1))
    else:
        img = (20 + 60 * (xx / width))[..., None] * np.array([1.0, 0.9, 0.8])
    img = img + noise_rng.normal(0, 6, (height, width, 3))
    return np.clip(img, 0, 255).astype(np.uint8)


def degrade(card: Any, rng: random.Random) -> tuple[bytes, list[str]]:
    """A photo of ``card`` (PIL image) with random degradations; JPEG bytes and their names."""
    import cv2
    import numpy as np
    from PIL import Image, ImageFilter

    applied: list[str] = []
    bgr = np.asarray(card.convert("RGB"))[:, :, ::-1].copy()
    h, w = bgr.shape[:2]

    # Low resolution: the card drawn small (like a far-away photo), read back as is.
    if rng.random() < 0.3:
        factor = rng.uniform(0.5, 0.7)
        bgr = cv2.resize(bgr, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
        h, w = bgr.shape[:2]
        applied.append(f"lowres{factor:.2f}")

    on_background = rng.random() < 0.8
    if on_background:
        canvas_w = int(w * rng.uniform(1.25, 1.8))
        canvas_h = int(h * rng.uniform(1.4, 2.2))
        background = _texture(rng, canvas_w, canvas_h)
        corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
        angle = math.radians(rng.uniform(-12, 12))
        persp = rng.uniform(0, 0.08)
        cx, cy = canvas_w / 2 + rng.uniform(-0.08, 0.08) * w, canvas_h / 2
        scale = min(canvas_w / (w * 1.15), canvas_h / (h * 1.3))
        target = []
        for x, y in corners - [w / 2, h / 2]:
            x, y = x * scale, y * scale
            xr = x * math.cos(angle) - y * math.sin(angle)
            yr = x * math.sin(angle) + y * math.cos(angle)
            target.append(
                [cx + xr + rng.uniform(-persp, persp) * w, cy + yr + rng.uniform(-persp, persp) * h]
            )
        matrix = cv2.getPerspectiveTransform(corners, np.array(target, np.float32))
        warped = cv2.warpPerspective(bgr, matrix, (canvas_w, canvas_h))
        mask = cv2.warpPerspective(np.full((h, w), 255, np.uint8), matrix, (canvas_w, canvas_h))
        # The sample cards have white rounded corners: cut them away so the desk shows.
        radius = int(0.035 * w * scale)
        rounded = np.zeros((h, w), np.uint8)
        cv2.rectangle(rounded, (radius, 0), (w - radius, h), 255, -1)
        cv2.rectangle(rounded, (0, radius), (w, h - radius), 255, -1)
        for px, py in ((radius, radius), (w - radius, radius), (radius, h - radius),
                       (w - radius, h - radius)):  # fmt: skip
            cv2.circle(rounded, (px, py), radius, 255, -1)
        mask = np.minimum(cv2.warpPerspective(rounded, matrix, (canvas_w, canvas_h)), mask)
        bgr = np.where(mask[..., None] > 127, warped, background)
        applied.append(f"background,rot{math.degrees(angle):+.0f},persp{persp:.2f}")

    turns = rng.choice((0, 0, 0, 1, 2, 3))
    if turns:
        bgr = np.ascontiguousarray(np.rot90(bgr, -turns))
        applied.append(f"turn{90 * turns}")

    image = Image.fromarray(bgr[:, :, ::-1])
    if rng.random() < 0.5:
        blur_px = rng.uniform(0.6, 1.4)
        image = image.filter(ImageFilter.GaussianBlur(blur_px))
        applied.append(f"blur{blur_px:.1f}")
    if rng.random() < 0.5:
        sigma = rng.uniform(4, 12)
        arr = np.asarray(image).astype(np.float32)
        arr += np.random.default_rng(rng.randrange(2**32)).normal(0, sigma, arr.shape)
        image = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
        applied.append(f"noise{sigma:.0f}")
    quality = rng.choice((35, 50, 70, 90))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    applied.append(f"jpeg{quality}")
    return buffer.getvalue(), applied


def synthetic_cases(count: int, seed: int) -> list[Case]:
    """``count`` degraded synthetic cards, fronts and backs alternating."""
    samples = load_make_samples()
    rng = random.Random(seed)
    cases = []
    for i in range(count):
        person = samples.make_person(rng)
        width = rng.choice((640, 760, 856, 1000))
        if i % 2 == 0:
            image, _ = samples.draw_front(person, width=width)
            side = "front"
            truth = {
                "name": person.name,
                "sex": person.sex,
                "nation": person.nation,
                "birth": person.birth.isoformat(),
                "address": person.address,
                "number": person.number,
            }
        else:
            image = samples.draw_back(person, width=width)
            side = "back"
            truth = {"authority": person.authority, "timelimit": samples.timelimit_api(person)}
        image_bytes, applied = degrade(image, rng)
        cases.append(Case(f"synthetic-{i:03d}-{side}", image_bytes, side, truth, applied))
    return cases


def _compact_period(printed: str) -> str:
    start, _, end = printed.partition("-")
    return f"{start.replace('.', '')}-{end.replace('.', '')}"


def specimen_cases() -> list[Case]:
    """The specimens with their sidecar truth, normalised to the harness's field forms."""
    cases = []
    for sidecar in sorted(SPECIMENS.glob("*.json")):
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
        truth = dict(meta["truth"])
        if "timelimit" in truth:
            truth["timelimit"] = _compact_period(truth["timelimit"])
        image_bytes = (SPECIMENS / meta["file"]).read_bytes()
        cases.append(Case(meta["file"], image_bytes, meta["side"], truth))
    return cases


# --------------------------------------------------------------------------- scoring


def observed(data: Any) -> dict[str, str]:
    """The engine's answer in the harness's field forms (birth as YYYY-MM-DD)."""
    info = data.info
    out = {
        "name": info.name or "",
        "sex": info.sex or "",
        "nation": info.nation or "",
        "address": info.address or "",
        "number": info.number or "",
        "authority": info.authority or "",
        "timelimit": info.timelimit or "",
        "birth": "",
    }
    if info.year and info.month and info.day and info.month.isdigit() and info.day.isdigit():
        out["birth"] = f"{info.year}-{int(info.month):02d}-{int(info.day):02d}"
    return out


def score(cases: list[Case], results: list[Any]) -> dict[str, Any]:
    """Exact-match counts per field, overall, side accuracy and the failures."""
    per_field: dict[str, list[int]] = {}
    failures = []
    side_ok = 0
    for case, result in zip(cases, results, strict=True):
        got = observed(result.data)
        side_ok += result.data.side == case.side and any(result.data.validity.values())
        for name, want in case.truth.items():
            hits = per_field.setdefault(name, [0, 0])
            hits[1] += 1
            if got[name] == want:
                hits[0] += 1
            else:
                failures.append(
                    {"case": case.name, "field": name, "want": want, "got": got[name],
                     "side": result.data.side, "degradations": case.degradations}
                )  # fmt: skip
    total_ok = sum(ok for ok, _ in per_field.values())
    total = sum(n for _, n in per_field.values())
    return {
        "fields": {
            k: {"exact": ok, "total": n, "rate": ok / n} for k, (ok, n) in per_field.items()
        },
        "overall": {"exact": total_ok, "total": total, "rate": total_ok / total if total else 0},
        "side": {"exact": side_ok, "total": len(cases)},
        "failures": failures,
    }


def markdown(title: str, report: dict[str, Any]) -> str:
    """The per-field table of one set."""
    lines = [f"### {title}", "", "| field | exact | total | rate |", "|---|---:|---:|---:|"]
    order = [f for f in (*FRONT_FIELDS, *BACK_FIELDS) if f in report["fields"]]
    for name in order:
        row = report["fields"][name]
        lines.append(f"| {name} | {row['exact']} | {row['total']} | {row['rate']:.1%} |")
    overall = report["overall"]
    lines.append(
        f"| **overall** | **{overall['exact']}** | **{overall['total']}** | **{overall['rate']:.1%}** |"
    )
    side = report["side"]
    lines.append("")
    lines.append(f"side right (and card recognised): {side['exact']}/{side['total']}")
    timing = report["timing"]
    lines.append(
        f"seconds per image, in process on one core: CPU {timing['cpu_s_per_image']:.2f}, "
        f"wall {timing['wall_s_per_image']:.2f} (max wall {timing['max_wall_s']:.2f})"
    )
    if "pool" in report:
        pool = report["pool"]
        lines.append(
            f"LocalEngine with {pool['workers']} workers: {pool['wall_s']:.1f} s wall for "
            f"{pool['images']} images = {pool['s_per_image_per_core']:.2f} s per image per core"
        )
    return "\n".join(lines)


def run_in_process(cases: list[Case]) -> tuple[list[Any], dict[str, float]]:
    """Recognise each case in this process, timing CPU and wall clock per image."""
    from batch_ocr.engines.local import _ocr, recognise

    _ocr.models()  # load time is not per-image time
    results, cpu, wall = [], [], []
    for case in cases:
        c0, w0 = time.process_time(), time.perf_counter()
        results.append(recognise(case.image_bytes))
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    n = max(1, len(cases))
    return results, {
        "cpu_s_per_image": sum(cpu) / n,
        "wall_s_per_image": sum(wall) / n,
        "max_wall_s": max(wall, default=0.0),
    }


async def _run_pool(cases: list[Case], workers: int) -> dict[str, float]:
    from batch_ocr.engines.local import LocalEngine

    engine = LocalEngine(workers=workers)
    try:
        # Warm the workers up (model load is per process, not per image).
        await asyncio.gather(*(engine.recognise(cases[0].image_bytes) for _ in range(workers)))
        start = time.perf_counter()
        await asyncio.gather(*(engine.recognise(c.image_bytes) for c in cases))
        wall = time.perf_counter() - start
    finally:
        await engine.aclose()
    return {
        "workers": workers,
        "images": len(cases),
        "wall_s": wall,
        "s_per_image_per_core": wall * workers / max(1, len(cases)),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the harness; exit 0 when every target is met, 1 otherwise."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", choices=("synthetic", "specimens", "all"), default="all")
    parser.add_argument("--count", type=int, default=40, help="synthetic cards (default 40)")
    parser.add_argument("--seed", type=int, default=8, help="seed of the synthetic set")
    parser.add_argument("--workers", type=int, default=2,
                        help="also time LocalEngine with this many processes (0: skip)")  # fmt: skip
    parser.add_argument("--report", type=Path, default=DEFAULT_REPORT, help="JSON report path")
    parser.add_argument("--failures", action="store_true", help="print every wrong field")
    args = parser.parse_args(argv)

    from batch_ocr.engines.local import available

    if not available():
        print("the local engine is not installed: pip install 'batch-ocr[local]'", file=sys.stderr)
        return 2
    sets: dict[str, list[Case]] = {}
    if args.set in ("synthetic", "all"):
        sets["synthetic"] = synthetic_cases(args.count, args.seed)
    if args.set in ("specimens", "all"):
        if SPECIMENS.is_dir():
            sets["specimens"] = specimen_cases()
        else:
            print(f"no specimens at {SPECIMENS}: skipping that set", file=sys.stderr)

    full: dict[str, Any] = {"targets": {"exact_rate": TARGET_EXACT,
                                        "s_per_image_per_core": TARGET_S_PER_IMAGE_PER_CORE}}  # fmt: skip
    met = True
    for name, cases in sets.items():
        results, timing = run_in_process(cases)
        report = score(cases, results)
        report["timing"] = timing
        if args.workers > 0:
            report["pool"] = asyncio.run(_run_pool(cases, args.workers))
        full[name] = report
        print(markdown(f"{name} ({len(cases)} images)", report))
        if args.failures:
            for failure in report["failures"]:
                print(f"  - {failure}")
        print()
        met &= report["overall"]["rate"] >= TARGET_EXACT
        speed = (
            report["pool"]["s_per_image_per_core"]
            if "pool" in report
            else timing["cpu_s_per_image"]
        )
        met &= speed <= TARGET_S_PER_IMAGE_PER_CORE
    args.report.write_text(json.dumps(full, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"report: {args.report}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
