"""Two cards lying edge to edge, seen as one blob, cut into one card each.

A copy made with the back a finger's width below the front (or touching it), or a
photo of a front and a back laid side by side, shows one blob in the masks that close
gaps (``layout``): its rotated rectangle has the proportions of two cards. It is cut
along the page between them or, where they touch, along the seam of their edges.
"""

from __future__ import annotations

import cv2
import numpy as np

from batch_ocr.vision.geometry import MIN_CARD_AREA, MIN_RECT_FILL, MIN_SOLIDITY
from batch_ocr.vision.photo import _order_clockwise as order_clockwise

#: Two cards laid (nearly) edge to edge merge into one blob whose rotated rectangle has
#: the proportions of two cards: one above the other (2 x 54 / 85.6 = 1.26) or side by
#: side (2 x 1.585 = 3.17).
PAIR_ASPECT_RANGES = ((1.12, 1.42), (2.8, 3.6))
#: Where the line between the two cards may lie, as a share of the pair's long side.
PAIR_CUT_RANGE = (0.4, 0.6)
#: The line between them must be mostly page, not card: at most this share of it
#: differs from the page (cards touching at a corner or two, not a card cut in half) ...
PAIR_MAX_CUT_INK = 0.5
#: ... or, where they touch all along, a seam: the two cards' edges, on at least this
#: share of the line near the middle (a text row is broken by the gaps between words).
PAIR_MIN_SEAM = 0.9
PAIR_SEAM_RANGE = (0.45, 0.55)


def _line_ink(mask: np.ndarray, start: np.ndarray, end: np.ndarray) -> float:
    """Share of the points on the segment start-end that are set in ``mask``."""
    points = np.linspace(start, end, 48).round().astype(np.int32)
    points[:, 0] = points[:, 0].clip(0, mask.shape[1] - 1)
    points[:, 1] = points[:, 1].clip(0, mask.shape[0] - 1)
    return float((mask[points[:, 1], points[:, 0]] > 0).mean())


def pair_halves(
    contour: np.ndarray, page_area: float, apart: np.ndarray, edges: np.ndarray
) -> list[tuple[float, np.ndarray]]:
    """The two cards of a blob that is two cards side by side, cut along the page
    between them or the seam where they touch; empty when the blob is no such pair.

    A copy made with the back a finger's width below the front (or touching it) shows
    one blob in the masks that close gaps; ``apart`` is the mask that does not, where
    the line between the cards is page; where they touch, ``edges`` shows the seam.
    """
    area = cv2.contourArea(contour)
    if area < 2 * MIN_CARD_AREA * page_area:
        return []
    hull = cv2.convexHull(contour)
    hull_area = cv2.contourArea(hull)
    rect = cv2.minAreaRect(hull)
    width, height = rect[1]
    if width * height <= 0 or hull_area > 0.97 * page_area:
        return []
    fill = hull_area / (width * height)
    aspect = max(width, height) / min(width, height)
    if fill < MIN_RECT_FILL or area / hull_area < MIN_SOLIDITY:
        return []
    if not any(low <= aspect <= high for low, high in PAIR_ASPECT_RANGES):
        return []
    if spans_the_picture(hull, apart.shape):
        return []
    a, b, c, d = order_clockwise(cv2.boxPoints(rect).astype(np.float32))
    if np.linalg.norm(b - a) < np.linalg.norm(c - b):
        a, b, c, d = b, c, d, a  # a-b and d-c are the long sides
    ends = _page_between(a, b, c, d, apart) or _seam_between(a, b, c, d, edges)
    if ends is None:
        return []
    top, bottom = a + ends[0] * (b - a), d + ends[1] * (c - d)
    score = hull_area * fill / 2
    halves = (np.array([a, top, bottom, d], np.float32), np.array([top, b, c, bottom], np.float32))
    return [(score, order_clockwise(half)) for half in halves]


#: A blob within this many pixels (at the search size) of two opposite sides of the
#: picture runs off it: the picture's frame or a busy background, not cards lying on it.
FRAME_MARGIN_PX = 3


def spans_the_picture(hull: np.ndarray, shape: tuple[int, ...], sides: int = 2) -> bool:
    """Whether ``hull`` reaches two opposite sides of the picture (a busy background's
    blob, not a pair of cards with page around it), or with ``sides=3`` three sides."""
    x, y, w, h = cv2.boundingRect(hull)
    height, width = shape[:2]
    ends = (x <= FRAME_MARGIN_PX, x + w >= width - FRAME_MARGIN_PX,
            y <= FRAME_MARGIN_PX, y + h >= height - FRAME_MARGIN_PX)  # fmt: skip
    return sum(ends) >= 3 if sides == 3 else all(ends[:2]) or all(ends[2:])


def _page_between(
    a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray, apart: np.ndarray
) -> tuple[float, float] | None:
    """Where (shares of a-b and of d-c) a line of page crosses the pair, if one does."""
    cuts = np.linspace(*PAIR_CUT_RANGE, 21)
    inks = [_line_ink(apart, a + t * (b - a), d + t * (c - d)) for t in cuts]
    best = int(np.argmin(inks))
    return None if inks[best] > PAIR_MAX_CUT_INK else (float(cuts[best]), float(cuts[best]))


def _seam_between(
    a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray, edges: np.ndarray
) -> tuple[float, float] | None:
    """Where the edge between two touching cards crosses the pair, if one does.

    The seam may slant a little (each card lies at its own small angle): its two ends
    are looked for apart.
    """
    ends = np.linspace(*PAIR_SEAM_RANGE, 11)
    thick = cv2.dilate(edges, np.ones((5, 5), np.uint8))
    seam, u, v = max((_line_ink(thick, a + u * (b - a), d + v * (c - d)), float(u), float(v))
                     for u in ends for v in ends)  # fmt: skip
    return None if seam < PAIR_MIN_SEAM else (u, v)
