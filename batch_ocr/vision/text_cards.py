"""Cards found by their text where no outline shows: a back copied as pale as the paper.

An ID-copy mode exposes each side on its own pass, so the back of a 身份证复印件 may come
out as pale as the paper: its edges vanish long before its print does (the title
中华人民共和国 / 居民身份证, 签发机关, 有效期限 stay readable). ``_layout.find_cards``
then sees one card, and the page's other side would be lost without a word.

Here the print itself is looked for, on the page at the search size, outside the cards
already outlined: dark strokes on the flat paper (a morphological black-hat), specks of
dust left out, strokes joined into blocks. A block becomes a card when it looks like a
card's print: lines of text spread over most of a card's width and height, and no larger
than a card, on a page whose paper is otherwise clean. Its box is the size of a card
outlined on the same page, or of an ID-1 card on an A4 page when none is outlined
(85.6 x 54 mm), centred on the block and turned as its lines run.

Cheap by design: on a page whose outlines hold all its print, this costs one black-hat
at the search size (under a millisecond); reading a card found here costs what reading
any card does, and only where print was seen.
"""

from __future__ import annotations

import cv2
import numpy as np

from batch_ocr.vision.geometry import A4_MM, CARD_MM

#: An image within this share of A4's proportions is taken as an A4 page (a scan of a
#: copy), which gives a card's size when no card is outlined on it.
A4_ASPECT_TOLERANCE = 0.04
#: Black-hat kernel, in pixels at the search size: strokes thinner than this are print
#: (a title character is ~8 px there, a field's ~4 px).
STROKE_KERNEL_PX = 9
#: A pixel this much darker than the paper around it is print, or ``INK_NOISE_FACTOR``
#: times the page's own noise (its median black-hat) where that is more.
MIN_INK_CONTRAST = 14
INK_NOISE_FACTOR = 6
#: Strokes with fewer pixels than this are dust (a copier's specks are 1-3 px there).
MIN_STROKE_PX = 4
#: A card's print covers at least this many pixels at the search size (a back washed
#: out to near the paper's colour still shows ~1,000).
MIN_PRINT_PX = 200
#: Strokes are joined into one block across gaps up to this share of a card's height (the
#: back's gap between 居民身份证 and 签发机关 is ~0.25 of it).
JOIN_SHARE_OF_HEIGHT = 0.3
#: A card's print spans at least these shares of its width and height (from the
#: emblem to the title's end x from the title to the period on a back, 0.77-0.85 x
#: 0.85 on the generated copies, ~0.75 high on a real card without the watermark line;
#: a front 0.87-0.91 x 0.87); a note written on the copy spans less height ...
MIN_SPAN = (0.6, 0.65)
#: ... and at most a card and a little (a block larger than that is a page of text).
MAX_SPAN = 1.15
#: Lines of text a card's print holds at least beside its emblem or portrait (the
#: back: 中华人民共和国, 居民身份证, the authority and the period), and one more
#: without; a note written on the copy (此复印件仅供…使用, a signature, a date) has
#: fewer, or no shape beside them. A line is strokes joined across gaps under
#: ``LINE_JOIN_SHARE`` of a card's width (居民身份证 is widely spaced), at least
#: ``LINE_MIN_LENGTH`` of it long, at most ``LINE_MAX_HEIGHT`` of its height tall (a
#: taller shape is the emblem or the portrait) and ``LINE_MIN_ASPECT`` times as long.
MIN_TEXT_LINES = 4
LINE_JOIN_SHARE = 0.09
LINE_MIN_LENGTH = 0.2
LINE_MAX_HEIGHT = 0.2
LINE_MIN_ASPECT = 3.0
#: A shape taller than a line but at least this many times as wide is two lines run
#: together, not an emblem or a portrait (those are about as wide as tall).
PAIRED_MIN_ASPECT = 1.6
#: A line's rows of print, across it: a row with at least this share of its densest
#: row's ink is print, and each run of ``BAND_MIN_ROWS`` such rows is a line of text of
#: its own. Two lines joined by a stamp's box drawn across them (the back's authority
#: and period under 复印无效) are two bands over a gap that only the box's frame and a
#: stroke of its text cross (under a fifth of a line's ink on the generated copies).
BAND_MIN_SHARE = 0.25
BAND_MIN_ROWS = 3
#: Print may cover at most this share of the paper left outside the cards and the
#: block; more is no flat copy page (a desk, a textured background, a page of text).
MAX_STRAY_INK = 0.004
#: Margin kept clear around an outlined card (its edge, a shadow), as a share of its
#: sides; and the band along the page's edge left out (the scanner's shadow line).
CARD_MARGIN = 0.08
PAGE_EDGE_SHARE = 0.02
#: The box drawn around the print is this much larger than a card: where the print
#: sits on the card is not known, and the reading tolerates paper around it better
#: than a side cut off.
BOX_SLACK = 1.06


