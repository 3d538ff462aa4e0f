"""The fields a glare spot or an object on the card lies on, and what that does to them.

A reflection or a finger over a field may take text off it without the reading showing
it (an address with a few characters gone still reads as an address); over the
portrait, the emblem, the title or an empty margin it takes nothing from the reading.
The image warnings find where such spots lie on the card as read
(``image_warnings.spots``), the card's layout says where each field's text may lie
(``FIELD_ZONES``), and the rows read say where in that zone it does: a spot lies on a
field where it lies on the print of the field's rows or next to it, where a character
or a line it washed out whole would have been (over the room right of a short name, or
the margin above it, it took nothing). A field a spot lies on is at most
``UNDER_SPOT_CONFIDENCE`` sure,
under the review signal's bar, so its row is flagged for that field
(``low_confidence:<column>``, docs/warnings-and-review.md) and for nothing else; unless
a check confirms the field (a checksummed number and the birth date and sex it encodes,
a listed nation, a lawful dated period), as a character the spot took would fail it; or
the GB/T 2260 table does, where the spot's white core lies only where a run it washed
out would have left a name no one lists (``office_spared``, ``address_spared``).

The spots are looked for only on a picture whose warnings name them (``glare``,
``occluded``): finding them costs some 15 ms a card. A side read without its card cut
out edge to edge (read off the whole picture, or from its text alone) has no layout to
place a spot on: every field of it is then as unsure as one under the spot.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING

from batch_ocr.engines.local._parsed import Parsed

if TYPE_CHECKING:
    import numpy as np

    from batch_ocr.engines.local._reading import _Reading
    from batch_ocr.engines.local._rows import Row as TextRow

#: Where each side may print each field's text (the ``Parsed.confidence`` keys), as
#: (left, top, right, bottom) shares of the upright card: the row of the field's label
#: and value, left of the portrait, each row's zone reaching halfway to the next (the
#: samples and the specimens; an address runs to three lines, a long authority to the
#: card's right edge). The labels' column is in: an outline a little off shifts the
#: card by that much, and a spot over a label may take the start of its value. The
#: portrait, the emblem, the title and the margins above, below and right of the text
#: hold no field's text.
FIELD_ZONES: Mapping[str, Mapping[str, tuple[float, float, float, float]]] = {
    "front": {
        "name": (0.0, 0.08, 0.64, 0.205),
        "sex": (0.0, 0.205, 0.31, 0.33),
        "nation": (0.31, 0.205, 0.64, 0.33),
        "birthday": (0.0, 0.33, 0.64, 0.44),
        "address": (0.0, 0.44, 0.64, 0.77),
        "number": (0.0, 0.77, 0.96, 0.92),
    },
    "back": {
        "authority": (0.18, 0.65, 0.98, 0.80),
        "timelimit": (0.18, 0.80, 0.96, 0.92),
    },
}
#: A spot is grown by this share of the card's width before it is placed: a reflection
#: fades the print around its white core, and an object casts a shadow.
SPOT_MARGIN_SHARE = 0.02
#: A spot lies on a field when it covers at least this share of the field's zone, and
#: (where the zone holds print read: ``fields_under``) this share of the card on the
#: print of its rows: a third of a character (one is some 0.15% of a front).
MIN_COVER_SHARE = 0.03
MIN_PRINT_COVER_SHARE = 0.0005
#: Where a row of text read prints, in shares of its box's height (the detector's boxes
#: are about twice as tall as the characters in them): a character a spot washed out
#: entirely at the start or end of a line lies within ``TEXT_REACH`` of the box's ends;
#: the characters fill its middle (``TEXT_INSET`` off its top and bottom) but on a field
#: of several lines, where a line the spot took whole lies within twice ``TEXT_REACH``
#: (a box's height) above or below the box.
TEXT_REACH = 0.5
TEXT_INSET = 0.25
#: The fields that run to several lines.
MULTI_LINE_FIELDS = frozenset({"address", "authority"})
#: A spot lies near a place between two characters of an office's name within this
#: many characters of it (``office_spared``): the characters are placed evenly, so
#: where each lies is known to half of one at most.
GAP_REACH = 1.0
#: The confidence a field under a spot keeps at most: under the review signal's bar
#: (``review.LOW_CONFIDENCE_BELOW``, 0.95).
UNDER_SPOT_CONFIDENCE = 0.9


def fields_under(spots: np.ndarray, side: str,
                 lines: Sequence[Box] | None = None) -> tuple[str, ...]:  # fmt: skip
    """The fields of ``side`` (``FIELD_ZONES``) that ``spots`` (a bool mask over the
    upright card, any size) lies on.

    With ``lines`` (``text_boxes``: where the card's rows of text were read), a spot
    lies on a field only where it lies on the print of the zone's rows, each grown by
    ``TEXT_REACH`` of its height: over the margin above the name, the room right of a
    short name or the gap between two rows, a shadow's edge or a reflection took nothing
    off it. A zone whose middle no row lies in is judged by its area alone.
    """
    import cv2
    import numpy as np

    if not spots.any():
        return ()
    spots = spots.astype(bool)
    height, width = spots.shape[:2]
    grow = max(1, round(SPOT_MARGIN_SHARE * width))
    kernel = np.ones((2 * grow + 1, 2 * grow + 1), np.uint8)
    grown = cv2.dilate(spots.astype(np.uint8), kernel).astype(bool)
    under = []
    for field, (x0, y0, x1, y1) in FIELD_ZONES.get(side, {}).items():
        zone = np.zeros(spots.shape, bool)
        zone[round(y0 * height) : round(y1 * height), round(x0 * width) : round(x1 * width)] = 1
        covered = grown & zone
        if np.count_nonzero(covered) < MIN_COVER_SHARE * np.count_nonzero(zone):
            continue
        printed = _printed(lines or (), (x0, y0, x1, y1), zone, field in MULTI_LINE_FIELDS)
        if printed.any() and np.count_nonzero(spots & printed) < MIN_PRINT_COVER_SHARE * (
                height * width):  # fmt: skip
            continue
        under.append(field)
    return tuple(under)


#: A row of text as (left, top, right, bottom) shares of the upright card.
Box = tuple[float, float, float, float]


def _printed(lines: Sequence[Box], zone_box: Box, zone: np.ndarray, several: bool
             ) -> np.ndarray:  # fmt: skip
    """Where the rows whose middle lies in ``zone_box`` print (``TEXT_REACH``; a line
    above and below them too when the field runs to ``several``), within ``zone`` (a
    bool mask of the spots' size)."""
    import numpy as np

    height, width = zone.shape
    printed = np.zeros(zone.shape, bool)
    x0, y0, x1, y1 = zone_box
    for left, top, right, bottom in lines:
        if not (x0 <= (left + right) / 2 <= x1 and y0 <= (top + bottom) / 2 <= y1):
            continue
        reach = TEXT_REACH * (bottom - top)
        reach_x = reach * height / width  # the same length across
        reach_y = 2 * reach if several else -TEXT_INSET * (bottom - top)
        printed[max(0, int((top - reach_y) * height)) : int(np.ceil((bottom + reach_y) * height)),
                max(0, int((left - reach_x) * width)) : int(np.ceil((right + reach_x) * width))
                ] = True  # fmt: skip
    return printed & zone


def text_boxes(rows: Sequence[TextRow], card_shape: tuple[int, ...]) -> list[Box]:
    """Each of ``rows`` (pixels of a card of ``card_shape``) as shares of the card."""
    height, width = card_shape[:2]
    return [(row.left / width, row.top / height, row.right / width, row.bottom / height)
            for row in rows]  # fmt: skip


def placed(reading: _Reading, warnings: Collection[str] | None) -> Parsed:
    """``reading.parsed`` with the confidence of each field a glare spot or an object
    lies on lowered to ``UNDER_SPOT_CONFIDENCE``, when ``warnings`` (the picture's; None:
    not measured, so possibly any) name such a spot; as it is otherwise.

    A reading whose ``upright`` is not its card cut out edge to edge cannot place a
    spot: every field of it is lowered then.
    """
    from batch_ocr.vision import image_warnings

    parsed = reading.parsed
    named = image_warnings.PLACED_WARNINGS if warnings is None else tuple(
        name for name in image_warnings.PLACED_WARNINGS if name in warnings)
    if not named or parsed.side not in FIELD_ZONES:
        return parsed
    if reading.card_frame:
        spots = image_warnings.spots(reading.upright, named)
        under = fields_under(spots, parsed.side, text_boxes(reading.rows, reading.upright.shape))
        spared = {"authority": office_spared, "address": address_spared}
        under = tuple(name for name in under if not (
            name in spared and spared[name](spots, reading, parsed.info[name])))
    else:
        under = tuple(parsed.confidence)
    return lowered(parsed, under)


def office_spared(spots: np.ndarray, reading: _Reading, office: str) -> bool:
    """Whether ``office``, read on one of ``reading``'s rows, is a listed office's name
    that ``spots`` (a bool mask over ``reading.upright``, any size) cannot have taken a
    run of characters off: it lies near none of the places where another listed name
    holds it with characters more (``_back.gaps_of_listed_office``: 上海市公安局徐汇分局
    is 上海市公安局徐汇区分局 with 区 washed out only where a spot lies before 分局).
    Lost anywhere else, what was left would be listed by no one. A character is washed
    out whole only under a spot's white core (``spots`` as found, not grown: its rim
    fades the print, which is then read, surely here): the core must reach the
    characters' height on the row (``TEXT_INSET``) within ``GAP_REACH`` characters of
    such a place, the characters placed evenly along the office's stretch of its row
    (one type, one size)."""
    from batch_ocr.engines.local._back import gaps_of_listed_office
    from batch_ocr.engines.local._bands import AUTHORITY_BANDS
    from batch_ocr.engines.local._rows import clean

    gaps = gaps_of_listed_office(office)
    held = [row for row in reading.rows if clean(row.text).endswith(office)]
    if gaps is None or len(held) != 1:
        return False  # not listed, or wrapped: where its characters lie is not known
    row, width = held[0], reading.upright.shape[1]
    # The office's stretch: from where the card prints the value when the label 签发机关
    # was read on the same row.
    left, pitch = _stretch(row, office, AUTHORITY_BANDS[0][0] * width)
    scale_y, scale_x = spots.shape[0] / reading.upright.shape[0], spots.shape[1] / width
    inset = TEXT_INSET * (row.bottom - row.top)
    top, bottom = int((row.top + inset) * scale_y), int((row.bottom - inset) * scale_y) + 1
    for gap in gaps:
        middle = left + gap * pitch
        x0 = int((middle - GAP_REACH * pitch) * scale_x)
        x1 = int((middle + GAP_REACH * pitch) * scale_x) + 1
        if spots[max(0, top):bottom, max(0, x0):x1].any():
            return False
    return True


def lowered(parsed: Parsed, fields: Collection[str]) -> Parsed:
    """``parsed`` with the confidence of ``fields`` at most ``UNDER_SPOT_CONFIDENCE``,
    but for those a check confirms (``checked_fields``): a spot that took a character
    off such a field would have it fail the check."""
    under = set(fields) - checked_fields(parsed)
    if not under:
        return parsed
    confidence = {key: min(score, UNDER_SPOT_CONFIDENCE) if key in under else score
                  for key, score in parsed.confidence.items()}  # fmt: skip
    return dataclasses.replace(parsed, confidence=confidence)


def checked_fields(parsed: Parsed) -> set[str]:
    """The fields of ``parsed`` a check confirms whatever lay on them: a checksummed
    number, the birth date and sex it encodes read alike, a nation read as one of the
    56 names that no other holds (土 may be 土家 with 家 washed out), a dated period of
    a lawful length. A name, an address or an office's name has no such check."""
    from batch_ocr import id_rules
    from batch_ocr.engines.local._back import lawful_period
    from batch_ocr.engines.local._checks import LONG_TERM
    from batch_ocr.engines.local._front import nation_within_another

    info = parsed.info
    checked = set()
    number = info.get("number", "")
    if id_rules.id_number_valid(number):
        checked.add("number")
        born = id_rules.birth_date_in(number)
        read = (info.get("year", ""), info.get("month", ""), info.get("day", ""))
        if born is not None and read == (str(born.year), str(born.month), str(born.day)):
            checked.add("birthday")
        if info.get("sex") == id_rules.sex_in(number):
            checked.add("sex")
    nation = info.get("nation", "")
    if nation in id_rules.NATIONS and not nation_within_another(nation):
        checked.add("nation")
    period = info.get("timelimit", "")
    if lawful_period(period) and not period.endswith(LONG_TERM):
        checked.add("timelimit")
    return checked


def _stretch(row: TextRow, value: str, value_left: float) -> tuple[float, float]:
    """Where ``value``, the end of ``row``'s text, starts on the card (pixels) and its
    characters' pitch: from the row's left, or from ``value_left`` (where the card
    prints values) when the row holds its label too."""
    from batch_ocr.engines.local._rows import clean

    left = row.left if clean(row.text) == value else max(row.left, value_left)
    return left, (row.right - left) / max(1, len(value))


def address_spared(spots: np.ndarray, reading: _Reading, address: str) -> bool:
    """Whether ``spots``' white core (as found, not grown; ``office_spared``) lies, on
    and below the address's first line, over its chain of divisions only
    (``regions.place_prefix``: 江西省南昌市红谷滩区), ``GAP_REACH`` characters short of
    its end: a run of characters washed out there would have broken the chain (a
    division named inside none read before it, or no province first), and the chain
    read would then end before the spot. The core above the line's characters, where
    no line of the address prints, took nothing. The first line is the row whose text
    (after its label 住址) starts the address."""
    import numpy as np

    from batch_ocr import regions
    from batch_ocr.engines.local._labels import _ADDRESS_LABEL
    from batch_ocr.engines.local._read_order import LABEL_COLUMN_RIGHT
    from batch_ocr.engines.local._rows import clean

    chain = regions.place_prefix(address)
    firsts = [row for row in reading.rows
              if len(part := clean(row.text).removeprefix(_ADDRESS_LABEL)) >= 2
              and address.startswith(part)]  # fmt: skip
    if len(chain) < 2 or len(firsts) != 1:
        return False
    row, (height, width) = firsts[0], reading.upright.shape[:2]
    part = clean(row.text).removeprefix(_ADDRESS_LABEL)
    left, pitch = _stretch(row, part, LABEL_COLUMN_RIGHT * width)
    chain_end = left + (min(len(chain), len(part)) - GAP_REACH) * pitch
    scale_y, scale_x = spots.shape[0] / height, spots.shape[1] / width
    x0, y0, x1, y1 = FIELD_ZONES["front"]["address"]
    zone = spots[round(y0 * spots.shape[0]):round(y1 * spots.shape[0]),
                 round(x0 * spots.shape[1]):round(x1 * spots.shape[1])]  # fmt: skip
    ys, xs = np.nonzero(zone)
    ys = (ys + round(y0 * spots.shape[0])) / scale_y  # card pixels
    xs = (xs + round(x0 * spots.shape[1])) / scale_x
    inset = TEXT_INSET * (row.bottom - row.top)
    on_characters = (ys >= row.top + inset) & (ys <= row.bottom - inset)
    return bool(np.all(ys <= row.bottom - inset) and np.all(xs[on_characters] <= chain_end))
