"""Image warnings: what a KYC back office must know about a picture beyond its text.

Cloud ID-card APIs return these beside the fields (Tencent Cloud's IDCardOCR
``WarnInfos``, Baidu's ``risk_type``/``image_status``, Aliyun's isCopy/isReshoot); the
paid API batch-ocr drives returns none, so they are computed here, locally, from the
pixels, for every engine. Classic image statistics (OpenCV, numpy: the ``local``
extra), no model, some 25-30 ms of CPU per image (README, "Image warnings", has the
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
card's outline. ``warnings_for_bytes`` decodes, looks for the card and calls it; it
returns no warning without the ``local`` extra (README, "Image warnings").
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

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

#: The card is measured warped to this size (ID-1 proportions): large enough for the
#: text's edges, small enough to stay within a few milliseconds.
CARD_WIDTH_PX = 480
CARD_HEIGHT_PX = 303
#: Pictures are decoded to at most this long side (JPEG DCT scaling makes it cheap).
DECODE_LONG_SIDE_PX = 1200
#: A whole picture this close to a card's proportions is taken to be the card.
CARD_ASPECT = 85.6 / 54.0
WHOLE_CARD_ASPECT_TOLERANCE = 0.12

# Thresholds, tuned on the generated sets of tests/warning_cases.py and checked for
# false positives on clean colour cards (README, "Image warnings", has the rates).
COPY_MAX_CHROMA = 2.5
RESHOOT_MIN_PEAK = 40.0
MOIRE_MIN_AMPLITUDE = 0.5
MOIRE_CHANNELS = (1, 2)  # a* and b*: text and guilloche fill the L channel
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


def available() -> bool:
    """Whether OpenCV and numpy (the ``local`` extra) can be imported."""
    try:
        import cv2  # noqa: F401
        import numpy  # noqa: F401
    except ImportError:
        return False
    return True


# --------------------------------------------------------------------------- the card


def _order_corners(quad: np.ndarray) -> np.ndarray:
    """Four corners clockwise from the top-left, the first side a long one."""
    import numpy as np

    points = np.asarray(quad, dtype=np.float32).reshape(4, 2)
    center = points.mean(axis=0)
    angles = np.arctan2(points[:, 1] - center[1], points[:, 0] - center[0])
    ordered = points[np.argsort(angles)]
    ordered = np.roll(ordered, -int(np.argmin(ordered.sum(axis=1))), axis=0)
    first = np.linalg.norm(ordered[0] - ordered[1]) + np.linalg.norm(ordered[2] - ordered[3])
    second = np.linalg.norm(ordered[1] - ordered[2]) + np.linalg.norm(ordered[3] - ordered[0])
    return np.roll(ordered, -1, axis=0) if second > first else ordered


def looks_like_whole_card(shape: tuple[int, ...]) -> bool:
    """Whether a picture has a card's proportions (a tight scan of one card)."""
    height, width = shape[:2]
    aspect = max(height, width) / max(1, min(height, width))
    return abs(aspect - CARD_ASPECT) / CARD_ASPECT < WHOLE_CARD_ASPECT_TOLERANCE


def card_view(image: np.ndarray, quad: np.ndarray | None) -> np.ndarray | None:
    """The card warped to ``CARD_WIDTH_PX`` x ``CARD_HEIGHT_PX`` (landscape), or None.

    From ``quad`` when the card was found in the picture; the whole picture when it has
    a card's proportions; None otherwise (the card is somewhere, or cut short).
    """
    import cv2
    import numpy as np

    if quad is not None:
        corners = _order_corners(quad)
        target = np.array([[0, 0], [CARD_WIDTH_PX - 1, 0],
                           [CARD_WIDTH_PX - 1, CARD_HEIGHT_PX - 1], [0, CARD_HEIGHT_PX - 1]],
                          dtype=np.float32)  # fmt: skip
        matrix = cv2.getPerspectiveTransform(corners, target)
        warped: np.ndarray = cv2.warpPerspective(
            image, matrix, (CARD_WIDTH_PX, CARD_HEIGHT_PX), flags=cv2.INTER_AREA,
            borderMode=cv2.BORDER_REPLICATE,
        )  # fmt: skip
        return warped
    if not looks_like_whole_card(image.shape):
        return None
    if image.shape[0] > image.shape[1]:
        image = cv2.rotate(image, cv2.ROTATE_90_CLOCKWISE)
    resized: np.ndarray = cv2.resize(image, (CARD_WIDTH_PX, CARD_HEIGHT_PX),
                                     interpolation=cv2.INTER_AREA)  # fmt: skip
    return resized


