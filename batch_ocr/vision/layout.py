"""Every card on a page: where each one lies, cut out and straightened.

An A4 photocopy (身份证复印件) holds the front above the back, often grey, on a flat
background that is nearly as light as the card; a phone photo may hold an ID card
beside a bank card. ``find_cards`` finds each card-shaped outline on such a page:

- a *background* mask: what differs from the page's border colour (a flat copy page
  or desk), which finds a pale card on a pale page where edges are too faint; the
  colour and its noise are sampled just inside the scan's edge, past a scanner's
  shadow line, whose JPEG ringing would otherwise raise the bar above a pale card;
- the same without its gaps closed, where two cards a few pixels apart stay apart;
- a *closed-edge* mask: edges joined into solid blobs, for busy backgrounds;
- the *brightness* mask (Otsu), for a light card on a dark ground;
- the *quiet* mask, the closed-edge mask's holes: cards on a desk so busy (a check, a
  weave) that it closes into one blob around them.

Each blob whose convex hull fills a rotated rectangle with about the ID-1 proportions
(85.6 mm x 54 mm) and is big enough to read is a card; a blob with the proportions of
two cards edge to edge is cut in two (``card_pairs``); a blob inside another (the portrait, a stamp)
is dropped. Cards come back in reading order (rows top to bottom,
left to right within a row). Which way up each card is and what it shows is left to
its text (``_engine``), since an outline cannot tell.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from batch_ocr.vision import card_pairs
from batch_ocr.vision import photo as _vision
from batch_ocr.vision import text_cards as _text_cards
from batch_ocr.vision.geometry import (
    MIN_CARD_AREA,
    MIN_CARD_LONG_SIDE_PX,
    MIN_RECT_FILL,
    MIN_SOLIDITY,
)
from batch_ocr.vision.picture import SEARCH_LONG_SIDE_PX

#: Cards are all ID-1 (bank cards too): an outline under this share of the largest
#: one's area is something else (a photo, a sticker, a stamp).
MIN_SHARE_OF_LARGEST = 0.45
#: Share of edge pixels inside a card (its text, its guilloche): a flat coloured
#: rectangle has none.
MIN_INNER_EDGES = 0.02
#: Accepted long/short side ratios of a card seen straight on (ID-1 is 1.585).
ASPECT_RANGE = (1.35, 1.85)
#: Two outlines overlapping by more than this share of the smaller are one card.
MAX_OVERLAP = 0.25
#: Rows of the reading order: cards whose centres differ by less than this share of
#: a card's height are on one row.
SAME_ROW = 0.5


#: Where the page's own colour is sampled: a band this many pixels deep (at the search
#: size), starting this far in from the image's edge. A flatbed scan's outermost lines
#: are the lid's shadow and a light line (about 1% of the page; the dev set's scans show
#: 88, 168, 188 on paper at 196), which are no sample of the paper and whose JPEG
#: ringing once passed for the paper's noise.
BORDER_INSET_PX = 6
BORDER_BAND_PX = 4


def border_bands(blur: np.ndarray) -> list[np.ndarray]:
    """The four bands along the image's sides where the page's colour is sampled
    (pixels x 3)."""
    height, width = blur.shape[:2]
    inset = BORDER_INSET_PX if min(height, width) > 4 * (BORDER_INSET_PX + BORDER_BAND_PX) else 0
    inner = blur[inset : height - inset, inset : width - inset]
    depth = BORDER_BAND_PX
    return [inner[:depth].reshape(-1, 3), inner[-depth:].reshape(-1, 3),
            inner[:, :depth].reshape(-1, 3), inner[:, -depth:].reshape(-1, 3)]  # fmt: skip


def _background_masks(small: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pixels that differ from the colour of the page's border: with gaps closed (a
    card paler than the paper in places), and without (two cards a few pixels apart)."""
    blur = cv2.medianBlur(small, 5)
    bands = border_bands(blur)
    background = np.median(np.concatenate(bands), axis=0)
    # The paper's noise is the median of the four sides' own: one side that is not paper
    # (a card or a shadow at the edge) cannot raise it.
    spread = float(np.median([np.median(np.abs(band - background), axis=0).max()
                              for band in bands]))  # fmt: skip
    # OpenCV's saturating absdiff on uint8, then the largest channel: the same integers
    # as numpy's int16 arithmetic, in a small part of the time (11.8 ms -> under 0.5 ms on a
    # 640 x 640 page; tests/benchmarks, cpu_per_mb).
    level = np.full(blur.shape, background.astype(np.uint8), np.uint8)
    channels = cv2.split(cv2.absdiff(blur, level))
    diff = cv2.max(cv2.max(channels[0], channels[1]), channels[2])
    # A flat synthetic page differs from the card by 3-10 grey levels; a real scan's
    # noise raises the bar with its spread.
    threshold = max(2.5, 4 * spread + 2.5)
    mask = (diff > threshold).astype(np.uint8) * 255
    opening = np.ones((5, 5), np.uint8)
    closed = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((7, 7), np.uint8))
    return (cv2.morphologyEx(closed, cv2.MORPH_OPEN, opening),
            cv2.morphologyEx(mask, cv2.MORPH_OPEN, opening))  # fmt: skip


