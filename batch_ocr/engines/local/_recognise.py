"""Offline recognition of one image: bytes in, the provider-shaped ``CardData`` out.

``recognise`` is the whole job for one image, synchronous and CPU-bound: decode (through
its ``Picture``), find and straighten the card, turn it upright, read the text, parse
the fields. The OCR models are a lazy per-process singleton (``_ocr.models``).
"""

from __future__ import annotations

import contextlib
import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

from batch_ocr.engines.local._reading import (
    CARD_DET_LONG_SIDE_PX,
    PAGE_LONG_SIDE_PX,
    WHOLE_PICTURE_LONG_SIDE_PX,
    _read,
    _read_card,
    _Reading,
    _valid_fields,
)
from batch_ocr.engines.local._result import (
    LocalEngineError,
    LocalRecognition,
)
from batch_ocr.run.cards import CardRead, assemble
from batch_ocr.vision.geometry import MIN_CARD_LONG_SIDE_PX, looks_like_whole_card
from batch_ocr.vision.picture import (
    FULL_LONG_SIDE_PX,
    SEARCH_LONG_SIDE_PX,
    Picture,
    UnreadableImageError,
)

if TYPE_CHECKING:
    import numpy as np

    from batch_ocr.vision.layout import FoundCard

#: Long side a card found on a small decode keeps in the picture its fields are read
#: from (cut out at 856 px: ``photo.CARD_WIDTH_PX``), with room for the sharper second
#: look at its text (``_reading.CARD_DET_RETRY_LONG_SIDE_PX``).
CARD_LONG_SIDE_PX = 900
#: A picture with more pixels than this (a 3,000 px phone photo has 6.75 M) is a page
#: scan: it is read with the heap given back as it goes (``_ocr.heap_given_back``), so a
#: worker's memory stays bounded page after page (docs/survives.md, "Memory"), at some
#: CPU that a card's photo does not pay.
PAGE_MIN_PIXELS = 8_000_000


def recognise(image_bytes: bytes) -> LocalRecognition:
    """Recognise one ID card image; a pure function of the bytes.

    Raises ``LocalEngineError`` for bytes that are not a decodable image, or when the
    ``local`` extra is not installed.
    """
    try:
        from batch_ocr.engines.local import _ocr
        from batch_ocr.vision import photo as _vision  # noqa: F401 - the extra is installed
    except ImportError as exc:
        raise LocalEngineError(
            "local_engine_missing", f"the local engine needs the 'local' extra: {exc}"
        ) from exc
    picture = Picture(image_bytes)
    with _ocr.heap_given_back() if _page_sized(picture) else contextlib.nullcontext():
        return _recognise_picture(picture)


def _page_sized(picture: Picture) -> bool:
    """Whether ``picture`` holds more pixels than a phone's photo (``PAGE_MIN_PIXELS``)."""
    try:
        width, height = picture.size()
    except Exception:  # noqa: BLE001 - bad data is ``_recognise_picture``'s to report
        return False
    return width * height > PAGE_MIN_PIXELS


