"""Saving each front's portrait before its link dies.

The provider's ``image_url`` is valid for one hour (``API_CONTRACT.md``, "Response"),
so a portrait is fetched (by the engine that gave the link, ``Engine.fetch_portrait``)
right after its card's call, not at the end of the run, and must be an image.
A portrait that cannot be saved never fails its row: the row gets ``portrait_error``.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path, PurePosixPath

from batch_ocr.engines.base import Engine, PortraitUnavailable
from batch_ocr.private_files import replace_private
from batch_ocr.run.present.rows import BOTH, Row
from batch_ocr.vision.imaging import sniff_format

EXTENSION_BY_FORMAT = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "BMP": "bmp", "TIFF": "tif",
                       "WEBP": "webp", "HEIF": "heic"}


class PortraitError(Exception):
    """The portrait could not be saved; the message goes to ``portrait_error``."""


def portrait_path(portraits_dir: Path, file: str, image_bytes: bytes,
                  page: int | None = None, card: int | None = None) -> Path:
    """``DIR/<file path>[-page<N>][-card<N>].<real extension>``, kept inside ``DIR``
    (docs/cards.md), one-to-one: ``a.jpg`` and ``a.png`` get ``a.jpg.jpg`` and
    ``a.png.jpg``, and page 1 of ``x.pdf`` (``x.pdf-page1.jpg``) stays apart from a file
    ``x-page1.png`` (``x-page1.png.jpg``). The file's own extension is kept because every
    file read ends in one (``discovery.is_image_name``) while ``-page<N>`` and
    ``-card<N>`` never do, so a suffix cannot be mistaken for part of a name. ``file`` is
    the row's, escaped one-to-one (``sanitize.file_label``): a byte and its ``\\xNN``
    spelled out get two portraits."""
    fmt = sniff_format(image_bytes[:16])
    if fmt is None:
        raise PortraitError("the portrait is not an image")
    relative = PurePosixPath(file)
    name = relative.name
    if page is not None:  # pages of one document: one portrait each
        name += f"-page{page}"
    if card is not None:  # several cards on one image: one portrait each
        name += f"-card{card}"
    relative = relative.with_name(f"{name}.{EXTENSION_BY_FORMAT[fmt]}")
    # ``file`` comes from our own walk, but never let ``..`` or an absolute path escape.
    parts = [part for part in relative.parts if part not in ("", ".", "..", "/")]
    return portraits_dir.joinpath(*parts)


def save(portraits_dir: Path, file: str, image_bytes: bytes, *, page: int | None = None,
         card: int | None = None) -> str:
    """Check and save one portrait; returns the path written."""
    path = portrait_path(portraits_dir, file, image_bytes, page, card)
    replace_private(path, image_bytes)
    return str(path)


def _has_portrait(row: Row) -> bool:
    """Whether the row's card shows a face: a front, or both sides read on one page."""
    return row.side in ("front", BOTH)


async def save_for_row(
    row: Row, portraits_dir: Path, portrait_bytes: bytes | None, engine: Engine
) -> Row:
    """``row`` with its portrait saved now (``--portraits``), or the reason it was not.

    The bytes come from the engine's result when it cropped the portrait itself, else
    from ``engine.fetch_portrait`` behind the row's link: the API's link dies within
    the hour (``API_CONTRACT.md``, "Response").
    """
    if not _has_portrait(row):
        return row
    if portrait_bytes is None and not row.portrait_url:
        return replace(row, portrait_error="no portrait was found on this card")
    try:
        if portrait_bytes is None:
            portrait_bytes = await engine.fetch_portrait(row.portrait_url)
        saved = await asyncio.to_thread(save, portraits_dir, row.file, portrait_bytes,
                                        page=row.page, card=row.card)
    except (PortraitError, PortraitUnavailable) as exc:
        return replace(row, portrait_error=str(exc))
    except OSError as exc:
        return replace(row, portrait_error=f"cannot write the portrait: {exc.strerror}")
    return replace(row, portrait_file=saved)


async def copy_for_row(original: Row, copy: Row, portraits_dir: Path) -> Row:
    """``copy`` (same content as ``original``) with its own copy of the portrait."""
    if original.portrait_file:
        try:
            image_bytes = await asyncio.to_thread(Path(original.portrait_file).read_bytes)
            saved = await asyncio.to_thread(save, portraits_dir, copy.file, image_bytes,
                                            page=copy.page, card=copy.card)
        except (OSError, PortraitError) as exc:
            return replace(copy, portrait_error=f"cannot copy the portrait: {exc}")
        return replace(copy, portrait_file=saved)
    if _has_portrait(copy):
        reason = original.portrait_error or "no portrait for this content"
        return replace(copy, portrait_error=reason)
    return copy
