"""The other side of a card, where the first look at a picture found one.

A copy page holds the front above the back, and a phone photo may hold both; when the
card outlines cannot be seen (a grey copy whose cards came out as pale as the paper, a
card whose edge a shadow ate) the picture is read whole, which reads one orientation of
text: a back turned upside down under its front, or a second card lying across the
picture, is not read, and its side would be lost without a word. Four looks here:

- ``beyond_the_side``: the part of a page beyond the text of the side that was read
  (above or below it) is read on its own, turned upright by its own text;
- ``other_side``: when the outline search and the page search found different places
  (the picture's frame and one card), both are read and a front and a back kept;
- ``beside_the_card``: on a photo where one card was read and it leaves room for
  another, each block of print outside it cut out at full size (a card much smaller
  than the photo has text too small to detect on the whole photo), or where none gives
  a side the text lines outside it, each group read where it lies; a part none of
  whose longest lines shows an ID side's text (``_glance``: a form, a bank card) is read
  no further, and a part that shows the other side's labels without its fields makes
  the row say a side was seen and not read (``cards.SIDE_UNREAD``);
- ``cards_by_text``: on a photo read without a card frame, the groups its text lines
  make apart (``text_groups``), or the parts of one group whose lines run different
  ways (two cards touching, ``by_direction``), each read on its own.

A look is taken only when the first found one side and there is room for another; on
a photo of one card with print beside it, ``beside_the_card`` costs a text detection
of each block of that print and a glance at its longest lines, unless no card of the
read one's size fits anywhere beside it (``vision.room``: the other side is the same
card), which a card filling most of the photo leaves.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

from batch_ocr.engines.local import _page
from batch_ocr.engines.local._parsed import Parsed
from batch_ocr.engines.local._reading import (
    PAGE_LONG_SIDE_PX,
    WHOLE_PICTURE_LONG_SIDE_PX,
    _read,
    _read_card,
    _Reading,
)
from batch_ocr.engines.local._rows import Row as TextRow
from batch_ocr.engines.local._text_groups import (
    GROUP_MARGIN_SHARE,
    MAX_GROUPS_READ,
    MIN_GROUP_LINES,
    bounds,
    by_direction,
    line_groups,
    text_groups,
)
from batch_ocr.run.cards import CardRead
from batch_ocr.vision import layout as _layout
from batch_ocr.vision import room as _room
from batch_ocr.vision import text_cards as _text_cards
from batch_ocr.vision.geometry import A4_MM

if TYPE_CHECKING:
    import numpy as np

#: Two quads overlapping by more than this share of their union are one card.
SAME_CARD_OVERLAP = 0.5
#: The part beyond a side's text must be at least this share of that text's height to
#: hold another side (a card's text fills ~0.85 of it), and starts this share of it
#: away from that text (the gap between two cards on a copy).
MIN_REST_SHARE = 0.6
REST_MARGIN_SHARE = 0.08
#: A page of cards is an A4 sheet (within this share of its proportions) longer than
#: ``WHOLE_PICTURE_LONG_SIDE_PX`` (scanned at 150 dpi it is 1,754 px long); the rest of
#: a page is read at ``PAGE_LONG_SIDE_PX`` at most.
A4_ASPECT_TOLERANCE = 0.04
_SIDES = ("front", "back")


def same_card(first: np.ndarray, second: np.ndarray | None) -> bool:
    """Whether two quads (4x2) outline the same place; False when ``second`` is None."""
    import cv2
    import numpy as np

    if second is None:
        return False
    a, b = first.astype(np.float32), second.astype(np.float32)
    inter, _ = cv2.intersectConvexConvex(cv2.convexHull(a), cv2.convexHull(b))
    union = cv2.contourArea(a) + cv2.contourArea(b) - inter
    return union > 0 and inter / union > SAME_CARD_OVERLAP


def other_side(first: _Reading | None, second: _Reading,
               warnings: Collection[str] | None) -> list[CardRead] | None:  # fmt: skip
    """A front and a back when two readings of one picture give one each; the second
    alone when the first gave no ID side; else None (the first reading stands).
    ``warnings``: the picture's, for every function here (``_page.card_of``)."""
    if not _page.is_id_card(second):
        return None
    if first is None or first.parsed.side not in _SIDES:
        return [_page.card_of(second, warnings)]
    if first.parsed.side == second.parsed.side or not _page.is_id_card(first):
        return None
    return [_page.card_of(first, warnings), _page.card_of(second, warnings)]