def _card_size(quads: list[np.ndarray], shape: tuple[int, ...]) -> tuple[float, float] | None:
    """A card's (long, short) side on this page: an outlined card's, else A4's."""
    if quads:
        sides = [sorted(cv2.minAreaRect(q.astype(np.float32))[1]) for q in quads]
        short, long = np.median(sides, axis=0)
        return float(long), float(short)
    height, width = shape[:2]
    page_short, page_long = sorted((width, height))
    a4_aspect = A4_MM[1] / A4_MM[0]
    if abs(page_long / page_short - a4_aspect) > A4_ASPECT_TOLERANCE * a4_aspect:
        return None
    mm = page_short / A4_MM[0]
    return CARD_MM[0] * mm, CARD_MM[1] * mm


def _ink(gray: np.ndarray, quads: list[np.ndarray]) -> np.ndarray | None:
    """Print outside the outlined cards: strokes darker than the paper, dust left out;
    None when there is too little of it to be a card's."""
    black_hat = cv2.morphologyEx(
        gray, cv2.MORPH_BLACKHAT, np.ones((STROKE_KERNEL_PX, STROKE_KERNEL_PX), np.uint8)
    )
    noise = float(np.median(black_hat[::4, ::4]))  # a sample: a full median costs 2 ms
    ink = (black_hat > max(MIN_INK_CONTRAST, INK_NOISE_FACTOR * noise + 2)).astype(np.uint8)
    edge = max(2, round(PAGE_EDGE_SHARE * min(gray.shape)))
    ink[:edge], ink[-edge:], ink[:, :edge], ink[:, -edge:] = 0, 0, 0, 0
    for quad in quads:
        centre = quad.mean(axis=0)
        grown = centre + (quad - centre) * (1 + 2 * CARD_MARGIN)
        cv2.fillConvexPoly(ink, grown.astype(np.int32), 0)
    if np.count_nonzero(ink) < MIN_PRINT_PX:
        return None  # the outlines hold all the print: the usual page ends here
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    keep = stats[:, cv2.CC_STAT_AREA] >= MIN_STROKE_PX
    keep[0] = False
    return keep[labels].astype(np.uint8) * 255


def _card_box(points: np.ndarray, size: tuple[float, float]) -> np.ndarray | None:
    """A card's box (4x2) around a block of print, or None when the block has no card's
    proportions: too small a share of a card, or larger than one."""
    card_long, card_short = size
    (cx, cy), (w, h), angle = cv2.minAreaRect(points.astype(np.float32))
    if w < h:  # the block's long side as the box's width
        w, h, angle = h, w, angle + 90
    if w < MIN_SPAN[0] * card_long or h < MIN_SPAN[1] * card_short:
        return None
    if w > MAX_SPAN * card_long or h > MAX_SPAN * card_short:
        return None
    box = ((cx, cy), (card_long * BOX_SLACK, card_short * BOX_SLACK), angle)
    return cv2.boxPoints(box).astype(np.float32)