def _central(image: np.ndarray, share: float = 0.7) -> np.ndarray:
    """The middle ``share`` of a picture on each axis (where a card usually is)."""
    height, width = image.shape[:2]
    dy, dx = int(height * (1 - share) / 2), int(width * (1 - share) / 2)
    return image[dy : height - dy, dx : width - dx]


def _inset(card: np.ndarray, share: float = 0.04) -> np.ndarray:
    """The card without its rim (rounded corners, the outline's own pixels)."""
    height, width = card.shape[:2]
    dy, dx = int(height * share), int(width * share)
    return card[dy : height - dy, dx : width - dx]


# --------------------------------------------------------------------------- measures


def chroma_p90(region: np.ndarray) -> float:
    """90th percentile of how far each pixel's colour is from the region's typical one.

    Measured in the CIELAB a*b* plane, from the median a*b*, so a colour cast of the
    light or the scanner (a grey copy photographed under warm light) does not count as
    colour. A colour card's tints, blue labels, red emblem and portrait keep it well
    above a grey copy's; the 90th percentile ignores a red stamp put on the copy later.
    """
    import cv2
    import numpy as np

    # Every third pixel each way: a percentile needs no more, and it is 9x cheaper.
    sample = np.ascontiguousarray(region[::3, ::3])
    lab = cv2.cvtColor(sample.astype(np.float32) / 255.0, cv2.COLOR_BGR2LAB)
    chroma = lab[:, :, 1:].reshape(-1, 2)
    spread = np.linalg.norm(chroma - np.median(chroma, axis=0), axis=1)
    return float(np.percentile(spread, 90))