def where_finders_differ(image: np.ndarray, cards: Sequence[_layout.FoundCard],
                         reading: _Reading | None, read_quad: np.ndarray | None,
                         warnings: Collection[str] | None) -> list[CardRead] | None:  # fmt: skip
    """The sides to give when the page search found one card (``cards``) elsewhere than
    the outline that was read (``read_quad``; None: the picture was read whole): that
    card read too, and ``other_side`` of the two. None: the first reading stands.

    Two finders, two places: the outline search took the picture's frame (or another
    shape) and the page search one card; a photo of a front and a back whose other
    card's edge a shadow ate holds both sides.
    """
    replaced = False
    # An outline whose text reads tilted was not the card's (``_reading.card_frame``):
    # the card the page search found is read too, however much the two overlap.
    unframed = reading is not None and read_quad is not None and not reading.card_frame
    if len(cards) == 1 and (unframed or not same_card(cards[0].quad, read_quad)):
        second = _read_card(_layout.crop_card(image, cards[0].quad))
        if _better_same_side(reading, second):
            # The outline first read was not the card's (a stretch of desk, whose warp
            # jumbled the card's lines into one row): the card found is read instead.
            reading, replaced = second, True
        else:
            both = other_side(reading, second, warnings)
            if both is not None:
                return both
    card = cards[0].quad if len(cards) == 1 else read_quad
    if reading is None or card is None:
        return None
    beside = beside_the_card(image, card, reading, warnings)
    if _page.is_id_card(reading):
        if beside is None:
            return [_page.card_of(reading, warnings)] if replaced else None
        return [_page.card_of(reading, warnings), beside]
    # A bank card read as a front (its long number) is no side of the ID card beside it.
    return None if beside is None or beside.side_seen else [beside]


def _better_same_side(first: _Reading | None, second: _Reading) -> bool:
    """Whether ``second`` reads the side ``first`` read, as an ID card, with more of its
    fields passing their checks, or as many and its card's frame trusted where the
    first's was not (its labels' column and spots placed: ``_page.card_of``)."""
    if first is None or first.parsed.side not in _SIDES or not _page.is_id_card(second):
        return False
    return second.parsed.side == first.parsed.side and (_valid(second), second.card_frame) > (
        _valid(first), first.card_frame)


#: A card covering more of the picture than this leaves no room for another beside it.
MAX_CARD_SHARE_FOR_TWO = 0.4
#: Text lines outside the card that may be another card's (a card side prints 5 to 9).
MIN_LINES_BESIDE = 4
#: The area around those lines that is read, grown by this share of its sides.
BESIDE_MARGIN_SHARE = 0.15
#: Long side a card beside the one read is detected at (``CARD_DET_LONG_SIDE_PX``).
BESIDE_CARD_DET_PX = 512


