"""Small JPEG thumbnails as ``data:`` URIs, so the page needs no file beside it.

A scan is megabytes; a thumbnail of at most 160 px at JPEG quality 60 is a few KB, so a
page of 10,000 entries stays a size a browser opens. An image that cannot be read gives
a ``Thumbnail`` with the reason instead of raising: the report is written anyway.
"""

from __future__ import annotations

import base64
import io
import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from batch_ocr.vision.picture import Picture

#: Longest side of a card thumbnail, in pixels.
THUMB_MAX_PX = 160
#: Longest side of a portrait thumbnail, in pixels.
PORTRAIT_MAX_PX = 96
#: JPEG quality of thumbnails: faces and text stay recognisable, bytes stay few.
JPEG_QUALITY = 60
DATA_URI_PREFIX = "data:image/jpeg;base64,"
#: Side of the flat squares a masked page thumbnail is made of: on a 160 px thumbnail
#: of a card a line of text is one row of squares, a face three or four.
MOSAIC_BLOCK_PX = 8


@dataclass(frozen=True, slots=True)
class Thumbnail:
    """A thumbnail, or why there is none."""

    data_uri: str = ""
    problem: str = ""


def jpeg_data_uri(image: Image.Image, *, quality: int = JPEG_QUALITY) -> str:
    """``image`` as a JPEG ``data:`` URI."""
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality, optimize=True)
    return DATA_URI_PREFIX + base64.b64encode(buffer.getvalue()).decode("ascii")


def mosaic(image: Image.Image, *, block_px: int = MOSAIC_BLOCK_PX) -> Image.Image:
    """``image`` as squares of ``block_px``, each one flat colour (its average).

    What a masked review page shows of a page (docs/cards.md, "Masking"): where the cards lie
    stays visible; no character, digit or face survives. Squares start at the top left
    corner, on JPEG's own 8 px grid, so the encoder adds no detail back.
    """
    width, height = image.size
    small = image.resize(
        (max(1, -(-width // block_px)), max(1, -(-height // block_px))), Image.Resampling.BOX
    )
    return small.resize(
        (small.width * block_px, small.height * block_px), Image.Resampling.NEAREST
    ).crop((0, 0, width, height))


def thumbnail_data_uri(
    image_path: Path, *, max_px: int = THUMB_MAX_PX, quality: int = JPEG_QUALITY
) -> str:
    """A JPEG thumbnail of ``image_path`` (longest side <= ``max_px``) as a data: URI.

    Raises:
        OSError: the file cannot be read or is not an image Pillow knows.
        Image.DecompressionBombError: the image claims an absurd size.
    """
    # The picture's thumbnail view: JPEG decoded at the smallest DCT scale the size
    # allows (2-3x faster per thumbnail, which counts on 10,000 files), upright per
    # EXIF, transparency on white paper as the engines saw it.
    rgb = Picture(image_path.read_bytes()).thumbnail(max_px)
    return jpeg_data_uri(rgb, quality=quality)


def problem_of(exc: Exception) -> str:
    """What a thumbnail that could not be made says instead."""
    if isinstance(exc, FileNotFoundError):
        return "image not found"
    if isinstance(exc, UnidentifiedImageError):
        return "not an image"
    if isinstance(exc, Image.DecompressionBombError):
        return "image too large to preview"
    # Truncated or damaged files: Pillow raises OSError/ValueError with a message.
    return f"cannot read image ({exc})"


def make_thumbnail(image_path: Path | None, *, max_px: int = THUMB_MAX_PX) -> Thumbnail:
    """``thumbnail_data_uri`` that never raises: failures become ``Thumbnail.problem``."""
    if image_path is None:
        return Thumbnail(problem="image not found")
    try:
        return Thumbnail(data_uri=thumbnail_data_uri(image_path, max_px=max_px))
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        return Thumbnail(problem=problem_of(exc))


def make_thumbnails(
    image_paths: Iterable[Path | None], *, max_px: int = THUMB_MAX_PX
) -> list[Thumbnail]:
    """``make_thumbnail`` over many images, in order, on a few threads.

    Pillow releases the GIL while decoding and resizing, so threads give a real speed-up
    on big runs; the same path is only decoded once.
    """
    paths = list(image_paths)
    unique = list(dict.fromkeys(path for path in paths if path is not None))
    workers = max(1, min(4, os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        made = dict(
            zip(unique, pool.map(lambda p: make_thumbnail(p, max_px=max_px), unique), strict=True)
        )
    return [made[path] if path is not None else make_thumbnail(None) for path in paths]