def _looks_printed(ink: np.ndarray, box: np.ndarray) -> bool:
    """Whether the print in ``box`` (on the ink mask) is a card's: lines of text along
    the card, long and flat (the back's 中华人民共和国, 居民身份证, authority and period;
    a front's five rows and more), beside a shape taller than a line (the back's emblem,
    the front's portrait) unless the lines are many. A note written on the copy (此复印件
    仅供…使用, a signature, a date) has a few lines and no such shape."""
    width = round(float(np.linalg.norm(box[1] - box[0])))
    height = round(float(np.linalg.norm(box[2] - box[1])))
    if width < height:
        box = np.roll(box, -1, axis=0)
        width, height = height, width
    target = np.array([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]],
                      np.float32)  # fmt: skip
    flat = cv2.warpPerspective(ink, cv2.getPerspectiveTransform(box, target), (width, height),
                               flags=cv2.INTER_NEAREST)  # fmt: skip
    # Shapes taller than a line are set apart first, so that joining a line's widely
    # spaced characters (居 民 身 份 证) does not join the emblem beside them.
    count, labels, stats, _ = cv2.connectedComponentsWithStats(flat, connectivity=8)
    shape_w, shape_h = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]
    tall = shape_h > LINE_MAX_HEIGHT * height
    tall[0] = False
    # Two lines of large print run together (a back's 中华人民共和国 over 居民身份证, on a
    # copy whose toner thickened them) make a shape as tall as the emblem but wide: two
    # lines, not the emblem.
    paired = tall & (shape_w >= LINE_MIN_LENGTH * width) & (shape_w >= PAIRED_MIN_ASPECT * shape_h)
    flat[tall[labels]] = 0
    joined = cv2.dilate(flat, np.ones((1, max(2, round(LINE_JOIN_SHARE * width))), np.uint8))
    _, line_labels, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    long = np.flatnonzero(stats[1:, cv2.CC_STAT_WIDTH] >= LINE_MIN_LENGTH * width) + 1
    lines: int = sum(_flat_lines(flat, line_labels, stats[label], int(label), height)
                     for label in long)
    lines += 2 * int(np.count_nonzero(paired))
    return lines >= MIN_TEXT_LINES + (not (tall & ~paired).any())


def _flat_lines(flat: np.ndarray, labels: np.ndarray, stats: np.ndarray, label: int,
                card_height: int) -> int:
    """How many lines of text, long and flat, one run of joined print holds: each band of
    its rows that carries print (``BAND_MIN_SHARE``, ``BAND_MIN_ROWS``) no taller than a
    line (``LINE_MAX_HEIGHT``) and ``LINE_MIN_ASPECT`` times as long. A stamp's box drawn
    across two lines joins them; a bilingual card's small script rides on its line."""
    x, y, w, h = stats[:4]
    inside = (labels[y:y + h, x:x + w] == label) & (flat[y:y + h, x:x + w] > 0)
    ink_per_row = inside.sum(axis=1)
    rows = ink_per_row >= BAND_MIN_SHARE * ink_per_row.max()
    edges = np.diff(np.concatenate(([0], rows.astype(np.int8), [0])))
    band_h = np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)
    flat_bands = ((band_h >= BAND_MIN_ROWS) & (band_h <= LINE_MAX_HEIGHT * card_height)
                  & (w >= LINE_MIN_ASPECT * band_h))
    return int(np.count_nonzero(flat_bands))