def beside_the_card(image: np.ndarray, quad: np.ndarray, reading: _Reading,
                    warnings: Collection[str] | None) -> CardRead | None:  # fmt: skip
    """The other side on a photo of two cards, beside the one read (``quad``): the text
    detector's lines outside that card, read where they lie when there are enough of
    them for a card; None when they are not another ID side (a sheet of print, a bank
    card) or there is no room on the picture for another card (``vision.room``)."""
    import cv2
    import numpy as np

    from batch_ocr.engines.local._print_left import lines_left
    from batch_ocr.engines.local._reading import PHOTO_DET_LONG_SIDE_PX

    if reading.parsed.side not in _SIDES:
        return None
    # The side already read is not looked for again; any is, beside a card that gave none.
    read = {reading.parsed.side} if _page.is_id_card(reading) else set()
    height, width = image.shape[:2]
    if cv2.contourArea(quad.astype(np.float32)) > MAX_CARD_SHARE_FOR_TWO * height * width:
        return None
    if not _room.room_for_another(image.shape, quad):
        return None  # no card of this one's size fits beside it: no other side to find
    rest = image.copy()
    centre = quad.mean(axis=0)
    grown = (centre + 1.08 * (quad - centre)).astype(np.int32)
    channels = image.shape[2] if image.ndim == 3 else 1
    desk = [int(v) for v in np.median(image[::8, ::8].reshape(-1, channels), axis=0)]
    cv2.fillConvexPoly(rest, grown, desk)
    strokes = _text_cards.print_strokes(rest)
    if not _holds_print(strokes[0]):
        return None  # plain paper or desk around the card: nothing to detect
    # Each block of print beside the card cut out at full size and read on its own: a
    # card much smaller than the photo has text too small for the detector to see on
    # the whole photo (at ``PHOTO_DET_LONG_SIDE_PX``).
    card_long = max(float(np.linalg.norm(quad[i] - quad[i - 1])) for i in range(4))
    blocks = _text_cards.print_blocks(rest, card_long, strokes)[:MAX_GROUPS_READ]
    found, seen = _read_beside(rest, blocks, read, warnings, card_long)
    if found is None:
        # No block gave a side (a busy desk joins a shadowed card's print): line groups.
        boxes = lines_left(rest, blocks, desk, _print_beside, PHOTO_DET_LONG_SIDE_PX)
        if len(boxes) >= MIN_LINES_BESIDE:
            found, also = _read_beside(rest, text_groups(boxes, rest.shape)[:MAX_GROUPS_READ],
                                       read, warnings, card_long)  # fmt: skip
            seen = seen or also
    if found is None and seen:
        # Another side's labels were read beside the card and its fields were not: the
        # row must not pass for the whole card (``cards.SIDE_UNREAD``).
        return dataclasses.replace(_page.card_read(Parsed(side="none")), side_seen=True)
    return found


def _read_beside(rest: np.ndarray, boxes: Sequence[tuple[int, int, int, int]],
                 read: Collection[str], warnings: Collection[str] | None, card_long: float
                 ) -> tuple[CardRead | None, bool]:  # fmt: skip
    """The first ID side not in ``read`` among the parts of ``rest`` under ``boxes``
    (each grown by ``BESIDE_MARGIN_SHARE``), each read on its own; and whether a part
    showed the labels of a side not in ``read`` without giving it (a side seen). Each
    part is detected at the size that shows a card ``card_long`` long (the card read)
    at ``BESIDE_CARD_DET_PX`` (its text then as tall as a rectified card's), at most
    ``PHOTO_DET_LONG_SIDE_PX``: no more pixels than its text needs."""
    from batch_ocr.engines.local import _glance, _ocr
    from batch_ocr.engines.local._reading import PHOTO_DET_LONG_SIDE_PX

    seen = False
    for x0, y0, x1, y1 in boxes:
        grow_x, grow_y = BESIDE_MARGIN_SHARE * (x1 - x0), BESIDE_MARGIN_SHARE * (y1 - y0)
        top, left = max(0, int(y0 - grow_y)), max(0, int(x0 - grow_x))
        part = rest[top : int(y1 + grow_y), left : int(x1 + grow_x)]
        det_side = min(PHOTO_DET_LONG_SIDE_PX,
                       round(max(part.shape[:2]) * min(1.0, BESIDE_CARD_DET_PX / card_long)))
        lines = _ocr.detect(part, long_side_px=det_side)
        if len(lines) < MIN_GROUP_LINES or not _glance.shows_id_text(part, lines):
            continue  # no text, or none of an ID side's (a sheet of a form, a receipt)
        again = _read(part, rectified=False, det_side=det_side, found=lines)
        side = again.parsed.side
        if side in _SIDES and side not in read and _page.is_id_card(again):
            return _page.card_of(again, warnings), seen
        front, back = _page.label_counts(again.rows)
        seen = seen or ("front" not in read and front >= _page.MIN_FRONT_LABELS) or (
            "back" not in read and back >= 1)
    return None, seen


