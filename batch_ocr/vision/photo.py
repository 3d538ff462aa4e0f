"""Finding the card in a photo, straightening it, and cutting out the portrait.

Classic image processing (OpenCV), no models: the card is a bright, rounded rectangle
with the proportions of ISO/IEC 7810 ID-1 (85.6 mm x 54 mm). We look for a large convex
quadrilateral with about those proportions in an edge map and in a brightness mask, and
warp it to a fixed-size, landscape card. Which way up it is (0° or 180°) is left to the
text, since the outline cannot tell.
"""

from __future__ import annotations

import cv2
import numpy as np

#: Size of the rectified card: the drawing size of the sample cards, so text is ~24-34 px.
CARD_WIDTH_PX = 856
CARD_HEIGHT_PX = 540
#: Long side the outline search works at: plenty for a card's edges, and fast.
SEARCH_LONG_SIDE_PX = 480
#: Portrait window on an upright front, as fractions of the card (the photo sits right
#: of centre on the real card and on the samples; the window is a little generous).
PORTRAIT_BOX = (0.615, 0.085, 0.95, 0.80)
PORTRAIT_JPEG_QUALITY = 90


#: A pixel is red ink when its red channel exceeds both others by more than this (a red
#: 复印无效 stamp: 80-100 over white paper; a warm-lit photo's skin or wood stays under).
RED_INK_MARGIN = 50
#: Every how many pixels, across and down, a picture is first probed for red ink.
RED_INK_PROBE_STEP = 8


def drop_out_red_ink(image: np.ndarray) -> np.ndarray:
    """``image`` with red ink shown as its red channel: a red stamp over the text turns
    pale and the black text under it stays, as a form scanner's red drop-out does.

    The text is read off this picture (a red 复印无效 across an address hid the whole line
    from the detector); the portrait is cut from the picture as it is. A picture with no
    red is returned as it is, after a probe of one pixel in 64.
    """
    if image.ndim != 3 or not _red_ink(image[::RED_INK_PROBE_STEP, ::RED_INK_PROBE_STEP]).any():
        return image
    image = np.ascontiguousarray(image)
    red = cv2.split(image)[2]
    out = image.copy()
    cv2.copyTo(cv2.merge((red, red, red)), _red_ink(image).view(np.uint8), out)
    return out


def _red_ink(image: np.ndarray) -> np.ndarray:
    """Where the red channel exceeds both others by more than ``RED_INK_MARGIN``.

    In uint8 with a saturating subtraction: a page's int16 copy would add 17 MB to a
    worker's peak.
    """
    blue, green, red = cv2.split(np.ascontiguousarray(image))
    return cv2.subtract(red, cv2.max(blue, green)) > RED_INK_MARGIN


def _order_clockwise(points: np.ndarray) -> np.ndarray:
    """Four points clockwise (y down), starting at the top-left-most one."""
    center = points.mean(axis=0)
    angles = np.arctan2(points[:, 1] - center[1], points[:, 0] - center[0])
    ordered = points[np.argsort(angles)]
    start = int(np.argmin(ordered.sum(axis=1)))
    return np.roll(ordered, -start, axis=0)


def _quad_of(contour: np.ndarray) -> np.ndarray | None:
    """A quadrilateral fitted to a contour, or None if it is not card-like."""
    hull = cv2.convexHull(contour)
    perimeter = cv2.arcLength(hull, True)
    for epsilon in (0.02, 0.03, 0.045):
        approx = cv2.approxPolyDP(hull, epsilon * perimeter, True)
        if len(approx) == 4:
            return approx.reshape(4, 2).astype(np.float32)
    # Rounded corners can defeat the polygon fit; a rotated rectangle still does if the
    # hull fills it (no perspective then, but the warp tolerates a little).
    rect = cv2.minAreaRect(hull)
    (w, h) = rect[1]
    if w * h > 0 and cv2.contourArea(hull) / (w * h) > 0.9:
        return cv2.boxPoints(rect).astype(np.float32)
    return None


def _plausible(quad: np.ndarray, image_area: float) -> float:
    """How card-like a quadrilateral is: its area if plausible, else 0."""
    if not cv2.isContourConvex(quad.reshape(-1, 1, 2)):
        return 0.0
    area = cv2.contourArea(quad)
    if area < 0.2 * image_area or area > 0.985 * image_area:
        return 0.0  # too small to read, or the frame itself
    ordered = _order_clockwise(quad)
    sides = [float(np.linalg.norm(ordered[i] - ordered[(i + 1) % 4])) for i in range(4)]
    long_side = (
        (sides[0] + sides[2]) / 2
        if sides[0] + sides[2] > sides[1] + sides[3]
        else (sides[1] + sides[3]) / 2
    )
    short_side = min((sides[0] + sides[2]) / 2, (sides[1] + sides[3]) / 2)
    if short_side <= 0:
        return 0.0
    ratio = long_side / short_side
    # Perspective squeezes one pair of sides: accept a broad band around 1.586.
    if not 1.2 <= ratio <= 2.1:
        return 0.0
    return area


