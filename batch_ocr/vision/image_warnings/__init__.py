"""Image warnings: what a KYC back office must know about a picture beyond its text.

Cloud ID-card APIs return these beside the fields (Tencent Cloud's IDCardOCR
``WarnInfos``, Baidu's ``risk_type``/``image_status``, Aliyun's isCopy/isReshoot); the
paid API batch-ocr drives returns none, so they are computed here, locally, from the
pixels, for every engine. Classic image statistics (OpenCV, numpy: the ``local``
extra), no model, some 25-30 ms of CPU per image (docs/warnings-and-review.md, has the
measured hit and false-positive rates). Tencent's code for the same thing in brackets:

- ``copy`` (-9102): the card has almost no colour: the 90th percentile of each pixel's
  a*b* distance from the card's typical colour (a red stamp on a grey copy, or a colour
  cast of the light, stays under it).
- ``reshoot`` (-9103, experimental): a photo of a screen: one sharp periodic peak (moiré)
  holds much of the colour channels' energy, in most patches of the card.
- ``blur`` (quality): edges are spread out: the share of edge contrast a further blur
  still removes (Crete et al. 2007), on the card warped to a fixed width.
- ``glare`` (-9107): a saturated white blob, much brighter than the card around it.
- ``border_incomplete`` (-9101): the card's outline meets the picture's edge; without an
  outline, the card's light shape runs off the picture, or fills a picture that is not
  a card's proportions.
- ``occluded`` (-9105): a large solid shape of another colour inside the card that is
  neither the portrait nor the emblem.

``detect`` is a pure function of decoded pixels and, when the caller found it, the
card's outline. ``spots`` says where on a card cut out edge to edge the reflections and
objects lie, for a reader that knows the card's layout: a glare spot over the portrait
takes nothing from the reading, one over the name may (docs/warnings-and-review.md).
``warnings_for`` takes the picture's ``for_warnings`` view (the one
decoder, ``vision.picture``), looks for the card and calls it; it returns no warning
without the ``local`` extra (docs/warnings-and-review.md).

One module per concern; this one decides and holds the entry points::

    _card.py      where the card is: its outline warped flat, its largest light shape
    _colour.py    copy and reshoot (colour spread, screen moiré)
    _quality.py   blur and glare
    _border.py    border_incomplete and occluded
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

from batch_ocr.vision.crops import available
from batch_ocr.vision.geometry import (
    CARD_ASPECT,
    WHOLE_CARD_ASPECT_TOLERANCE,
    looks_like_whole_card,
)
from batch_ocr.vision.image_warnings._border import (
    BORDER_MARGIN,
    CUT_CARD_MIN_ASPECT,
    OCCLUDER_MAX_EDGE_SHARE,
    OCCLUDER_MIN_COLOUR_DISTANCE,
    border_incomplete,
    occluder_area,
    occluder_spots,
)
from batch_ocr.vision.image_warnings._card import (
    CARD_HEIGHT_PX,
    CARD_WIDTH_PX,
    LIGHT_MIN_SHARE,
    LIGHT_SEARCH_LONG_SIDE_PX,
    LightBlob,
    _central,
    _inset,
    card_view,
    light_blob,
)
from batch_ocr.vision.image_warnings._colour import (
    MOIRE_CHANNELS,
    MOIRE_MIN_AMPLITUDE,
    chroma_p90,
    moire_peak,
)
from batch_ocr.vision.image_warnings._quality import blur_score, glare_area, glare_spots
from batch_ocr.vision.picture import WARNINGS_LONG_SIDE_PX, Picture

if TYPE_CHECKING:
    import numpy as np

logger = logging.getLogger(__name__)

#: Every warning, in the order rows list them.
WARNINGS: tuple[str, ...] = (
    "copy",
    "reshoot",
    "blur",
    "glare",
    "border_incomplete",
    "occluded",
)

#: Pictures are measured at most this long side (``Picture.for_warnings``).
DECODE_LONG_SIDE_PX = WARNINGS_LONG_SIDE_PX

# Thresholds, tuned on the generated sets of tests/warning_cases.py and checked for
# false positives on clean colour cards (docs/warnings-and-review.md, has the rates).
COPY_MAX_CHROMA = 2.5
RESHOOT_MIN_PEAK = 40.0
BLUR_MIN_SCORE = 0.40
GLARE_MIN_AREA = 0.01
OCCLUDED_MIN_AREA = 0.015


@dataclass(frozen=True, slots=True)
class Measurements:
    """The statistics each warning is decided on (the harness reports them)."""

    chroma_p90: float
    moire_peak: float
    blur_score: float
    glare_area: float
    border_incomplete: bool
    occluder_area: float


# --------------------------------------------------------------------------- decisions


def measure(image: np.ndarray, quad: np.ndarray | None = None) -> Measurements:
    """Every statistic for ``image`` (BGR), with the card's corners when known.

    Without corners, the picture is the card when it is all light and has a card's
    proportions (a tight scan); otherwise the card-level measures (glare, occlusion)
    are not taken, and the others look at the largest light shape, else the middle.
    """
    import numpy as np

    light = light_blob(image)
    whole_card = looks_like_whole_card(image.shape) and light.fills_picture
    if quad is not None and _is_frame(quad, image.shape) and not light.fills_picture:
        # An outline as large as the picture around a card that does not fill it is
        # the picture's own frame (a busy background), not the card: measuring it
        # would call the background an object over the card or the card cut off.
        quad = None
    card = card_view(image, quad) if quad is not None or whole_card else None
    if quad is not None:
        points = np.asarray(quad, dtype=np.float32).reshape(4, 2)
        x0, y0 = (max(0, int(v)) for v in points.min(axis=0))
        x1, y1 = (max(0, int(v)) for v in points.max(axis=0))
        box: tuple[int, int, int, int] | None = (x0, y0, x1, y1)
    else:
        box = light.box(image.shape)
    # The moiré patch is taken at the picture's own resolution: the card warped
    # smaller would alias the bands away.
    native = image[box[1] : box[3], box[0] : box[2]] if box is not None else _central(image)
    region = card if card is not None else native
    return Measurements(
        chroma_p90=chroma_p90(_inset(region)),
        moire_peak=moire_peak(native),
        blur_score=blur_score(region),
        glare_area=glare_area(card) if card is not None else 0.0,
        border_incomplete=border_incomplete(image, quad, light),
        occluder_area=occluder_area(card) if card is not None else 0.0,
    )


#: An outline covering this much of the picture may be the picture's own frame.
FRAME_MIN_SHARE = 0.9


def _is_frame(quad: np.ndarray, shape: tuple[int, ...]) -> bool:
    import cv2
    import numpy as np

    area = float(cv2.contourArea(np.asarray(quad, dtype=np.float32).reshape(4, 2)))
    return area >= FRAME_MIN_SHARE * shape[0] * shape[1]


def decide(measurements: Measurements) -> list[str]:
    """The warnings the statistics call for, in ``WARNINGS`` order."""
    raised = {
        "copy": measurements.chroma_p90 < COPY_MAX_CHROMA,
        "reshoot": measurements.moire_peak >= RESHOOT_MIN_PEAK,
        "blur": measurements.blur_score >= BLUR_MIN_SCORE,
        "glare": measurements.glare_area >= GLARE_MIN_AREA,
        "border_incomplete": measurements.border_incomplete,
        "occluded": measurements.occluder_area >= OCCLUDED_MIN_AREA,
    }
    return [name for name in WARNINGS if raised[name]]


def detect(image: np.ndarray, quad: np.ndarray | None = None) -> list[str]:
    """The warnings for a decoded picture (BGR), with the card's corners when known."""
    return decide(measure(image, quad))