def beyond_the_side(image: np.ndarray, reading: _Reading,
                    warnings: Collection[str] | None) -> CardRead | None:  # fmt: skip
    """The other side of a page read whole (``image`` as given to the reading), from the
    part above or below the text of the side read; None when it holds none."""
    from batch_ocr.engines.local import _ocr

    if reading.parsed.side not in _SIDES or not reading.rows:
        return None
    if not a4_page(image.shape):
        return None  # a picture of one card (a flat back's text has gaps as wide)
    page = _ocr.rotate_image(image, reading.turns)
    factor = page.shape[0] / reading.upright.shape[0]
    top, bottom = (edge * factor for edge in _side_text(reading.rows))
    height = bottom - top
    margin = REST_MARGIN_SHARE * height
    above = (0, max(0, int(top - margin)))
    below = (min(page.shape[0], int(bottom + margin)), page.shape[0])
    first, end = max(above, below, key=lambda rows: rows[1] - rows[0])
    if end - first < MIN_REST_SHARE * height:
        return None
    rest = page[first:end]
    det_side = min(PAGE_LONG_SIDE_PX, max(rest.shape[:2]))
    found = _lines_within(reading, factor, (first, end), det_side, page.shape[1])
    again = _read(rest, rectified=False, det_side=det_side, found=found)
    if again.parsed.side not in _SIDES or again.parsed.side == reading.parsed.side:
        return None
    if not _page.is_id_card(again):
        return None
    return _page.card_of(again, warnings)


def _lines_within(reading: _Reading, factor: float, rows: tuple[int, int], det_side: int,
                  width: int) -> list[np.ndarray] | None:  # fmt: skip
    """The text lines ``reading`` detected whose middle lies in ``rows`` (first, end) of
    the page it read (``reading.upright`` scaled by ``factor``), in the pixels of that
    band cut out full width (``width``): the band's lines need no second detection
    (1.2 s on half an A4 page at 1,414 px). None when ``reading`` detected them at
    another scale than ``det_side`` would detect the band."""
    import numpy as np

    first, end = rows
    band_scale = min(1.0, det_side / max(end - first, width))
    if abs(reading.det_scale / factor - band_scale) > 0.01 * band_scale:
        return None
    lines = []
    for box in reading.boxes:
        placed = (box * factor - np.array([0, first], np.float32)).astype(np.float32)
        if 0 <= float(placed[:, 1].mean()) < end - first:
            lines.append(placed)
    return lines


#: Rows further apart than this many row heights belong to different cards.
CARD_GAP_ROWS = 3.0