def _recognise_picture(picture: Picture) -> LocalRecognition:
    """``recognise`` for a picture whose bytes are the local extra's to read."""
    from batch_ocr.vision import photo as _vision

    try:
        image, found = _read_at_card_scale(picture)
    except UnreadableImageError as exc:
        raise LocalEngineError("unreadable_image", str(exc)) from exc

    from batch_ocr.engines.local import _page, _second_side, _spots
    from batch_ocr.vision import layout as _layout

    cards = _layout.page_cards(image) if found is None else found.on(image)
    page_warnings = _page_warnings(picture) if len(cards) >= 2 else None
    picture.release()  # the decode is let go before the OCR's own memory is taken
    if len(cards) >= 2:
        # A page of several cards (a copy with front and back, an ID beside a bank card).
        reads = _page.read_cards(image, cards, page_warnings)
        if reads is not None:
            return _recognition(assemble(reads), page_warnings, found=tuple(reads))

    reading: _Reading | None = None
    picture_image = image
    grouped_first = False  # a photo read whole has its text groups read already
    quad, by_print = _vision.find_card(image), False
    if len(cards) == 1 and (quad is None or _frames_the_picture(quad, image.shape)):
        # A card too small a share of the picture for find_card (on A4); or find_card
        # took the picture's own frame (a busy desk's edges) where the page search
        # found the card lying on it.
        quad, by_print = cards[0].quad, cards[0].by_print
    elif not cards and quad is not None and _frames_the_picture(quad, image.shape):
        # find_card took the picture's frame and the page search found no card: two
        # cards touching at their own tilts (one blob of no card's shape) or a card on
        # a busy desk. The frame squeezed to a card's size reads one of two cards at
        # most: the picture is read whole, its text groups each on its own.
        quad = None
    warnings = _image_warnings(image, quad)
    read_quad = None
    if quad is not None:
        reading = _read_card(_vision.warp_card(image, quad), by_print=by_print)
        read_quad = quad
    if reading is None or reading.parsed.side == "none":
        read_quad = None
        # No outline, or the outline held no card text: read the whole picture.
        image, reading = _read_whole(image)
        grouped_first = not _second_side.a4_page(image.shape)
        if grouped_first:
            # A photo: two cards' text lies in groups apart, read each on its own (one
            # row of text read across both cards would mix them).
            reading, both = _groups_or_full_size(image, reading, warnings)
            if both is not None:
                return _recognition(assemble(both), warnings)
        # No outline seen, yet a front and a back printed one above the other (a copy on
        # paper as pale as the cards): split the text where the sides meet.
        sides = _page.split_sides(reading.rows)
        if sides is not None:
            # Read off the whole picture: no spot can be placed on either side's fields.
            return _recognition(assemble([_page.card_read(p) for p in (
                _spots.placed(dataclasses.replace(reading, parsed=side, card_frame=False),
                              warnings)
                for side in sides)]), warnings)  # fmt: skip
        rest = _second_side.beyond_the_side(image, reading, warnings)
        if rest is not None:
            return _recognition(assemble([_page.card_of(reading, warnings), rest]), warnings)
    both = _second_side.where_finders_differ(picture_image, cards, reading, read_quad, warnings)
    if both is None and not grouped_first:
        # Two cards whose outlines were not seen apart: their text lies in groups apart.
        both = _second_side.cards_by_text(image if read_quad is None else None, reading,
                                          warnings)  # fmt: skip
    if both is not None:
        return _recognition(assemble(both), warnings)
    card = _page.card_of(reading, warnings)
    return LocalRecognition(data=card.data, portrait_jpeg=card.portrait_bytes,
                            confidence=dict(card.confidence), warnings=warnings)


#: An outline within this share of the picture's size of three of its sides is the
#: picture's frame, not a card lying on the desk (which has desk around it on two sides).
FRAME_MARGIN_SHARE = 0.01


def _frames_the_picture(quad: np.ndarray, shape: tuple[int, ...]) -> bool:
    """Whether ``quad`` (4x2, ``shape``'s pixels) reaches three sides of the picture."""
    height, width = shape[:2]
    margin = FRAME_MARGIN_SHARE * max(height, width)
    xs, ys = quad[:, 0], quad[:, 1]
    touches = (xs.min() <= margin, ys.min() <= margin,
               xs.max() >= width - 1 - margin, ys.max() >= height - 1 - margin)  # fmt: skip
    return sum(touches) >= 3


@dataclass(frozen=True)
class _Found:
    """Cards found on a small decode of the picture, and that decode's long side."""

    cards: list[FoundCard]
    long_side_px: int

    def on(self, image: np.ndarray) -> list[FoundCard]:
        """The cards in ``image``'s pixels (the same picture, upright, at another size)."""
        ratio = max(image.shape[:2]) / self.long_side_px
        return [dataclasses.replace(card, quad=card.quad * ratio) for card in self.cards]


def _read_at_card_scale(picture: Picture) -> tuple[np.ndarray, _Found | None]:
    """The picture as read (``Picture.for_reading`` at ``_card_scale``), and the cards
    found on its small decode, if one was made: they are not looked for again."""
    min_scale, found = _card_scale(picture)
    return picture.for_reading(min_scale), found


def _card_scale(picture: Picture) -> tuple[float, _Found | None]:
    """The share of the picture's size its cards are read at: enough that the smallest
    card found on a small decode keeps ``CARD_LONG_SIDE_PX``; 1 (all of it, as far as
    ``FULL_LONG_SIDE_PX``) when none is found there, or when the picture is not a JPEG
    large enough for a smaller decode to keep that (no search is paid for then). With
    the cards found, if any.

    A phone photo's card is read cut out at 856 px (``photo.CARD_WIDTH_PX``): a 3,000 px
    photo decoded whole only to be shrunk cost a third of its CPU (docs/offline-engine.md).
    """
    import numpy as np

    from batch_ocr.vision import layout as _layout

    if not picture.data.startswith(b"\xff\xd8") or max(picture.size()) < 2 * CARD_LONG_SIDE_PX:
        return 1.0, None  # no JPEG decode at half scale or less could keep a card that long
    small, scale = picture.small(SEARCH_LONG_SIDE_PX)
    # The smallest card kept is the one the full view's own search keeps (in its pixels).
    full_long_side = min(FULL_LONG_SIDE_PX, max(small.shape[:2]) / scale)
    found = _layout.page_cards(small, min_long_side_px=MIN_CARD_LONG_SIDE_PX
                               * max(small.shape[:2]) / full_long_side)  # fmt: skip
    if not found:
        return 1.0, None
    smallest = min(max(float(np.linalg.norm(card.quad[i] - card.quad[i - 1]))
                       for i in range(4)) for card in found)
    return (min(1.0, CARD_LONG_SIDE_PX * scale / max(1.0, smallest)),
            _Found(found, max(small.shape[:2])))