#: The warnings whose cause lies somewhere on the card (``spots``): a glare spot or an
#: object takes text off only the fields it lies on.
PLACED_WARNINGS: tuple[str, ...] = ("glare", "occluded")
#: A reflection or an object is placed on the card from this share of it up: half of
#: what raises its warning, so that one measured on another cut of the card (the
#: reader's, a little tighter or looser than the warnings') is not missed.
SPOT_MIN_SHARE = {"glare": GLARE_MIN_AREA / 2, "occluded": OCCLUDED_MIN_AREA / 2}


def spots(card: np.ndarray, warnings: Collection[str] = PLACED_WARNINGS) -> np.ndarray:
    """Where on ``card`` (BGR, cut out edge to edge, any size, either way up) lie the
    reflections (``glare``) and the objects (``occluded``) of ``warnings``: a bool mask
    of ``CARD_HEIGHT_PX`` x ``CARD_WIDTH_PX`` over the card as given, so that a reader
    who knows the card's layout can tell which fields they lie on."""
    import cv2
    import numpy as np

    view = cv2.resize(card, (CARD_WIDTH_PX, CARD_HEIGHT_PX), interpolation=cv2.INTER_AREA)
    found = np.zeros(view.shape[:2], bool)
    for name, finder in (("glare", glare_spots), ("occluded", occluder_spots)):
        if name in warnings:
            _, labels, stats, _ = cv2.connectedComponentsWithStats(finder(view))
            large = stats[:, cv2.CC_STAT_AREA] >= SPOT_MIN_SHARE[name] * labels.size
            large[0] = False
            found |= large[labels]
    return found