def _edge_support(quad: np.ndarray, edges: np.ndarray) -> float:
    """Share of the quadrilateral's outline that lies on (or next to) an edge pixel."""
    outline = np.zeros_like(edges)
    cv2.polylines(outline, [quad.astype(np.int32).reshape(-1, 1, 2)], True, 255, 1)
    on_outline = outline > 0
    total = int(on_outline.sum())
    return float((edges[on_outline] > 0).sum()) / total if total else 0.0


def find_card(image: np.ndarray) -> np.ndarray | None:
    """The card's corners in ``image`` (4x2, clockwise), or None if no outline is found.

    Candidates come from three masks (edges, Otsu brightness, pale low-saturation
    colour); each is scored by its area times the share of its outline that lies on an
    edge, so a blob that merged with a busy background loses to the true outline.
    """
    height, width = image.shape[:2]
    scale = SEARCH_LONG_SIDE_PX / max(height, width)
    small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
    # A median blur keeps the card's edge sharp while it wipes out sensor noise and grain.
    gray = cv2.medianBlur(gray, 5)
    small_area = float(small.shape[0] * small.shape[1])

    edges = cv2.Canny(gray, 30, 90)
    thick_edges = cv2.dilate(edges, np.ones((5, 5), np.uint8), iterations=2)
    masks = [cv2.dilate(edges, np.ones((3, 3), np.uint8), iterations=2)]
    # The card is brighter than most backgrounds; Otsu finds the split.
    _, bright = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    masks.append(cv2.morphologyEx(bright, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8)))
    # ... and pale: light and nearly grey, unlike wood, cloth or a dark desk.
    hsv = cv2.cvtColor(cv2.medianBlur(small, 5), cv2.COLOR_BGR2HSV)
    pale = cv2.inRange(hsv, (0, 0, 150), (180, 50, 255))
    masks.append(cv2.morphologyEx(pale, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8)))

    best: tuple[float, np.ndarray] | None = None
    for mask in masks:
        contours, _ = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
        for contour in sorted(contours, key=cv2.contourArea, reverse=True)[:8]:
            if cv2.contourArea(cv2.convexHull(contour)) < 0.2 * small_area:
                break
            quad = _quad_of(contour)
            if quad is None:
                continue
            area = _plausible(quad, small_area)
            support = _edge_support(quad, thick_edges) if area else 0.0
            if support < 0.35:
                continue
            score = area * support
            if best is None or score > best[0]:
                best = (score, quad)
    if best is None:
        return None
    return _order_clockwise(best[1] / scale)


def warp_card(image: np.ndarray, quad: np.ndarray) -> np.ndarray:
    """The card under ``quad`` warped to a landscape ``CARD_WIDTH_PX`` x ``CARD_HEIGHT_PX``.

    The first corner of the output is the start of a long side; whether the card is
    then upside down is decided later from the text.
    """
    corners = _order_clockwise(quad)
    first = float(np.linalg.norm(corners[0] - corners[1]) + np.linalg.norm(corners[2] - corners[3]))
    second = float(
        np.linalg.norm(corners[1] - corners[2]) + np.linalg.norm(corners[3] - corners[0])
    )
    if second > first:
        corners = np.roll(corners, -1, axis=0)
    target = np.array(
        [[0, 0], [CARD_WIDTH_PX - 1, 0], [CARD_WIDTH_PX - 1, CARD_HEIGHT_PX - 1],
         [0, CARD_HEIGHT_PX - 1]],
        dtype=np.float32,
    )  # fmt: skip
    matrix = cv2.getPerspectiveTransform(corners.astype(np.float32), target)
    return cv2.warpPerspective(
        image, matrix, (CARD_WIDTH_PX, CARD_HEIGHT_PX), flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )  # fmt: skip


def fit_long_side(image: np.ndarray, long_side_px: int) -> np.ndarray:
    """The image scaled (down or up) so its long side is ``long_side_px``."""
    height, width = image.shape[:2]
    scale = long_side_px / max(height, width)
    if abs(scale - 1) < 0.05:
        return image
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    return cv2.resize(image, None, fx=scale, fy=scale, interpolation=interpolation)


def portrait_jpeg(card: np.ndarray) -> bytes | None:
    """The photo window of an upright front card as JPEG bytes."""
    height, width = card.shape[:2]
    x0, y0, x1, y1 = PORTRAIT_BOX
    crop = card[int(y0 * height) : int(y1 * height), int(x0 * width) : int(x1 * width)]
    if crop.size == 0:
        return None
    ok, encoded = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, PORTRAIT_JPEG_QUALITY])
    return encoded.tobytes() if ok else None
