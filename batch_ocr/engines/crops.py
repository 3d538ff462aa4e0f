"""Cutting a page into its cards, for an engine that reads one card per call (the API).

The provider reads one card side per call. A page with several cards (a photocopy with
the front above the back, an ID card beside a bank card) is cut into one straightened
image per card, each sent as its own call (README, "Documents"). Finding the cards
needs OpenCV, which comes with the ``local`` extra; without it, pages are sent whole
as before, and the run says so once.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

    from batch_ocr.engines.local._layout import CardCrop

log = logging.getLogger("batch_ocr")

#: What a cut-out card is sent as.
CROP_MIME = "image/jpeg"

_warned = False


def available() -> bool:
    """Whether cards can be found on a page (the ``local`` extra's OpenCV and numpy)."""
    return all(_installed(name) for name in ("cv2", "numpy"))


def _installed(name: str) -> bool:
    """Whether module ``name`` can be imported, without importing it.

    A module already in ``sys.modules`` is; ``find_spec`` is not asked about it, since
    while another thread is still importing it (OpenCV is imported by the first page
    big enough for two cards, and pages are cut in worker threads) its ``__spec__`` is
    None and ``find_spec`` raises ValueError: a dry run got ``internal_error`` rows.
    """
    if sys.modules.get(name) is not None:
        return True
    try:
        return importlib.util.find_spec(name) is not None
    except ValueError:  # put in sys.modules by another thread since the check above
        return sys.modules.get(name) is not None


def _warn_once() -> None:
    global _warned
    if not _warned:
        _warned = True
        log.warning(
            "OpenCV is not installed (pip install 'batch-ocr[local]'): pages with several "
            "cards are sent whole, not split into one call per card"
        )


def prepare() -> None:
    """Say now, at the start of a run, when pages will not be split.

    OpenCV itself is imported by the first image big enough to hold two cards (a
    few tenths of a second, in a worker thread): a run of small single-card scans
    never pays for it (tests/benchmarks, throughput).
    """
    if not available():
        _warn_once()


#: ID-1 proportions (85.6 x 54 mm).
CARD_ASPECT = 1.585
#: The smallest readable card's long side (``_layout.MIN_CARD_LONG_SIDE_PX``), copied
#: here so this check needs no OpenCV.
MIN_CARD_LONG_SIDE_PX = 240


def may_hold_several(width: int, height: int) -> bool:
    """Whether an image is big enough for two readable cards at all.

    Smaller ones are sent whole without a search: the search costs milliseconds of CPU
    per image, which on small images was most of the client's CPU in the throughput
    benchmark (tests/benchmarks).
    """
    card_area = MIN_CARD_LONG_SIDE_PX * MIN_CARD_LONG_SIDE_PX / CARD_ASPECT
    return max(width, height) >= MIN_CARD_LONG_SIDE_PX and width * height >= 2 * card_area


def _no_card_on(preview: Image.Image | None) -> bool:
    """Whether the pre-flight check's small decode shows no patch a card could be in
    (random noise): then the search is not run (``_layout.has_smooth_patch``)."""
    if preview is None:
        return False
    import numpy as np

    from batch_ocr.engines.local import _layout

    return not _layout.has_smooth_patch(np.asarray(preview))


def card_crops(image_bytes: bytes, preview: Image.Image | None = None) -> list[CardCrop]:
    """One straightened JPEG per card when the image holds several; else empty.

    A card is found by its outline, or by its print where no outline shows (a back
    copied as pale as the paper: ``_layout.page_cards``); ``CardCrop.by_print`` says
    which.

    Empty also when OpenCV is missing (warned once), when ``preview`` (the pre-flight
    check's grey decode, ``PreparedImage.preview``) shows no patch a card could be in,
    or when the image cannot be decoded here (it was already checked; the API then
    judges it whole).
    """
    if not available():
        _warn_once()
        return []
    if _no_card_on(preview):
        return []
    from batch_ocr.engines.local import _layout, _vision

    try:
        return _layout.card_crops(image_bytes)
    except _vision.UnreadableImageError:
        return []


def calls_for(image_bytes: bytes, preview: Image.Image | None = None) -> int:
    """Calls the API engine makes for this image: one per card found, at least one."""
    if not available():
        _warn_once()
        return 1
    if _no_card_on(preview):
        return 1
    from batch_ocr.engines.local import _layout, _vision

    try:
        return max(1, _layout.count_cards(image_bytes))
    except _vision.UnreadableImageError:
        return 1


def card_outlines(image_bytes: bytes) -> list[list[tuple[float, float]]] | None:
    """Where the cards on an image lie, as the API engine and the offline engine find
    them (``_layout.card_outlines``: corners as shares of the image's width and height,
    in reading order); None without OpenCV, where cards are not looked for at all.

    Empty for an image the finder cannot decode. Says nothing when OpenCV is missing:
    the review page, not a run, asks.
    """
    if not available():
        return None
    from batch_ocr.engines.local import _layout, _vision

    try:
        return _layout.card_outlines(image_bytes)
    except _vision.UnreadableImageError:
        return []