def warnings_for(picture: Picture) -> list[str]:
    """The warnings for a picture; none without the ``local`` extra.

    Finds the card with the offline engine's outline search on the picture's
    ``for_warnings`` view, then calls ``detect``. Synchronous and CPU-bound: call it
    from a worker thread. A picture that cannot be analysed gets no warning (it has its
    row already; a warning is advice, never a reason to fail one).
    """
    if not available():
        return []
    try:
        from batch_ocr.vision.photo import find_card

        image = picture.for_warnings()
        return detect(image, find_card(image))
    except Exception as exc:  # noqa: BLE001 - advice must never cost a row
        logger.debug("image warnings skipped: %s: %s", type(exc).__name__, exc)
        return []


def warnings_at_hand(picture: Picture) -> tuple[str, ...] | None:
    """``warnings_for`` when the picture holds the decode it measures (the card search
    made it), else None: measured now, before the pixels are let go, it costs no
    decode; measured after the answer, it would cost one (docs/performance.md).
    A picture the card search passed over (noise, a small card) holds none, and never
    loads OpenCV here.
    """
    if not picture.holds_decode_for_warnings() or not available():
        return None
    return tuple(warnings_for(picture))


__all__ = [
    "BLUR_MIN_SCORE",
    "BORDER_MARGIN",
    "CARD_ASPECT",
    "CARD_HEIGHT_PX",
    "CARD_WIDTH_PX",
    "COPY_MAX_CHROMA",
    "CUT_CARD_MIN_ASPECT",
    "DECODE_LONG_SIDE_PX",
    "FRAME_MIN_SHARE",
    "GLARE_MIN_AREA",
    "LIGHT_MIN_SHARE",
    "LIGHT_SEARCH_LONG_SIDE_PX",
    "MOIRE_CHANNELS",
    "MOIRE_MIN_AMPLITUDE",
    "OCCLUDED_MIN_AREA",
    "OCCLUDER_MAX_EDGE_SHARE",
    "OCCLUDER_MIN_COLOUR_DISTANCE",
    "PLACED_WARNINGS",
    "RESHOOT_MIN_PEAK",
    "SPOT_MIN_SHARE",
    "WARNINGS",
    "WHOLE_CARD_ASPECT_TOLERANCE",
    "LightBlob",
    "Measurements",
    "available",
    "blur_score",
    "border_incomplete",
    "card_view",
    "chroma_p90",
    "decide",
    "detect",
    "glare_area",
    "light_blob",
    "looks_like_whole_card",
    "measure",
    "moire_peak",
    "occluder_area",
    "spots",
    "warnings_at_hand",
    "warnings_for",
]