def _side_text(rows: Sequence[TextRow]) -> tuple[float, float]:
    """Top and bottom of the side's text: of the rows grouped where they lie
    ``CARD_GAP_ROWS`` row heights apart, the group holding the most text (the other
    card's text, read the wrong way up, comes out as a few scraps)."""
    ordered = sorted(rows, key=lambda row: row.top)
    height = sorted(row.bottom - row.top for row in ordered)[len(ordered) // 2]
    groups = [[ordered[0]]]
    for row in ordered[1:]:
        if row.top - max(r.bottom for r in groups[-1]) > CARD_GAP_ROWS * height:
            groups.append([])
        groups[-1].append(row)
    best = max(groups, key=lambda group: sum(len(row.text) for row in group))
    return min(row.top for row in best), max(row.bottom for row in best)


def a4_page(shape: tuple[int, ...]) -> bool:
    """Whether a picture of this (height, width, ...) shape is a scanned A4 page."""
    short, long = sorted(shape[:2])
    a4_aspect = A4_MM[1] / A4_MM[0]
    return (long > WHOLE_PICTURE_LONG_SIDE_PX
            and abs(long / max(1, short) - a4_aspect) <= A4_ASPECT_TOLERANCE * a4_aspect)


#: A card's print covers at least this share of the picture (looked at as
#: ``text_cards.print_strokes`` looks: a card side beside another covers 1-3%; plain
#: paper, a plain desk and JPEG noise less than 0.1%).
MIN_PRINT_SHARE = 0.003


def _print_beside(rest: np.ndarray) -> bool:
    """Whether ``rest`` (the picture with the card read painted over) holds print: thin
    dark strokes (``text_cards.print_strokes``), cheaply, before any text detection."""
    return _holds_print(_text_cards.print_strokes(rest)[0])


def _holds_print(strokes: np.ndarray) -> bool:
    """Whether a mask of print's strokes (``text_cards.print_strokes``) holds a card's."""
    import numpy as np

    return float(np.count_nonzero(strokes)) >= MIN_PRINT_SHARE * strokes.size


def cards_by_text(source: np.ndarray | None, reading: _Reading,
                  warnings: Collection[str] | None) -> list[CardRead] | None:  # fmt: skip
    """A front and a back when the text groups of a picture read without a card frame
    give one each (``sides_by_text``); None: the reading stands."""
    best = sides_by_text(source, reading)
    return None if len(best) < 2 else [_page.card_of(best[side], warnings) for side in _SIDES]


def sides_by_text(source: np.ndarray | None, reading: _Reading) -> dict[str, _Reading]:
    """The best reading of each ID side among the groups of a picture read without a
    card frame, when its text lies in groups apart (two cards on a desk whose outlines
    were not seen, or were seen as one) or, in its largest group, runs two ways (two
    cards touching, ``by_direction``), each group or part read on its own.

    ``source`` is the picture ``reading`` was read from, before its turns, at any size
    (the groups are cut from it, at its resolution); None: ``reading.upright`` itself.
    """
    from batch_ocr.engines.local import _ocr

    best: dict[str, _Reading] = {}
    if reading.card_frame or reading.parsed.side not in _SIDES:
        return best
    upright = reading.upright
    groups = text_groups(reading.boxes, upright.shape)
    if not groups or not _another_side_shows(reading):
        return best  # one card beside a sheet of print: its reading stands, at no cost
    page = upright if source is None else _ocr.rotate_image(source, reading.turns)
    factor = page.shape[0] / upright.shape[0]
    if len(groups) >= 2:
        _read_groups(page, factor, groups[:MAX_GROUPS_READ], best)
    if len(best) < 2:
        # Two cards touching make one group; their lines run each its card's way.
        largest = line_groups(reading.boxes, upright.shape)[0]
        parts = by_direction(upright, largest)
        if len(parts) >= 2:
            _read_groups(page, factor, [bounds(part) for part in parts], best)
    return best


def _another_side_shows(reading: _Reading) -> bool:
    """Whether ``reading`` holds signs of the other side: that side's labels among its
    rows, or text lines running two ways (``by_direction``: a line classification, a
    small share of a reading's cost)."""
    front, back = _page.label_counts(reading.rows)
    if (back if reading.parsed.side == "front" else front) > 0:
        return True
    return len(by_direction(reading.upright, reading.boxes)) >= 2


def _read_groups(page: np.ndarray, factor: float, groups: Sequence[tuple[int, int, int, int]],
                 best: dict[str, _Reading]) -> None:  # fmt: skip
    """Each group (its bounds in ``page``'s pixels over ``factor``) read on its own; the
    ID side read best of each kind kept in ``best``, until both read every field."""
    for x0, y0, x1, y1 in groups:
        grow_x, grow_y = GROUP_MARGIN_SHARE * (x1 - x0), GROUP_MARGIN_SHARE * (y1 - y0)
        crop = page[max(0, int((y0 - grow_y) * factor)) : int((y1 + grow_y) * factor),
                    max(0, int((x0 - grow_x) * factor)) : int((x1 + grow_x) * factor)]  # fmt: skip
        again = _read(crop, rectified=False)
        side = again.parsed.side
        if side in _SIDES and _page.is_id_card(again) and (
                side not in best or _valid(again) > _valid(best[side])):  # fmt: skip
            best[side] = again
            if len(best) == 2 and all(_valid(r) == len(r.parsed.validity) for r in best.values()):
                return  # both sides read, every field checks: no other group to read


def _valid(reading: _Reading) -> int:
    return sum(reading.parsed.validity.values())