def outline_masks(small: np.ndarray) -> tuple[list[tuple[np.ndarray, np.ndarray]], np.ndarray]:
    """The masks cards are looked for in, each with the mask the page between two cards
    of one blob is looked for in (``card_pairs``), and the edge map. The last, the
    quiet mask, is looked at for its nested parts too (``largest_blobs``)."""
    gray = cv2.medianBlur(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY), 5)
    edges = cv2.Canny(gray, 30, 90)
    closed = cv2.morphologyEx(
        cv2.dilate(edges, np.ones((3, 3), np.uint8)), cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8)
    )
    _, bright = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    bright = cv2.morphologyEx(bright, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    # Where a busy desk (a check, a weave) closes into one blob, the cards lying on it
    # are the quiet holes in it, their outline a line of edges all round; two cards
    # touching are one hole, parted where that line runs between them. On a plain desk
    # the same holes lie inside the blob two touching cards' outlines close into (one
    # blob of no card's proportions): each card's inside is a hole of its own.
    quiet = cv2.morphologyEx(255 - closed, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    # Faint edges too for the texture test: a grey copy's labels are pale.
    faint_edges = cv2.Canny(gray, 12, 36)
    background, apart = _background_masks(small)
    masks = [(background, apart), (apart, apart), (closed, apart), (bright, apart),
             (quiet, quiet)]  # fmt: skip
    return masks, faint_edges


def inner_edge_share(quad: np.ndarray, edges: np.ndarray) -> float:
    """Share of edge pixels in the middle of ``quad`` (its outline itself left out)."""
    centre = quad.mean(axis=0)
    inner = (centre + 0.8 * (quad - centre)).astype(np.int32)
    mask = np.zeros(edges.shape, np.uint8)
    cv2.fillConvexPoly(mask, inner, 255)
    inside = mask > 0
    total = int(inside.sum())
    return float((edges[inside] > 0).sum()) / total if total else 0.0


def card_quad(contour: np.ndarray, page_area: float) -> tuple[float, np.ndarray] | None:
    """(score, corners) when ``contour`` outlines a card, else None."""
    area = cv2.contourArea(contour)
    if area < MIN_CARD_AREA * page_area:
        return None
    hull = cv2.convexHull(contour)
    hull_area = cv2.contourArea(hull)
    rect = cv2.minAreaRect(hull)
    width, height = rect[1]
    if width * height <= 0 or hull_area > 0.97 * page_area:
        return None  # degenerate, or the page itself
    fill = hull_area / (width * height)
    aspect = max(width, height) / min(width, height)
    if fill < MIN_RECT_FILL or area / hull_area < MIN_SOLIDITY:
        return None
    if not ASPECT_RANGE[0] <= aspect <= ASPECT_RANGE[1]:
        return None
    quad = _vision._quad_of(contour)
    if quad is None or not cv2.isContourConvex(quad.reshape(-1, 1, 2)):
        quad = cv2.boxPoints(rect).astype(np.float32)
    return hull_area * fill, _vision._order_clockwise(quad)


#: A blob that is no card's shape is opened with a square this share of its rotated
#: rectangle's short side, and looked at again: a card with a bump on one edge (a glare
#: spot as light as the card, run into the desk beside it) fills its rectangle too
#: poorly, and its proportions were taken for two cards' (``card_pairs``), each half of
#: it read as a card. A bump narrower or lower than the square goes; the card stays.
TRIM_SHARE = 0.35


def _trimmed_card_quad(contour: np.ndarray, page_area: float
                       ) -> tuple[float, np.ndarray] | None:  # fmt: skip
    """``card_quad`` of the largest part of ``contour``'s blob left by an opening
    (``TRIM_SHARE``); None when that is no card either."""
    if cv2.contourArea(contour) < MIN_CARD_AREA * page_area:
        return None
    short = min(cv2.minAreaRect(contour)[1])
    size = round(TRIM_SHARE * short)
    if size < 3:
        return None
    x, y, width, height = cv2.boundingRect(contour)
    blob = np.zeros((height + 2, width + 2), np.uint8)
    cv2.drawContours(blob, [contour - [x - 1, y - 1]], -1, 255, cv2.FILLED)
    opened = cv2.morphologyEx(blob, cv2.MORPH_OPEN, np.ones((size, size), np.uint8))
    parts, _ = cv2.findContours(opened, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not parts:
        return None
    found = card_quad(max(parts, key=cv2.contourArea) + [x - 1, y - 1], page_area)
    return None if found is None else (found[0], found[1].astype(np.float32))


def overlap_share(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection area over the smaller area of two convex quadrilaterals."""
    inter, _ = cv2.intersectConvexConvex(a.astype(np.float32), b.astype(np.float32))
    smaller = min(cv2.contourArea(a), cv2.contourArea(b))
    return float(inter) / smaller if smaller > 0 else 0.0


def reading_order(quads: list[np.ndarray]) -> list[np.ndarray]:
    """Quads sorted in rows top to bottom, each row left to right."""
    return [quads[i] for i in reading_order_indices(quads)]


def reading_order_indices(quads: list[np.ndarray]) -> list[int]:
    """The indices of ``quads`` in reading order (``reading_order``)."""
    if not quads:
        return []
    centres = [q.mean(axis=0) for q in quads]
    heights = [min(cv2.minAreaRect(q)[1]) for q in quads]
    order = sorted(range(len(quads)), key=lambda i: centres[i][1])
    rows: list[list[int]] = [[order[0]]]
    for i in order[1:]:
        row_y = float(np.mean([centres[j][1] for j in rows[-1]]))
        if abs(centres[i][1] - row_y) < SAME_ROW * heights[i]:
            rows[-1].append(i)
        else:
            rows.append([i])
    return [i for row in rows for i in sorted(row, key=lambda j: centres[j][0])]


@dataclass(frozen=True)
class FoundCard:
    """A card on a page: its corners (4x2, clockwise, image pixels) and how it was seen."""

    quad: np.ndarray
    #: Found by its print alone, no outline showing (``_text_cards``: a side copied as
    #: pale as the paper). Such a card that reads as no ID side is a side seen and not
    #: read, never "another kind" (docs/documents.md).
    by_print: bool = False


def search_view(image: np.ndarray) -> tuple[np.ndarray, float]:
    """``image`` at the search size, and that size's scale to ``image``."""
    height, width = image.shape[:2]
    scale = min(1.0, SEARCH_LONG_SIDE_PX / max(height, width))
    return cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA), scale


def _outlines(small: np.ndarray, min_long_side_px: float) -> list[np.ndarray]:
    """The card-shaped outlines on ``small`` (the page at the search size), its pixels."""
    page_area = float(small.shape[0] * small.shape[1])
    candidates: list[tuple[float, np.ndarray]] = []
    masks, edges = outline_masks(small)
    for index, (mask, between) in enumerate(masks):
        for contour in largest_blobs(mask, nested=index == len(masks) - 1):
            found = card_quad(contour, page_area) or _trimmed_card_quad(contour, page_area)
            if found and card_pairs.spans_the_picture(contour, small.shape, sides=3):
                continue  # a pale desk's lit part, closed by a shadow's edge
            for score, quad in [found] if found else card_pairs.pair_halves(
                    contour, page_area, between, edges):
                if inner_edge_share(quad, edges) >= MIN_INNER_EDGES:
                    candidates.append((score, quad))
    kept: list[np.ndarray] = []
    for _score, quad in sorted(_edged(candidates, small), key=lambda c: -c[0]):
        if all(overlap_share(quad, other) < MAX_OVERLAP for other in kept):
            kept.append(quad)
    kept = [q for q in kept if max(cv2.minAreaRect(q)[1]) >= min_long_side_px]
    if kept:
        largest = max(cv2.contourArea(q) for q in kept)
        kept = [q for q in kept if cv2.contourArea(q) >= MIN_SHARE_OF_LARGEST * largest]
    return kept


#: An outline less than this share of which lies on the picture's edges runs off them
#: (a card merged with the lit desk) ...
MIN_EDGE_SUPPORT = 0.35
#: ... and one at least this share of which does is traced all round: a card's own (an
#: outline a shadow crosses has the edges on one side of the shadow only).
TRACED_EDGE_SUPPORT = 0.8


def _edged(candidates: list[tuple[float, np.ndarray]], small: np.ndarray
           ) -> list[tuple[float, np.ndarray]]:  # fmt: skip
    """``candidates`` without those whose outline lies off the edges (under
    ``MIN_EDGE_SUPPORT``) where one the edges trace all round (``TRACED_EDGE_SUPPORT``)
    overlaps it: a card merged with the lit part of the desk below it (one bright blob,
    larger, so first by its score) gives way to the card's own outline. Where no
    overlapping outline is so traced (a pale copy's faint edges, a card's part lit beside
    a shadow), nothing changes."""
    if len(candidates) < 2:
        return candidates
    gray = cv2.medianBlur(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY), 5)
    # As ``photo.find_card`` measures an outline's support.
    thick = cv2.dilate(cv2.Canny(gray, 30, 90), np.ones((5, 5), np.uint8), iterations=2)
    support = [_vision._edge_support(quad, thick) for _, quad in candidates]
    traced = [quad for (_, quad), share in zip(candidates, support, strict=True)
              if share >= TRACED_EDGE_SUPPORT]  # fmt: skip
    return [candidate for candidate, share in zip(candidates, support, strict=True)
            if share >= MIN_EDGE_SUPPORT
            or not any(overlap_share(candidate[1], quad) >= MAX_OVERLAP for quad in traced)]


def largest_blobs(mask: np.ndarray, *, nested: bool) -> list[np.ndarray]:
    """The outer contours of ``mask``'s twelve largest blobs; ``nested``: of blobs lying
    in another's hole too (the quiet mask: a card's inside within the desk's part around
    the blob of two touching cards), not only of the outermost."""
    mode = cv2.RETR_CCOMP if nested else cv2.RETR_EXTERNAL
    contours, hierarchy = cv2.findContours(mask, mode, cv2.CHAIN_APPROX_SIMPLE)
    if nested and hierarchy is not None:
        # RETR_CCOMP: outer boundaries have no parent, the holes' boundaries have one.
        contours = [c for c, link in zip(contours, hierarchy[0], strict=True) if link[3] < 0]
    return sorted(contours, key=cv2.contourArea, reverse=True)[:12]


def find_cards(
    image: np.ndarray, *, min_long_side_px: float = MIN_CARD_LONG_SIDE_PX
) -> list[np.ndarray]:
    """Corners (4x2, clockwise, image pixels) of every card-shaped outline, in reading order.

    ``min_long_side_px`` is the smallest readable card in ``image``'s pixels (smaller
    when ``image`` is a reduced copy of the picture).
    """
    small, scale = search_view(image)
    return [q / scale for q in reading_order(_outlines(small, min_long_side_px * scale))]


def page_cards(
    image: np.ndarray, *, min_long_side_px: float = MIN_CARD_LONG_SIDE_PX
) -> list[FoundCard]:
    """Every card on a page in reading order: by its outline (``find_cards``), and by
    its print where the outlines leave a card's print on the paper (``_text_cards``)."""
    small, scale = search_view(image)
    outlined = _outlines(small, min_long_side_px * scale)
    printed = _text_cards.text_cards(small, outlined)
    cards = [FoundCard(q) for q in outlined] + [FoundCard(q, by_print=True) for q in printed]
    order = reading_order_indices([card.quad for card in cards])
    return [FoundCard(cards[i].quad / scale, cards[i].by_print) for i in order]


def crop_card(image: np.ndarray, quad: np.ndarray) -> np.ndarray:
    """The card under ``quad``, straightened to a landscape card image."""
    return _vision.warp_card(image, quad)