def moire_peak(region: np.ndarray) -> float:
    """How far the strongest periodic component of the colour stands out (screen moiré).

    A screen photographed by a camera shows the beat of its pixel grid against the
    sensor's as regular bands with colour fringes: sharp, isolated peaks in the 2-D
    spectrum of the chroma channels. Printed cards, text, guilloche and edges spread
    their energy over many frequencies. Returns the share of the band's energy (periods
    of 2.5 to 16 px, on a patch of the picture at its own resolution) held by the
    strongest peak and its neighbours, as a percentage; 0 when the colour does not
    vary enough for bands to be seen.
    """

    height, width = region.shape[:2]
    size = min(128, 1 << (min(height // 2, width // 2).bit_length() - 1))
    if size < 32:
        return 0.0
    # Four patches around the centre: moiré covers the whole screen, while a stamp or
    # an edge that happens to look periodic is in one of them at most.
    cy, cx = height // 2, width // 2
    scores = sorted(
        _moire_share(region[y : y + size, x : x + size], size)
        for y in (cy - size, cy)
        for x in (cx - size, cx)
    )
    return (scores[1] + scores[2]) / 2


def _moire_share(patch_bgr: np.ndarray, size: int) -> float:
    import cv2
    import numpy as np

    patch = patch_bgr.astype(np.float32) / 255.0
    lab = cv2.cvtColor(patch, cv2.COLOR_BGR2LAB)
    window = np.outer(np.hanning(size), np.hanning(size)).astype(np.float32)
    freq_y = np.fft.fftfreq(size)[:, None]
    freq_x = np.fft.fftfreq(size)[None, :]
    radius = np.hypot(freq_y, freq_x)
    band = (radius >= 1 / 16) & (radius <= 1 / 2.5)
    best = 0.0
    for channel in MOIRE_CHANNELS:
        values = lab[:, :, channel]
        values = values - cv2.GaussianBlur(values, (0, 0), 6)
        power = np.abs(np.fft.fft2(values * window)) ** 2 * band
        total = float(power.sum())
        # Bands too faint to see (under ~1 a*b* unit) are no moiré, whatever their shape.
        if total <= 0 or np.sqrt(total) / window.sum() < MOIRE_MIN_AMPLITUDE:
            continue
        peak_y, peak_x = np.unravel_index(int(np.argmax(power)), power.shape)
        # The peak and its mirror image (a real signal's spectrum is symmetric), each
        # with the neighbours the window spreads it over.
        peak = 0.0
        for y, x in ((peak_y, peak_x), (-peak_y % size, -peak_x % size)):
            rows = [(y + dy) % size for dy in (-1, 0, 1)]
            cols = [(x + dx) % size for dx in (-1, 0, 1)]
            peak += float(power[np.ix_(rows, cols)].sum())
        best = max(best, 100.0 * min(1.0, peak / total))
    return best


def blur_score(card: np.ndarray) -> float:
    """The no-reference blur metric of Crete et al. 2007, 0 (sharp) to 1 (flat).

    "The blur effect: perception and estimation with a new no-reference perceptual blur
    metric" (SPIE 6492): blur the image again and see how much of its pixel-to-pixel
    variation survives; a sharp image loses much, a blurred one little. Measured on the
    card at a fixed width, so blur is judged against the size of the text.
    """
    import cv2
    import numpy as np

    grey = cv2.cvtColor(card, cv2.COLOR_BGR2GRAY).astype(np.float32)
    # Sensor noise and JPEG grain look like detail: take them out first.
    grey = cv2.medianBlur(grey.astype(np.uint8), 3).astype(np.float32)
    scores = []
    for axis, kernel in ((0, (1, 9)), (1, (9, 1))):
        reblurred = cv2.blur(grey, kernel)
        d_image = np.abs(np.diff(grey, axis=axis))
        d_blur = np.abs(np.diff(reblurred, axis=axis))
        total = float(d_image.sum())
        if total <= 0:
            return 1.0
        kept = float(np.maximum(0.0, d_image - d_blur).sum())
        scores.append((total - kept) / total)
    return max(scores)


def glare_area(card: np.ndarray) -> float:
    """Share of the card covered by its largest saturated-white blob (a reflection).

    White means every channel at the sensor's top; the blob must also be clearly
    brighter than the card around it, so a copy on white paper is not a reflection.
    """
    import cv2
    import numpy as np

    inner = _inset(card)
    darkest = inner.min(axis=2)
    background = float(np.median(darkest[::3, ::3]))
    if background > 240:
        return 0.0  # the card itself is (nearly) white: nothing can stand out
    bright = ((darkest >= 248) & (darkest > background + 15)).astype(np.uint8)
    bright = cv2.morphologyEx(bright, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    return _largest_component(bright) / float(bright.size)


def _largest_component(mask: np.ndarray) -> int:
    import cv2

    count, _labels, stats, _centroids = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if count <= 1:
        return 0
    return int(stats[1:, cv2.CC_STAT_AREA].max())


#: Where a card's own pictures sit, as (x0, y0, x1, y1) fractions of the upright card,
#: with a margin: the portrait on the front, the emblem on the back; each also turned
#: 180°, since the outline alone cannot tell which way up the card is.
_PORTRAIT_ZONE = (0.56, 0.03, 0.99, 0.9)
_EMBLEM_ZONE = (0.04, 0.05, 0.3, 0.44)
_PICTURE_ZONES: tuple[tuple[float, float, float, float], ...] = tuple(
    zone
    for x0, y0, x1, y1 in (_PORTRAIT_ZONE, _EMBLEM_ZONE)
    for zone in ((x0, y0, x1, y1), (1 - x1, 1 - y1, 1 - x0, 1 - y0))
)
#: How far from the card's typical colour (CIELAB distance) a pixel is "something else".
OCCLUDER_MIN_COLOUR_DISTANCE = 32.0
#: A blob along more than this share of one side of the card is background.
OCCLUDER_MAX_EDGE_SHARE = 0.5


def occluder_area(card: np.ndarray) -> float:
    """Share of the card covered by a solid blob of another colour over the fields.

    Text strokes are thin and vanish under a morphological opening; a finger or an
    object does not. The card's own picture (portrait or emblem) is wherever most of
    such pixels sit among its known places; that place is left out.
    """
    import cv2
    import numpy as np

    inner = _inset(card, 0.03)
    lab = cv2.cvtColor(inner.astype(np.float32) / 255.0, cv2.COLOR_BGR2LAB)
    reference = np.median(lab[::3, ::3].reshape(-1, 3), axis=0)
    distance = np.linalg.norm(lab - reference, axis=2)
    other = (distance > OCCLUDER_MIN_COLOUR_DISTANCE).astype(np.uint8)
    other = cv2.morphologyEx(other, cv2.MORPH_OPEN, np.ones((9, 9), np.uint8))
    height, width = other.shape
    counts = [
        int(other[int(y0 * height) : int(y1 * height), int(x0 * width) : int(x1 * width)].sum())
        for x0, y0, x1, y1 in _PICTURE_ZONES
    ]
    x0, y0, x1, y1 = _PICTURE_ZONES[int(np.argmax(counts))]
    other[int(y0 * height) : int(y1 * height), int(x0 * width) : int(x1 * width)] = 0
    count, labels, stats, _ = cv2.connectedComponentsWithStats(other, connectivity=8)
    largest = 0
    for label in range(1, count):
        area = int(stats[label, cv2.CC_STAT_AREA])
        if area <= largest:
            continue
        blob = labels == label
        # A strip along most of one side is background that an outline a little off
        # took in, not something lying on the card (a thumb covers a short stretch).
        sides = (blob[0].mean(), blob[-1].mean(), blob[:, 0].mean(), blob[:, -1].mean())
        if max(sides) > OCCLUDER_MAX_EDGE_SHARE:
            continue
        largest = area
    return largest / float(other.size)


#: How close to the picture's edge (share of its long side) a card corner is "on" it.
BORDER_MARGIN = 0.008


@dataclass(frozen=True)
class LightBlob:
    """The largest light shape of a picture, at ``LIGHT_SEARCH_LONG_SIDE_PX``.

    Cards are lighter than most backgrounds (the outline search relies on it too);
    text and the portrait are closed over, so a card is one shape.
    """

    grey: np.ndarray  # the picture, small and grey
    mask: np.ndarray  # bool, the shape (all False when there is none)
    share: float  # of the picture
    contacts: tuple[float, float, float, float]  # share of top, bottom, left, right edges

    @property
    def fills_picture(self) -> bool:
        """Whether the picture is all light shape: a tight scan, or a card cut short."""
        return self.share >= 0.85 and min(self.contacts) > 0.8

    def box(self, shape: tuple[int, ...]) -> tuple[int, int, int, int] | None:
        """The shape's bounding box in a picture of ``shape`` (x0, y0, x1, y1)."""
        import numpy as np

        if self.share < LIGHT_MIN_SHARE:
            return None
        rows, cols = np.nonzero(self.mask)
        scale_y, scale_x = shape[0] / self.mask.shape[0], shape[1] / self.mask.shape[1]
        return (int(cols.min() * scale_x), int(rows.min() * scale_y),
                int((cols.max() + 1) * scale_x), int((rows.max() + 1) * scale_y))  # fmt: skip


#: The light-shape search works at this long side (edges and proportions only).
LIGHT_SEARCH_LONG_SIDE_PX = 240
#: A light shape smaller than this share of the picture is no card.
LIGHT_MIN_SHARE = 0.15


def light_blob(image: np.ndarray) -> LightBlob:
    """The largest light shape of ``image`` (see ``LightBlob``)."""
    import cv2
    import numpy as np

    height, width = image.shape[:2]
    scale = LIGHT_SEARCH_LONG_SIDE_PX / max(height, width)
    small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    grey = cv2.medianBlur(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY), 3)
    _, bright = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    bright = cv2.morphologyEx(bright, cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(bright, connectivity=8)
    if count <= 1:
        return LightBlob(grey, np.zeros(grey.shape, bool), 0.0, (0.0, 0.0, 0.0, 0.0))
    blob = labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    edges = (blob[0], blob[-1], blob[:, 0], blob[:, -1])
    top, bottom, left, right = (float(edge.mean()) for edge in edges)
    return LightBlob(grey, blob, float(blob.mean()), (top, bottom, left, right))


def border_incomplete(
    image: np.ndarray, quad: np.ndarray | None, light: LightBlob | None = None
) -> bool:
    """Whether the card runs off the picture.

    With an outline: a corner on the picture's edge, unless the outline is the whole
    picture with a card's proportions (a tight scan). Without one, from the largest
    light shape (``LightBlob``): a solid shape running off one or two sides is a card
    on a desk, cut; a shape that fills a picture of a card's proportions is a tight
    scan; one that fills a picture of other proportions is a card cut short, unless a
    whole card lies inside it (a light desk or page) or nothing runs into its edges.
    """
    import cv2
    import numpy as np

    height, width = image.shape[:2]
    if quad is not None:
        margin = max(2.0, BORDER_MARGIN * max(height, width))
        points = np.asarray(quad, dtype=np.float32).reshape(4, 2)
        on_edge = (
            (points[:, 0] < margin) | (points[:, 1] < margin)
            | (points[:, 0] > width - 1 - margin) | (points[:, 1] > height - 1 - margin)
        )  # fmt: skip
        if not on_edge.any():
            return False
        area = float(cv2.contourArea(points))
        return not (area > 0.85 * width * height and looks_like_whole_card(image.shape))
    light = light if light is not None else light_blob(image)
    if light.share < LIGHT_MIN_SHARE:
        return False  # no card-sized light shape: nothing to say
    grey, blob = light.grey, light.mask
    touched = sum(contact > 0.2 for contact in light.contacts)
    if 1 <= touched <= 2 and light.share <= 0.8:
        # A card on a darker background, running off one or two sides: its shape is
        # solid (a card), not the ragged shape of a lit background.
        hull = cv2.convexHull(np.argwhere(blob)[:, ::-1].astype(np.int32))
        return float(blob.sum()) / max(1.0, cv2.contourArea(hull)) > 0.85
    if touched == 4 and light.fills_picture:
        if looks_like_whole_card(image.shape):
            return False  # a tight scan of the card
        # The picture is all light, and not a card's proportions: a card cut short,
        # or a whole card on a light desk or page that the outline search missed.
        if _card_inside(grey, blob):
            return False
        if max(height, width) / max(1, min(height, width)) > CUT_CARD_MIN_ASPECT:
            return True  # wider than any card: its top or bottom is cut off
        # Cut short if its text or portrait runs into the edge (a page or a desk has
        # a blank margin).
        ink = grey < float(np.median(grey[blob])) - 80
        band = max(1, round(0.02 * max(grey.shape)))
        edges = (ink[:band], ink[-band:], ink[:, :band], ink[:, -band:])
        return any(float(edge.mean()) > 0.01 for edge in edges)
    return False


#: A light picture wider than this (long side / short side) is no whole card.
CUT_CARD_MIN_ASPECT = 1.9


def _card_inside(grey: np.ndarray, light: np.ndarray) -> bool:
    """Whether a card-shaped, slightly darker region lies wholly inside a light picture.

    A pale card on a white desk or an A4 page: the light blob is the desk, and the card
    is a darker shape of a card's proportions that touches no edge.
    """
    import cv2
    import numpy as np

    split, _ = cv2.threshold(grey[light].reshape(-1, 1), 0, 255,
                             cv2.THRESH_BINARY + cv2.THRESH_OTSU)  # fmt: skip
    darker = ((grey < split) & light).astype(np.uint8)
    darker = cv2.morphologyEx(darker, cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(darker, connectivity=8)
    for label in range(1, count):
        x, y, w, h, area = (int(v) for v in stats[label])
        if area < 0.05 * grey.size:
            continue
        if x == 0 or y == 0 or x + w >= grey.shape[1] or y + h >= grey.shape[0]:
            continue
        points = np.argwhere(labels == label)[:, ::-1].astype(np.int32)
        (_cx, _cy), (side_a, side_b), _angle = cv2.minAreaRect(points)
        aspect = max(side_a, side_b) / max(1.0, min(side_a, side_b))
        if 1.3 <= aspect <= 2.0:
            return True
    return False


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


def decode_for_warnings(image_bytes: bytes) -> np.ndarray:
    """BGR pixels, upright per EXIF, at most ``DECODE_LONG_SIDE_PX`` on the long side.

    JPEGs are decoded at a reduced scale straight from the DCT (Pillow's ``draft``), so
    a 12-megapixel photo costs a fraction of a full decode. Raises ``ValueError`` for
    bytes that are not an image.
    """
    import numpy as np
    from PIL import Image, ImageOps

    try:
        with Image.open(io.BytesIO(image_bytes)) as opened:
            opened.draft("RGB", (DECODE_LONG_SIDE_PX, DECODE_LONG_SIDE_PX))
            image = ImageOps.exif_transpose(opened)
            image.thumbnail((DECODE_LONG_SIDE_PX, DECODE_LONG_SIDE_PX))
            rgb = np.asarray(image.convert("RGB"))
    except Exception as exc:  # Pillow raises many types for bad data
        raise ValueError(f"cannot decode image: {exc}") from exc
    return np.ascontiguousarray(rgb[:, :, ::-1])


def warnings_for_bytes(image_bytes: bytes) -> list[str]:
    """The warnings for an encoded picture; none without the ``local`` extra.

    Finds the card with the offline engine's outline search, then calls ``detect``.
    Synchronous and CPU-bound: call it from a worker thread. A picture that cannot be
    analysed gets no warning (it has its row already; a warning is advice, never a
    reason to fail one).
    """
    if not available():
        return []
    try:
        from batch_ocr.engines.local._vision import find_card

        image = decode_for_warnings(image_bytes)
        return detect(image, find_card(image))
    except Exception as exc:  # noqa: BLE001 - advice must never cost a row
        logger.debug("image warnings skipped: %s: %s", type(exc).__name__, exc)
        return []