def _read_whole(image: np.ndarray) -> tuple[np.ndarray, _Reading]:
    """The whole picture read, and the picture as read (made landscape when it is the
    card itself)."""
    from batch_ocr.engines.local import _ocr, _second_side
    from batch_ocr.vision import photo as _vision

    long_side = max(image.shape[:2])  # a quarter turn below keeps it
    as_given = image
    page: _Reading | None = None
    if _second_side.a4_page(as_given.shape) and looks_like_whole_card(image.shape):
        # A page (an A4 copy) lies within a card's proportions, and its cards' text read
        # as one card's is too small to read: the page at full size first, and the
        # card's look only when that leaves fields unread (0.8 s a page).
        page = _read(as_given, rectified=False, det_side=PAGE_LONG_SIDE_PX)
        if page.parsed.side != "none" and all(page.parsed.validity.values()):
            return as_given, page
        if _valid_fields(page) >= 1 and _too_small_for_card_look(page, long_side):
            # Its cards' lines would be a few pixels tall to the card's look, which
            # read no field of such a page on the harness (0.9-1.3 s, its second
            # look at 640 px included): the page's reading stands.
            return as_given, page
    if looks_like_whole_card(image.shape):
        # The picture is the card: make it landscape; the text vote fixes 180°.
        if image.shape[0] > image.shape[1]:
            image = _ocr.rotate_image(image, 1)
        reading = _read_card(_vision.fit_long_side(image, _vision.CARD_WIDTH_PX))
    else:
        whole = _vision.fit_long_side(image, min(long_side, WHOLE_PICTURE_LONG_SIDE_PX))
        reading = _read(whole, rectified=False)
    if _second_side.a4_page(as_given.shape) and not all(reading.parsed.validity.values()):
        # A page (an A4 copy) whose cards' outlines were not seen: read it at full size,
        # and keep it when it believes more fields. As given, not turned as a card: A4
        # is within a card's proportions, and a portrait page turned a quarter has its
        # lines run up the page, which cost a second detection at full size (2 s). Not
        # a photo: the groups of its text are each read at full size (``cards_by_text``),
        # where the whole photo read so cost 3.5 s more.
        if page is None:
            page = _read(as_given, rectified=False, det_side=PAGE_LONG_SIDE_PX)
        if _valid_fields(page) > _valid_fields(reading):
            return as_given, page
    return image, reading


#: Lines shown to a card's look (``_read_card``: the detector at
#: ``CARD_DET_LONG_SIDE_PX``) lower than this, in its pixels, are too small for it: a
#: card's text is 17-24 px tall there, the boxes of an A4 copy's cards' lines 6-8 px.
CARD_LOOK_MIN_TEXT_PX = 12


def _too_small_for_card_look(reading: _Reading, long_side_px: int) -> bool:
    """Whether the text lines ``reading`` found on a picture ``long_side_px`` long
    (its boxes, in its pixels: ``reading.upright`` is the picture turned) would be
    lower than ``CARD_LOOK_MIN_TEXT_PX`` to a card's look at that picture."""
    import numpy as np

    if not reading.boxes:
        return False
    # A line's height is its box's short side, whichever way the line runs.
    heights = [min(float(np.linalg.norm(box[0] - box[1])), float(np.linalg.norm(box[0] - box[3])))
               for box in reading.boxes]  # fmt: skip
    return float(np.median(heights)) * CARD_DET_LONG_SIDE_PX / long_side_px < CARD_LOOK_MIN_TEXT_PX