def text_cards(small: np.ndarray, quads: list[np.ndarray]) -> list[np.ndarray]:
    """Corners (4x2, ``small``'s pixels) of each card found by its print alone.

    ``small`` is the page at the search size, ``quads`` the cards outlined on it. Empty
    when the outlines hold all the print, when the page gives no card size (no card
    outlined and not A4), or when the paper is not clean enough to tell print apart.
    """
    size = _card_size(quads, small.shape)
    if size is None:
        return []
    card_long, card_short = size
    gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY) if small.ndim == 3 else small
    ink = _ink(gray, quads)
    if ink is None:
        return []
    join = max(3, round(JOIN_SHARE_OF_HEIGHT * card_short))
    blocks = cv2.dilate(ink, np.ones((join, join), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(blocks, connectivity=8)
    inked = ink > 0
    print_px = np.bincount(labels[inked], minlength=count)
    # Only blocks with a card's print and at least its short span across (however the
    # block is turned) are measured: a dusty or textured page has hundreds of others.
    least = MIN_SPAN[1] * card_short
    wide = (stats[:, cv2.CC_STAT_WIDTH] >= least) & (stats[:, cv2.CC_STAT_HEIGHT] >= least)
    found: list[np.ndarray] = []
    explained = np.zeros(ink.shape, bool)
    for label in np.flatnonzero(wide & (print_px >= MIN_PRINT_PX)):
        if label == 0:
            continue
        member = (labels == label) & inked
        points = np.argwhere(member)[:, ::-1]
        box = _card_box(points, size)
        if box is not None and _looks_printed(ink, box):
            found.append(box)
            explained |= member
    if not found:
        return []
    # What print is left on the paper must be stray: a page full of it is no copy page.
    stray = np.count_nonzero(inked & ~explained)
    if stray > MAX_STRAY_INK * ink.size:
        return []
    return found


#: Print beside a card on a photo (``print_blocks``) is looked for this small, as strokes
#: at least ``BESIDE_MIN_CONTRAST`` darker than what lies around them (a black-hat
#: ``BESIDE_STROKE_KERNEL_PX`` wide: a card's text at that size, not a desk's squares).
BESIDE_LOOK_LONG_SIDE_PX = 480
BESIDE_STROKE_KERNEL_PX = 7
BESIDE_MIN_CONTRAST = 24
#: A block of print may be another card's when its box's long side is this share of
#: the card read at least (its print spans 0.6 of it and more) and at most (a card
#: turned 45 degrees, in perspective, its strokes joined to a pen or a cup beside it;
#: a larger block is a desk's texture, read no better cut out than whole) ...
BLOCK_SPAN_OF_CARD = (0.5, 2.2)
#: ... whose box covers at most this many cards' areas (a desk's grain or weave joins
#: into blocks as wide as that and far taller) ...
BLOCK_MAX_CARDS_AREA = 3.5
#: ... and it holds at least this share of the picture's print at that size.
BLOCK_MIN_PRINT_PX = 60


def print_strokes(image: np.ndarray) -> tuple[np.ndarray, float]:
    """The strokes of print on a photo (a bool mask of it looked at
    ``BESIDE_LOOK_LONG_SIDE_PX`` long: a black-hat ``BESIDE_STROKE_KERNEL_PX`` wide, at
    least ``BESIDE_MIN_CONTRAST`` deep), and that look's scale to ``image``: made once
    for the look whether there is print beside a card and for ``print_blocks``."""
    scale = min(1.0, BESIDE_LOOK_LONG_SIDE_PX / max(image.shape[:2]))
    small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY) if small.ndim == 3 else small
    kernel = np.ones((BESIDE_STROKE_KERNEL_PX, BESIDE_STROKE_KERNEL_PX), np.uint8)
    return cv2.morphologyEx(gray, cv2.MORPH_BLACKHAT, kernel) > BESIDE_MIN_CONTRAST, scale


def print_blocks(image: np.ndarray, card_long_px: float,
                 strokes: tuple[np.ndarray, float] | None = None
                 ) -> list[tuple[int, int, int, int]]:  # fmt: skip
    """Boxes (left, top, right, bottom, ``image``'s pixels) around each block of print on
    a photo the size of a card ``card_long_px`` long (the card read, painted over): its
    strokes joined as ``text_cards`` joins a card's print, most print first.
    ``strokes``: ``print_strokes(image)`` where it was made already.

    A card much smaller than the photo has text too small for a detector that sees the
    whole photo at its usual size; its block, cut out at full size, is read like a card's
    photo. A desk's texture or a sheet of print larger than a card is no such block.
    """
    mask, scale = print_strokes(image) if strokes is None else strokes
    card_long = card_long_px * scale
    card_short = card_long * CARD_MM[1] / CARD_MM[0]
    join = max(3, round(JOIN_SHARE_OF_HEIGHT * card_short))
    blocks = cv2.dilate(mask.astype(np.uint8), np.ones((join, join), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(blocks, connectivity=8)
    print_px = np.bincount(labels[mask], minlength=count)
    low, high = BLOCK_SPAN_OF_CARD
    most_area = BLOCK_MAX_CARDS_AREA * card_long * card_short
    found = []
    for label in range(1, count):
        x, y, w, h = stats[label, :4]
        spans = low * card_long <= max(w, h) <= high * card_long
        if spans and print_px[label] >= BLOCK_MIN_PRINT_PX and w * h <= most_area:
            found.append((int(print_px[label]), (x, y, x + w, y + h)))
    found.sort(key=lambda block: -block[0])
    return [tuple(round(v / scale) for v in box) for _, box in found]  # type: ignore[misc]
