"""Cutting a page into its cards, for an engine that reads one card per call (the API).

The provider reads one card side per call. A page with several cards (a photocopy with
the front above the back, an ID card beside a bank card) is cut into one straightened
image per card, each sent as its own call (docs/documents.md; how a card is cut:
``card_cut``). Finding the cards
needs OpenCV, which comes with the ``local`` extra; without it, pages are sent whole
as before, and the run says so once.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
from typing import TYPE_CHECKING

from batch_ocr.vision.geometry import CARD_ASPECT, MIN_CARD_AREA, MIN_CARD_LONG_SIDE_PX
from batch_ocr.vision.picture import Picture, UnreadableImageError

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

    from batch_ocr.vision.card_cut import CardCrop

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




def may_hold_several(width: int, height: int) -> bool:
    """Whether an image is big enough for two readable cards at all.

    Smaller ones are sent whole without a search: the search costs milliseconds of CPU
    per image, which on small images was most of the client's CPU in the throughput
    benchmark (tests/benchmarks).
    """
    card_area = MIN_CARD_LONG_SIDE_PX * MIN_CARD_LONG_SIDE_PX / CARD_ASPECT
    return max(width, height) >= MIN_CARD_LONG_SIDE_PX and width * height >= 2 * card_area


#: The noise check's patch: half the short side of the smallest card (ID-1 proportions),
#: so that it fits inside such a card at any angle; and never under this many pixels.
SMOOTH_PATCH_SHARE = 0.5 * (MIN_CARD_AREA / CARD_ASPECT) ** 0.5
SMOOTH_PATCH_MIN_PX = 8
#: Smooth: neighbouring pixels differ by less than this share of what two pixels of the
#: patch taken at random do (random noise: 1; paper with text at 1/8 scale: 0.1-0.5) ...
SMOOTH_MAX_NEIGHBOUR_RATIO = 0.5
#: ... or the patch is nearly flat (grey levels' standard deviation under this).
FLAT_MAX_STD = 3.0


def has_smooth_patch(grey: np.ndarray) -> bool:
    """Whether any patch of a card's middle could lie in ``grey`` (a small decode).

    Any part of a card, even its text and guilloche seen at 1/8 scale, changes little
    from one pixel to the next compared with how much it varies over the patch; so
    does a desk, a page or a photo. Random noise does not: each pixel is as unlike its
    neighbour as any other. A picture with no smooth patch holds no card, and the
    search (tens of milliseconds on such a picture: every pixel is an edge) need not
    run. Measured on 1/8-scale decodes (docs/performance.md): 98 real and generated
    pages, photos and cards have 68-100% smooth patches; uniform noise JPEGs none (their
    lowest ratio 0.69); Gaussian noise of deviation 40 has a few flat ones, so it is
    searched. numpy alone: a run that never needs OpenCV does not import it.
    """
    import numpy as np

    height, width = grey.shape[:2]
    side = max(SMOOTH_PATCH_MIN_PX, round(SMOOTH_PATCH_SHARE * (height * width) ** 0.5))
    if min(height, width) <= side + 1:
        return True  # too small to tell: let the search decide
    pixels = grey.astype(np.int64)  # integers throughout: exact sums, no rounding
    steps = (np.square(pixels[:-1, 1:] - pixels[:-1, :-1])
             + np.square(pixels[1:, :-1] - pixels[:-1, :-1]))  # fmt: skip
    pixels = pixels[:-1, :-1]
    count = side * side
    total = _patch_sums(pixels, side)
    # count**2 x each patch's variance, and count x the sum of its squared steps to the
    # right and down neighbours (4 x the variance's worth for noise, little if smooth).
    spread = count * _patch_sums(pixels * pixels, side) - total * total
    step_sums = count * _patch_sums(steps, side)
    smooth = ((step_sums < 4 * SMOOTH_MAX_NEIGHBOUR_RATIO * spread)
              | (spread < FLAT_MAX_STD**2 * count * count))  # fmt: skip
    return bool(smooth.any())


def _patch_sums(values: np.ndarray, side: int) -> np.ndarray:
    """The sum of every ``side`` x ``side`` patch wholly inside ``values`` (a summed-area
    table: four look-ups per patch)."""
    import numpy as np

    table = np.zeros((values.shape[0] + 1, values.shape[1] + 1), values.dtype)
    np.cumsum(values, axis=0, out=table[1:, 1:])
    np.cumsum(table[1:, 1:], axis=1, out=table[1:, 1:])
    sums: np.ndarray = (table[side:, side:] - table[:-side, side:]
                        - table[side:, :-side] + table[:-side, :-side])  # fmt: skip
    return sums


def _no_card_on(preview: Image.Image | None) -> bool:
    """Whether the pre-flight check's small decode shows no patch a card could be in
    (random noise): then the search is not run (``has_smooth_patch``)."""
    if preview is None:
        return False
    import numpy as np

    return not has_smooth_patch(np.asarray(preview))


def card_crops(picture: Picture, *, legacy_keys: bool = False,
               original: Picture | None = None) -> list[CardCrop]:
    """One straightened JPEG per card when the image holds several; else empty.

    Each card is cut at the resolution the image holds it (from ``original``, the
    file's own image, when ``picture`` is a fitted re-encoding of it), framed by the page
    around it (``card_cut``), and carries the key its answer is kept under (``CardCrop.key``);
    ``legacy_keys``: also the key earlier versions kept it under (``CardCrop.legacy_key``).

    A card is found by its outline, or by its print where no outline shows (a back
    copied as pale as the paper: ``layout.page_cards``); ``CardCrop.by_print`` says
    which. The decodes it makes stay with ``picture`` until it is released.

    Empty also when OpenCV is missing (warned once), when the picture's ``preview`` (the
    pre-flight check's grey decode) shows no patch a card could be in, or when the
    image cannot be decoded here (it was already checked; the API then judges it whole).
    """
    if not available():
        _warn_once()
        return []
    if _no_card_on(picture.preview):
        return []
    from batch_ocr.vision import card_search

    try:
        return card_search.card_crops(picture, legacy_keys=legacy_keys, original=original)
    except UnreadableImageError:
        return []


def calls_for(picture: Picture) -> int:
    """Calls the API engine makes for this image: one per card found, at least one."""
    if not available():
        _warn_once()
        return 1
    if _no_card_on(picture.preview):
        return 1
    from batch_ocr.vision import card_search

    try:
        return max(1, card_search.count_cards(picture))
    except UnreadableImageError:
        return 1


def card_outlines(picture: Picture) -> list[list[tuple[float, float]]] | None:
    """Where the cards on an image lie, as the API engine and the offline engine find
    them (``card_search.card_outlines``: corners as shares of the image's width and height,
    in reading order); None without OpenCV, where cards are not looked for at all.

    Empty for an image the finder cannot decode. Says nothing when OpenCV is missing:
    the review page, not a run, asks.
    """
    if not available():
        return None
    from batch_ocr.vision import card_search

    try:
        return card_search.card_outlines(picture)
    except UnreadableImageError:
        return []
