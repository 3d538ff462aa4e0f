"""How big and how slow is the review page of a large run, with page thumbnails?

    python tests/benchmarks/review_page.py [--rows 10000] [--mix photos,documents]

Draws, in a temporary folder, the files of a run of ``--rows`` rows and writes its
review page in a child process (``batch_ocr.report.write_report``, as ``--report`` does),
reading the child's CPU (``os.wait4``), its own peak resident memory and the page's size:

- ``photos``: one card photo per row, every file distinct (a card drawn by the sample
  generator, shifted, lit and grained differently per file, 1000 px wide JPEG);
- ``documents``: scanned PDFs of 25 A4 pages (150 dpi JPEG pages, as a scanner writes
  them), each page a copy of four card sides: four numbered rows per page;
- ``masked``: the photos again with ``masked=True`` (mosaic thumbnails).

Every thumbnail is distinct, so nothing is shared that a real run would not share.
Prints JSON; docs/review-page.md quotes it.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from PIL import Image, ImageEnhance  # noqa: E402

from tests.card_pages import make_samples, people  # noqa: E402

PAGES_PER_PDF = 25
CARDS_PER_PAGE = 4

# The child samples its own resident memory (VmRSS every 20 ms): os.wait4's peak also
# counts the processes it starts (the PDF renderers) and read 3.7 GB for the documents
# mix, where the report process sampled under 200 MB and one renderer alone 30 MB.
CHILD = """
import json, sys, threading, time
from pathlib import Path
from batch_ocr.report import image_finder, write_report