def _groups_or_full_size(image: np.ndarray, reading: _Reading,
                         warnings: tuple[str, ...] | None
                         ) -> tuple[_Reading, list[CardRead] | None]:  # fmt: skip
    """A photo read whole (``_read_whole``, no A4 page): a front and a back read from
    the groups of its text, each at full size (``cards_by_text``), with ``reading``;
    else, when that look left fields unread on a photo larger than it was read at, the
    photo read again at full size if that believes more fields, with the front and back
    of its groups. The groups first: the whole photo at 2,000 px costs 3 to 5 s, and
    where its groups hold both sides each is read at full size all the same; where they
    do not (text too small to detect at 720 px), the full size is read as before.
    Before it, the largest group alone, cut out at full size (``_largest_group``): when
    that reads every field, the whole photo is not read again (1.1 MP detected instead
    of 3; a 2,200 px photo of a card on its side cost 7.2 s, then 1.6 s)."""
    from batch_ocr.engines.local import _page, _second_side

    sides = _second_side.sides_by_text(image, reading)
    if len(sides) == 2:
        return reading, [_page.card_of(sides[side], warnings) for side in ("front", "back")]
    alone = sides.get(reading.parsed.side)
    if alone is not None and _valid_fields(alone) > _valid_fields(reading):
        # One group read alone reads the side better: print beside the card (a form)
        # joined the rows of the picture read whole, and its text became a field.
        reading = alone
    if max(image.shape[:2]) <= WHOLE_PICTURE_LONG_SIDE_PX or all(
            reading.parsed.validity.values()):  # fmt: skip
        return reading, None
    group = _largest_group(image, reading)
    if group is not None and group.parsed.side == reading.parsed.side and all(
            group.parsed.validity.values()):  # fmt: skip
        return group, None
    if group is not None and (group.parsed.info, group.parsed.validity) == (
            reading.parsed.info, reading.parsed.validity):  # fmt: skip
        # The card's text cut out and read at full size gave every field as the first
        # look did: what fails its check is printed so (a 19-digit number), and the
        # whole photo read again at 2,000 px read it the same too (both such photos of
        # the tuning seeds' phone photos, at 1 and 3.5 s).
        return reading, None
    full = _read(image, rectified=False, det_side=PAGE_LONG_SIDE_PX)
    if _valid_fields(full) <= _valid_fields(reading):
        return reading, None
    return full, _second_side.cards_by_text(image, full, warnings)


def _largest_group(image: np.ndarray, reading: _Reading) -> _Reading | None:
    """The largest group of ``reading``'s text lines (``_text_groups.text_groups``: the
    card whose side was read, on a photo), cut out of ``image`` (the picture ``reading``
    was read from, before its turns, at full size) and read on its own; None when its
    lines make no group."""
    from batch_ocr.engines.local import _ocr, _text_groups

    groups = _text_groups.text_groups(reading.boxes, reading.upright.shape)
    if not groups:
        return None
    x0, y0, x1, y1 = groups[0]
    page = _ocr.rotate_image(image, reading.turns)
    factor = page.shape[0] / reading.upright.shape[0]
    grow_x = _text_groups.GROUP_MARGIN_SHARE * (x1 - x0)
    grow_y = _text_groups.GROUP_MARGIN_SHARE * (y1 - y0)
    crop = page[max(0, int((y0 - grow_y) * factor)) : int((y1 + grow_y) * factor),
                max(0, int((x0 - grow_x) * factor)) : int((x1 + grow_x) * factor)]  # fmt: skip
    return _read(crop, rectified=False) if crop.size else None


def _page_warnings(picture: Picture) -> tuple[str, ...]:
    """The image warnings of a page of several cards, measured as the run measures a
    picture (``image_warnings.warnings_for``), here in the worker while the page's
    decode is held: the same decode when the JPEG scales agree (``vision.picture``)."""
    from batch_ocr.vision import image_warnings

    return tuple(image_warnings.warnings_for(picture))


def _image_warnings(image: np.ndarray, quad: np.ndarray | None) -> tuple[str, ...] | None:
    """The image warnings from the pixels and outline at hand (no second decode).

    None when they fail (a bug): the run then computes them itself.
    """
    from batch_ocr.vision import image_warnings

    try:
        return tuple(image_warnings.detect(image, quad))
    except Exception:  # noqa: BLE001 - advice must never cost the recognition
        return None


def _recognition(rows: list[CardRead], warnings: tuple[str, ...] | None = None,
                 found: tuple[CardRead, ...] = ()) -> LocalRecognition:
    """The result for an image whose cards were read one by one (``assemble``d), with
    the page's warnings when they were measured (None: the run measures them); ``found``:
    the cards as the layout's finder cut them, in reading order, when it did."""
    first = rows[0]
    return LocalRecognition(
        data=first.data,
        portrait_jpeg=first.portrait_bytes,
        confidence=dict(first.confidence),
        warnings=warnings,
        # One row goes as ``cards`` too when it carries a warning of its own (a side
        # seen and not read), which ``data`` cannot.
        cards=tuple(rows) if len(rows) > 1 or first.warnings else (),
        found=found,
    )

