"""Generated benchmark images: many tiny JPEGs fast, and random-noise JPEGs near 900 KB.

Each file must have its own sha256, or batch-ocr would (rightly) send it once and reuse
the answer. Encoding 20,000 JPEGs would take longer than the run it feeds, so a few
Pillow-made templates are written with a short varying trailer after the EOI marker:
JPEG decoders stop at EOI, the API's checks accept it, and every file hashes apart.
"""

from __future__ import annotations

import io
import os
import random
from pathlib import Path

from PIL import Image

#: Trailer after EOI that makes each copy's bytes (and sha256) distinct.
_TRAILER = b"bench-%08d"


def _write(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def tiny_templates(count: int = 4, size: tuple[int, int] = (120, 80)) -> list[bytes]:
    """A few small JPEGs (about 2.5 KB each) with a few lines of ink on a flat colour.

    Just big and inked enough to be sent: a picture under 100 px, or one flat colour, is
    ``not_id_card`` with no call (docs/reference.md, "Statuses"), and a benchmark of
    calls would time none.
    """
    from PIL import ImageDraw

    rng = random.Random(5)
    templates = []
    for _ in range(count):
        colour = tuple(rng.randrange(64, 256) for _ in range(3))
        image = Image.new("RGB", size, colour)
        draw = ImageDraw.Draw(image)
        for row in range(4):
            top = 12 + row * 16
            draw.rectangle((10, top, 10 + rng.randrange(40, size[0] - 20), top + 5),
                           fill=(20, 20, 20))
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=80)
        templates.append(buffer.getvalue())
    return templates


def write_tiny(folder: Path, count: int, *, start: int = 0) -> list[Path]:
    """``count`` distinct 120x80 JPEGs in ``folder`` (created); returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    templates = tiny_templates()
    paths = []
    for number in range(start, start + count):
        path = folder / f"scan-{number:06d}.jpg"
        _write(path, templates[number % len(templates)] + _TRAILER % number)
        paths.append(path)
    return paths


def noise_jpeg(side_px: int, quality: int, seed: int) -> bytes:
    """A random-noise JPEG: incompressible, so its size tracks its pixel count."""
    pixels = random.Random(seed).randbytes(side_px * side_px * 3)
    buffer = io.BytesIO()
    Image.frombytes("RGB", (side_px, side_px), pixels).save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def noise_templates(
    count: int, *, target_bytes: int = 900_000, limit_bytes: int = 1_000_000
) -> list[bytes]:
    """``count`` noise JPEGs each near ``target_bytes`` and under ``limit_bytes``.

    The first is calibrated (size grows with the pixel count, so scale the side by the
    square root of the miss); the others use the side found, with their own noise.
    """
    quality = 90
    side_px = 1000
    data = noise_jpeg(side_px, quality, seed=0)
    for _ in range(6):
        if abs(len(data) - target_bytes) <= target_bytes * 0.02:
            break
        side_px = max(16, round(side_px * (target_bytes / len(data)) ** 0.5))
        data = noise_jpeg(side_px, quality, seed=0)
    templates = [data] + [noise_jpeg(side_px, quality, seed=n) for n in range(1, count)]
    # Leave room for the trailer; never let an image reach the 1 MB limit (it would be
    # re-encoded and measure something else).
    assert all(len(t) + 32 < limit_bytes for t in templates), [len(t) for t in templates]
    return templates


def write_large(folder: Path, count: int, *, templates: int = 4) -> list[Path]:
    """``count`` distinct noise JPEGs near 900 KB in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    made = noise_templates(min(templates, count))
    paths = []
    for number in range(count):
        path = folder / f"large-{number:04d}.jpg"
        _write(path, made[number % len(made)] + _TRAILER % number)
        paths.append(path)
    return paths
