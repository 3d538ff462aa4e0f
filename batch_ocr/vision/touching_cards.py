"""Two cards touching at an angle, seen as one blob, parted where their outlines cross.

A front and a back laid on a desk so that one's corner rests on the other, each at its
own angle, close into one blob in every mask (``layout.outline_masks``): its hull fills no
card's rectangle and its proportions are no pair's laid edge to edge (``card_pairs``),
so the page search finds neither card. Where the two outlines cross, the blob's outline
turns inward: a notch on either side, the deepest two of its hull's convexity defects.
The line between them runs along the edge of the card on top; each part it leaves is
one card, a corner of the card beneath at most cut off (the frame around each cut, and
the reader's own search, keep its print).

Both parts must be cards (a card's proportions and fill, print inside, about as large
as each other, whole on the picture): a card with a pen, a cup or a note touching it
leaves one part of no card's shape and stays one card, sent whole.
"""

from __future__ import annotations

import cv2
import numpy as np

from batch_ocr.vision import layout
from batch_ocr.vision.geometry import MIN_CARD_AREA

#: Each of the two notches is at least this deep, as a share of the square root of
#: the blob's area (two ID cards crossing at 5-10 degrees: 0.17-0.26 on the generated
#: photos; a card's rounded corner or a JPEG's ragged edge: a few hundredths).
MIN_NOTCH_DEPTH = 0.1
#: Each part lies whole on the picture, this share of its long side clear of the edges
#: (as ``card_search.BESIDE_EDGE_MARGIN``): a desk's pattern cut off by the frame is no
#: card paid for.
EDGE_MARGIN = 0.01


def parted(small: np.ndarray, least: float) -> list[np.ndarray]:
    """The two cards of the largest blob on ``small`` (the picture at the search size)
    that is two cards crossing, as corners in ``small``'s pixels; empty when none is."""
    view, scale = layout.search_view(small)
    page_area = float(view.shape[0] * view.shape[1])
    masks, edges = layout.outline_masks(view)
    best: tuple[float, list[np.ndarray]] | None = None
    for index, (mask, _) in enumerate(masks):
        for contour in layout.largest_blobs(mask, nested=index == len(masks) - 1):
            if layout.card_quad(contour, page_area) is not None:
                continue  # a card: the page search has seen it
            pair = _notched_pair(contour, page_area, edges, view.shape, least * scale)
            if pair and (best is None or pair[0] > best[0]):
                best = pair
    return [] if best is None else [quad / scale for quad in best[1]]


def _notched_pair(contour: np.ndarray, page_area: float, edges: np.ndarray,
                  shape: tuple[int, ...], least: float
                  ) -> tuple[float, list[np.ndarray]] | None:  # fmt: skip
    """(score, the two cards' corners) when ``contour`` is two cards crossing, else None."""
    area = cv2.contourArea(contour)
    if area < 2 * MIN_CARD_AREA * page_area:
        return None
    notches = _two_deepest_notches(contour, MIN_NOTCH_DEPTH * area**0.5)
    if notches is None:
        return None
    first, second = notches
    parts = (contour[first : second + 1],
             np.concatenate([contour[second:], contour[: first + 1]]))  # fmt: skip
    found = [layout.card_quad(part, page_area) for part in parts]
    quads = [card[1] for card in found if card is not None]
    if len(quads) != 2 or not all(_readable_card(quad, edges, shape, least) for quad in quads):
        return None
    areas = sorted(cv2.contourArea(quad) for quad in quads)
    if areas[0] < layout.MIN_SHARE_OF_LARGEST * areas[1]:
        return None
    if layout.overlap_share(quads[0], quads[1]) >= layout.MAX_OVERLAP:
        return None
    return sum(card[0] for card in found if card is not None), quads


def _two_deepest_notches(contour: np.ndarray, min_depth: float) -> tuple[int, int] | None:
    """The indices (ascending) into ``contour`` of its two deepest convexity defects'
    far points, when both are at least ``min_depth`` deep; else None."""
    hull = cv2.convexHull(contour, returnPoints=False)
    if hull is None or len(hull) < 4:
        return None
    try:
        # Hull indices in the contour's own order, as convexityDefects requires.
        defects = cv2.convexityDefects(contour, np.sort(hull.ravel()).reshape(-1, 1))
    except cv2.error:  # a self-touching outline: no notches to trust
        return None
    if defects is None or len(defects) < 2:
        return None
    deepest = sorted(defects.reshape(-1, 4).tolist(), key=lambda defect: -defect[3])[:2]
    if deepest[1][3] / 256 < min_depth:  # depths are fixed-point, 8 fractional bits
        return None
    first, second = sorted((int(deepest[0][2]), int(deepest[1][2])))
    return first, second


def _readable_card(quad: np.ndarray, edges: np.ndarray, shape: tuple[int, ...],
                   least: float) -> bool:  # fmt: skip
    """Whether ``quad`` is a card worth a call: print inside, large enough to read, and
    whole on the picture."""
    height, width = shape[:2]
    margin = EDGE_MARGIN * max(height, width)
    return (layout.inner_edge_share(quad, edges) >= layout.MIN_INNER_EDGES
            and max(cv2.minAreaRect(quad)[1]) >= least
            and quad.min() >= margin and bool((quad[:, 0] <= width - margin).all())
            and bool((quad[:, 1] <= height - margin).all()))  # fmt: skip