def resident_mb():
    with open("/proc/self/status") as status:
        return next(int(l.split()[1]) // 1024 for l in status if l.startswith("VmRSS"))

peak = [0]
done = threading.Event()
def sample():
    while not done.wait(0.02):
        peak[0] = max(peak[0], resident_mb())
threading.Thread(target=sample, daemon=True).start()
rows_path, folder, out, masked = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4]
rows = json.loads(Path(rows_path).read_text("utf-8"))
write_report(rows, out, image_for=image_finder([folder]), masked=masked == "1")
done.set()
print(max(peak[0], resident_mb()))
"""


def _bases(count: int) -> list[Image.Image]:
    """Card sides drawn by the sample generator for made-up people, 1000 px wide."""
    samples = make_samples()
    cards = []
    for person in people(count, seed=3):
        cards.append(samples.draw_front(person, width=1000)[0].convert("RGB"))
        cards.append(samples.draw_back(person, width=1000).convert("RGB"))
    return cards


_GRAINS: list[Image.Image] = []


def _grain(size: tuple[int, int], rng: random.Random) -> Image.Image:
    """Sensor grain: a window at a random place of a few large noise fields (drawing a
    new field per file would take most of the benchmark's set-up time)."""
    if not _GRAINS:
        _GRAINS.extend(Image.effect_noise((1400, 1100), sigma).convert("RGB")
                       for sigma in (8, 14, 20))  # fmt: skip
    field = rng.choice(_GRAINS)
    left, top = rng.randint(0, field.width - size[0]), rng.randint(0, field.height - size[1])
    return field.crop((left, top, left + size[0], top + size[1]))


def _variant(base: Image.Image, rng: random.Random) -> Image.Image:
    """``base`` as another photo of it: a shift, another light, its own grain."""
    canvas = Image.new("RGB", (base.width + 60, base.height + 60),
                       tuple(rng.randint(60, 140) for _ in range(3)))  # type: ignore[arg-type]
    canvas.paste(base, (rng.randint(0, 60), rng.randint(0, 60)))
    canvas = ImageEnhance.Brightness(canvas).enhance(rng.uniform(0.85, 1.15))
    return Image.blend(canvas, _grain(canvas.size, rng), 0.06)


def _jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def _row(file: str, **fields: Any) -> dict[str, Any]:
    return {"file": file, "status": "ok", "side": "front", "name": "欧阳明月",
            "id_number": "360113199010091234", "address": "江西省南昌市红谷滩区丰和中大道1号",
            "checks": [], "warnings": [], "needs_review": False, "review_reasons": [],
            "page": None, "card": None, **fields}  # fmt: skip


def make_photos(folder: Path, rows: int) -> list[dict[str, Any]]:
    rng = random.Random(1)
    bases = _bases(10)
    out = []
    for index in range(rows):
        name = f"batch{index // 1000:02d}/scan_{index:05d}.jpg"
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(_jpeg(_variant(bases[index % len(bases)], rng)))
        out.append(_row(name))
    return out


def _copy_page(cards: list[Image.Image], rng: random.Random) -> Image.Image:
    """An A4 page at 150 dpi with four cards at their real size (85.6 mm = 506 px)."""
    page = Image.new("RGB", (1240, 1754), (236, 236, 232))
    for slot, card in enumerate(cards):
        small = card.resize((506, round(506 * card.height / card.width)))
        row, column = divmod(slot, 2)
        page.paste(small, (70 + column * 600 + rng.randint(-10, 10),
                           160 + row * 460 + rng.randint(-10, 10)))  # fmt: skip
    grain = Image.effect_noise(page.size, 12).convert("RGB")
    return Image.blend(page, grain, 0.05).convert("L").convert("RGB")


def make_documents(folder: Path, rows: int) -> list[dict[str, Any]]:
    rng = random.Random(2)
    bases = _bases(10)
    pages_needed = -(-rows // CARDS_PER_PAGE)
    out: list[dict[str, Any]] = []
    for pdf_index in range(-(-pages_needed // PAGES_PER_PDF)):
        name = f"day_{pdf_index:03d}.pdf"
        count = min(PAGES_PER_PDF, pages_needed - pdf_index * PAGES_PER_PDF)
        pages = [_copy_page([bases[rng.randrange(len(bases))] for _ in range(CARDS_PER_PAGE)],
                            rng) for _ in range(count)]  # fmt: skip
        pages[0].save(folder / name, "PDF", save_all=True, append_images=pages[1:],
                      resolution=150, quality=85)  # fmt: skip
        for number in range(1, count + 1):
            for card in range(1, CARDS_PER_PAGE + 1):
                if len(out) < rows:
                    out.append(_row(name, page=number, card=card))
    return out


def measure(rows: list[dict[str, Any]], folder: Path, out: Path, *, masked: bool
            ) -> dict[str, Any]:  # fmt: skip
    rows_path = folder.parent / "rows.json"
    rows_path.write_text(json.dumps(rows, ensure_ascii=False), "utf-8")
    started = time.monotonic()
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(rows_path), str(folder),
                              str(out), "1" if masked else "0"], cwd=REPO,
                             stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert child.stdout is not None
    printed = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.monotonic() - started
    assert os.waitstatus_to_exitcode(status) == 0
    size = out.stat().st_size
    return {"rows": len(rows), "page_mb": round(size / 1e6, 2),
            "bytes_per_row": round(size / len(rows)), "wall_s": round(wall, 1),
            "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
            "peak_rss_mb": int(printed.strip())}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--mix", default="photos,masked,documents")
    args = parser.parse_args()
    results: dict[str, Any] = {"load_before": round(os.getloadavg()[0], 2)}
    with tempfile.TemporaryDirectory(prefix="review-bench-") as temp:
        root = Path(temp)
        mixes = args.mix.split(",")
        if {"photos", "masked"} & set(mixes):
            photos = root / "photos" / "scans"
            started = time.monotonic()
            photo_rows = make_photos(photos, args.rows)
            results["photos_drawn_s"] = round(time.monotonic() - started, 1)
            for mix in ("photos", "masked"):
                if mix in mixes:
                    results[mix] = measure(photo_rows, photos, root / f"{mix}.html",
                                           masked=mix == "masked")  # fmt: skip
        if "documents" in mixes:
            documents = root / "documents" / "scans"
            documents.mkdir(parents=True)
            document_rows = make_documents(documents, args.rows)
            results["documents"] = measure(document_rows, documents, root / "documents.html",
                                           masked=False)  # fmt: skip
            results["documents"]["pages"] = -(-args.rows // CARDS_PER_PAGE)
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
