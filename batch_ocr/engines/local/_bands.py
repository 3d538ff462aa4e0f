"""Fallback reads of a field off the place a rectified card prints it.

When the detector lost the ID number or the period of validity (a stamp across it,
glare), the band where the card prints it is read directly, and what is read is kept
only if it passes its check (the number's check character, a lawful period).

A field a copy's stamp spoiled (``FRONT_REREADS``: a nation lost or read with the
stamp's characters, a name holding one of them, an address's first line lost, a birth
date lost where the number cannot give it; a period not lawful as read) is read again
the same way with the print's darkest ink alone (``_darkest_ink``: the stamp's ink is
lighter, or coloured), its row placed by the labels' lines (``_row_span``), and kept
only as its kind allows: a listed nation, a shorter part of the name, an address
starting with a listed division, the date the number's digits hold. What no check
confirms is kept as a guess (under the 0.95 a row is accepted at).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

from batch_ocr import id_rules
from batch_ocr.engines.local._labels import (
    _ID_RE,
    _NUMBER_AS_PRINTED_RE,
    _NUMBER_PIECE_RE,
    digits,
)
from batch_ocr.engines.local._rows import TextLine, clean

if TYPE_CHECKING:
    import numpy as np

    from batch_ocr.engines.local._ocr import LineRead
    from batch_ocr.engines.local._parsed import Parsed

#: Where a front prints the ID number, as fractions of the rectified card (left, top,
#: right, bottom): a generous band, then a tight one (the samples and the specimens).
NUMBER_BANDS = ((0.28, 0.77, 0.95, 0.92), (0.29, 0.79, 0.82, 0.90))
#: Where a front prints the name (right of its label, left of the portrait).
NAME_BANDS = ((0.16, 0.06, 0.66, 0.2),)
#: Where a back prints the issuing authority (right of its label, one line; a name too
#: long for it wraps, and is then read whole by the detector or not at all).
AUTHORITY_BANDS = ((0.39, 0.66, 0.97, 0.80),)


def _bands(card: np.ndarray, bands: Sequence[tuple[float, float, float, float]]
           ) -> Iterator[tuple[tuple[int, int, int, int], np.ndarray]]:
    """Each band (shares of the card's width and height) as its box in ``card``'s
    pixels and the pixels inside it."""
    height, width = card.shape[:2]
    for x0, y0, x1, y1 in bands:
        box = (int(x0 * width), int(y0 * height), int(x1 * width), int(y1 * height))
        yield box, card[box[1] : box[3], box[0] : box[2]]


def _read_authority_band(card: np.ndarray) -> TextLine | None:
    """The issuing authority read off its place on a rectified back, without a stamp's
    characters, if it reads as an office's name. The line is marked stamped: a field
    the detector lost is one something lay across, and what was under it is less sure
    than the recogniser says (its confidence stays under 0.95: the row is reviewed)."""
    from batch_ocr.engines.local import _ocr
    from batch_ocr.engines.local._checks import authority_ok
    from batch_ocr.run.present.stamps import strip_stamps

    for box, band in _bands(card, AUTHORITY_BANDS):
        (read,) = _ocr.read_lines([band])
        office = strip_stamps(clean(read.text)).strip()
        if authority_ok(office):
            return _stamped_line(office, read, box)
    return None


def _read_doubted_office(card: np.ndarray, office: str) -> TextLine | None:
    """The issuing authority read again off its place on a rectified back with its
    print's darkest ink only (``_inked_reads``), where the name given (``office``) is in
    doubt (a stamp across it, a character the recogniser was unsure of, a listed office
    taken for what was read): kept where it reads as that very name, a stamp's
    characters cut out, so that two looks at the print agree, the second without the
    stamp's lighter ink. The line is marked stamped; its confidence is then the second
    look's own. ``office`` is compared as a row gives it (``stamps.clean_field``: 再 of
    再次复印无效 left before 南昌市… is no part of it)."""
    from batch_ocr.run.present.stamps import clean_field, strip_stamps

    given = clean_field("authority", office)
    for box, band in _bands(card, AUTHORITY_BANDS):
        for read in _inked_reads(band):
            if strip_stamps(clean(read.text)).strip() == given:
                return _stamped_line(given, read, box)
    return None


#: Where a front prints the nation, across (shares of the card's width): right of the
#: sex, left of the portrait; its height is that of the sex row's lines.
NATION_BAND_X = (0.30, 0.64)
#: A row's band reaches this share of the step between rows above and below its middle.
ROW_BAND_HALF = 0.45


def label_centre(lines: Sequence[TextLine], label: str) -> float | None:
    """The height (card pixels) of the topmost line starting with ``label``, if any."""
    found = [ln.center_y for ln in lines if clean(ln.text).startswith(label)]
    return min(found) if found else None


def _row_span(lines: Sequence[TextLine], card_height: int, rows_up: int = 0
              ) -> tuple[int, int] | None:  # fmt: skip
    """The top and bottom (card pixels) of the front's row ``rows_up`` rows above the
    sex row (0: that row; 1: the name's), placed by the labels' lines (性别, then 出生
    one row below: their step is a row's): a stamp pressed across a field's line makes
    its box as tall as the stamp, not the field's row. None if the labels are not read."""
    from batch_ocr.engines.local._labels import _BIRTH_LABEL, _SEX_LABEL

    # A label's first character is enough (出 and 生 are read apart at times).
    sex_y = label_centre(lines, _SEX_LABEL[0])
    birth_y = label_centre(lines, _BIRTH_LABEL[0])
    if sex_y is None or birth_y is None or birth_y <= sex_y:
        return None
    step = birth_y - sex_y
    middle = sex_y - rows_up * step
    top, bottom = middle - ROW_BAND_HALF * step, middle + ROW_BAND_HALF * step
    return max(0, int(top)), min(card_height, int(bottom))


def _row_band(card: np.ndarray, lines: Sequence[TextLine], across: tuple[float, float],
              rows_up: int) -> tuple[tuple[int, int, int, int], np.ndarray] | None:
    """The box (card pixels) and pixels of the front's row ``rows_up`` rows above the
    sex row (``_row_span``), between the shares ``across`` of the card's width; None if
    the labels are not read or the box is empty."""
    span = _row_span(lines, card.shape[0], rows_up)
    if span is None:
        return None
    width = card.shape[1]
    box = (int(across[0] * width), span[0], int(across[1] * width), span[1])
    band = card[box[1] : box[3], box[0] : box[2]]
    return (box, band) if band.size else None


def _stamped_line(text: str, read: LineRead, box: tuple[int, int, int, int], *,
                  guess: bool = False) -> TextLine:  # fmt: skip
    """``text``, as ``read`` in ``box``, a line marked stamped; a guess's characters
    (what the stamp covered is checked by nothing) trusted no more than
    ``AMENDED_AT_MOST``."""
    from batch_ocr.engines.local._confidence import AMENDED_AT_MOST

    _, score, least, chars = read
    if guess:
        least = min(least, AMENDED_AT_MOST)
        chars = tuple((ch, min(p, AMENDED_AT_MOST)) for ch, p in chars)
    left, top, right, bottom = map(float, box)
    return TextLine(text, score, left, top, right, bottom, least=least, stamped=True,
                    chars=chars)  # fmt: skip


def _read_nation_band(card: np.ndarray, lines: Sequence[TextLine]) -> TextLine | None:
    """The nation read off its place on a rectified front (right of the sex, on the sex
    row's lines) with its darkest ink only (``_darkest_ink``), if it reads as one of the
    56 listed nations (or the one listed a misread away, ``_front._snap_nation``): a
    stamp across the nation is read with it (再欲澳 for 汉) or takes it from the detector.
    The line is given as 民族 and the nation read, marked stamped."""
    from batch_ocr.engines.local._front import _snap_nation
    from batch_ocr.engines.local._labels import _NATION_LABEL, _cjk_only, after_label

    found = _row_band(card, lines, NATION_BAND_X, rows_up=0)
    if found is None:
        return None
    box, band = found
    for read in _inked_reads(band):
        nation = _snap_nation(_cjk_only(after_label(clean(read.text), _NATION_LABEL)))
        if nation in id_rules.NATIONS:
            return _stamped_line(_NATION_LABEL + nation, read, box)
    return None


#: Where a front prints an address's lines, across (right of its label, left of the
#: portrait).
ADDRESS_BAND_X = (0.17, 0.70)


def _read_address_band(card: np.ndarray, lines: Sequence[TextLine]) -> TextLine | None:
    """The address's first line read off its place on a rectified front (the row below
    the birth date's) with its darkest ink only, if it starts with a division the GB/T
    2260 table lists (``regions.place_prefix``): a stamp across it took the line from
    the detector. A guess (what the stamp covered is not checked by anything): marked
    stamped, its characters trusted no more than ``AMENDED_AT_MOST``."""
    from batch_ocr import regions
    from batch_ocr.engines.local._labels import _ADDRESS_LABEL, after_label

    found = _row_band(card, lines, ADDRESS_BAND_X, rows_up=-2)
    if found is None:
        return None
    box, band = found
    for read in _inked_reads(band):
        printed = after_label(clean(read.text), _ADDRESS_LABEL)
        if regions.place_prefix(printed):
            return _stamped_line(printed, read, box, guess=True)
    return None


#: Where a front prints the birth date, across.
BIRTH_BAND_X = (0.17, 0.62)


def _birth_in_number(info: Mapping[str, str]) -> str:
    """The birth date (YYYYMMDD) a number of 18 characters that fails its check
    character holds, where the date read is not it (or none was read); "" otherwise (a
    checksummed number gives the date itself)."""
    number = info.get("number", "")
    if len(number) != 18 or id_rules.id_number_valid(number):
        return ""
    read = "".join(info.get(key, "").zfill(width) for key, width in
                   (("year", 4), ("month", 2), ("day", 2)))  # fmt: skip
    return "" if read == number[6:14] else number[6:14]


def _read_birth_band(card: np.ndarray, lines: Sequence[TextLine], number_birth: str
                     ) -> TextLine | None:  # fmt: skip
    """The birth date read off its place on a rectified front (the row below the sex
    row's) with its darkest ink only, where a stamp hid or spoiled it, if it is the date
    the number's digits hold (``number_birth``: two prints of the card agree, as a
    misread's seldom do). Marked stamped."""
    found = _row_band(card, lines, BIRTH_BAND_X, rows_up=-1) if number_birth else None
    if found is None:
        return None
    box, band = found
    for read in _inked_reads(band):
        # Its digits alone: 年 or 月 under the stamp's ink is read as anything or lost.
        if re.sub(r"\D", "", digits(clean(read.text))) == number_birth:
            year, month, day = number_birth[:4], number_birth[4:6], number_birth[6:]
            return _stamped_line(f"{year}年{month}月{day}日", read, box)
    return None


def _read_name_band(card: np.ndarray, name: str, lines: Sequence[TextLine] = ()
                    ) -> TextLine | None:  # fmt: skip
    """The name read off its place on a rectified front (on the name's line, else
    ``NAME_BANDS``) with its darkest ink only (``_inked_reads``), where ``name`` (as
    read) holds what a stamp's end may be. Kept if it is a shorter part of ``name``,
    two characters at least, so that it can only leave out what the stamp's lighter ink
    gave (张平晨 of 张平晨效), never add to the name; or, where ``name`` starts with a
    stamp's character (再次军 of 再次复印无效 across 曹军), if it is no longer, holds no
    stamp's character at its edges and ends as ``name`` does: a guess then, its
    characters trusted no more than ``AMENDED_AT_MOST``; or, where ``name`` ends in the
    stamp's 效, if it is as long as ``name`` without it and read surely, no character of
    the stamp in it, and slips from it by a character or two with one at least read
    alike (邓杰 of 邓概效, 陈鹏伟 of 陈鹏希效: the stamp's ink spoilt a character beside
    its 效): a guess too, unless read so again (``_name_band.read_alike_again``).
    Marked stamped."""
    from batch_ocr.engines.local._labels import _NAME_LABEL, _cjk_only, after_label
    from batch_ocr.engines.local._name_band import read_alike_again, spoilt_beside_tail
    from batch_ocr.run.present.stamps import STAMP_GLYPHS

    span = _row_span(lines, card.shape[0], rows_up=1)
    width = card.shape[1]
    boxes = [box for box, _ in _bands(card, NAME_BANDS)]
    if span is not None:
        boxes.insert(0, (boxes[0][0], span[0], boxes[0][2], span[1]))
    stamp_head = name[:1] in STAMP_GLYPHS
    for box in boxes:
        band = card[box[1] : box[3], box[0] : box[2]]
        if not band.size or box[2] > width:
            continue
        reads = _inked_reads(band)
        for read in reads:
            printed = _cjk_only(after_label(clean(read.text), _NAME_LABEL), keep="·").strip("·")
            if 2 <= len(printed) < len(name) and printed in name:
                return _stamped_line(printed, read, box)
            if (stamp_head and 2 <= len(printed) <= len(name) and printed[-1] == name[-1]
                    and not {printed[0], printed[-1]} & STAMP_GLYPHS):
                return _stamped_line(printed, read, box, guess=True)
            if spoilt_beside_tail(name, printed, read.least):
                sure = read_alike_again(reads, printed, name, lines)
                return _stamped_line(printed, read, box, guess=not sure)
    return None


#: The shares of ``_darkest_ink`` a band is read at in turn: the print alone at the
#: first; at the second, a blurred print's lighter edges too (a stamp's ink is lighter
#: still).
INK_SHARES = (0.3, 0.45)



def _inked_reads(band: np.ndarray) -> Iterator[LineRead]:
    """``band`` read with its darkest ink only, at each of ``INK_SHARES`` (lazily)."""
    from batch_ocr.engines.local import _ocr

    for share in INK_SHARES:
        yield from _ocr.read_lines([_darkest_ink(band, share)])


#: In a band, the ink kept as the card's print: darker than this share of the way from
#: the band's darkest ink (its 1st percentile) to its paper (its 60th percentile).
PRINT_INK_SHARE = 0.3


def _darkest_ink(band: np.ndarray, share: float = PRINT_INK_SHARE) -> np.ndarray:
    """``band`` with only its darkest ink left, the rest paper white.

    A copy's stamp is pressed over the print in a lighter ink (grey, or a colour the
    copier turned grey: red is dropped out before): where its characters cross a field
    the recogniser reads both as one (张平晨效 under 复印无效, 汉 read as 敏印无效); the
    print alone is read right.
    """
    import cv2
    import numpy as np

    # Each pixel as its lightest channel: a coloured ink (a red stamp a colour copy kept,
    # a blue label) is light in one of them, the print's black in none.
    gray = band.max(axis=2) if band.ndim == 3 else band
    dark, paper = np.percentile(gray, (1, 60))
    cut = dark + share * (paper - dark)
    kept = np.where(gray < cut, gray, 255).astype(np.uint8)
    return cv2.cvtColor(kept, cv2.COLOR_GRAY2BGR)


def _read_number_band(card: np.ndarray, read: str = "") -> TextLine | None:
    """The ID number read straight off its place on a rectified front, if it checks out:
    as printed, then with its print's darkest ink only (``_darkest_ink``), where a
    stamp's lighter ink across its digits was read with them (5401Φ2195… for
    540102195…: the stamp's frame across 02). Where none checks out, the run of 18
    characters every band read alike as printed, if the number ``read`` by the detector
    was broken (no run of 17 to 19 characters: a stamp's character read inside it): the
    card prints a number failing its check, given as printed (and marked invalid)."""
    printed = []
    for number, score, box in number_band_reads(card):
        if id_rules.id_number_valid(number):
            return _number_line(number, score, box)
        printed.append((number, score, box))
    read_alike = {number for number, _, _ in printed}
    for number, score, box in number_band_reads(card, INK_SHARES):
        if number in read_alike:
            break  # read alike without the stamp's ink: the card prints it so
        if id_rules.id_number_valid(number):
            return _number_line(number, score, box)
    if len(printed) == len(NUMBER_BANDS) and len(read_alike) == 1 and not (
            _NUMBER_AS_PRINTED_RE.fullmatch(read)):  # fmt: skip
        return _number_line(*printed[0])
    return None


def _number_line(number: str, score: float, box: tuple[int, ...]) -> TextLine:
    left, top, right, bottom = map(float, box)
    return TextLine(number, score, left, top, right, bottom, least=score)


def number_band_reads(card: np.ndarray, ink_shares: Sequence[float] = ()
                      ) -> Iterator[tuple[str, float, tuple[int, ...]]]:  # fmt: skip
    """The 18 characters of an ID number read off each band where a front prints it
    (with the probability of the least sure one, and the band's box), whether or not
    they pass the check character, one band at a time (lazily). A band
    that reads more or fewer (a card printing 17 or 19) gives none: 18 of 19 digits
    may pass the check character, and are not what the card prints. ``ink_shares``:
    read with the darkest ink only, at each share (``_darkest_ink``), not as printed."""
    for number, least, box in number_band_pieces(card, ink_shares):
        if _ID_RE.fullmatch(number):
            yield number, least, box


def number_band_pieces(card: np.ndarray, ink_shares: Sequence[float] = ()
                       ) -> Iterator[tuple[str, float, tuple[int, ...]]]:  # fmt: skip
    """The run of digits read off each band where a front prints its number, however
    long (``number_band_reads`` keeps those of 18), one band at a time (lazily); as
    printed, or with the darkest ink only at each of ``ink_shares``."""
    from batch_ocr.engines.local import _ocr

    for share in ink_shares or (None,):
        for box, band in _bands(card, NUMBER_BANDS):
            if share is not None:
                band = _darkest_ink(band, share)
            (text, _, least, _), = _ocr.read_lines([band])
            match = _NUMBER_PIECE_RE.search(digits(clean(text)))
            if match:
                yield match.group(), least, box


def _holds_stamp_end(name: str) -> bool:
    """Whether a name read ends as a copy's stamp does (``_front.unstamp_name``), or
    starts with one of its characters."""
    from batch_ocr.engines.local._front import STAMP_TAIL
    from batch_ocr.run.present.stamps import STAMP_GLYPHS

    return len(name) >= 3 and (name.endswith(STAMP_TAIL) or name[0] in STAMP_GLYPHS)


def _no_place(info: Mapping[str, str]) -> bool:
    from batch_ocr import regions

    return not regions.place_prefix(info.get("address", ""))


#: The front's fields a copy's stamp hides or spoils, each read again off its place with
#: its print's darkest ink when what was read of it is wanting, in this order: whether it
#: is (given the fields as read), and the band's read (None: nothing better).
FRONT_REREADS: tuple[tuple[Callable[[Mapping[str, str]], bool],
                           Callable[[np.ndarray, Sequence[TextLine], Parsed], TextLine | None]],
                     ...] = (
    # The address's first line lost.
    (_no_place, lambda card, lines, _: _read_address_band(card, lines)),
    # The nation lost, or read with the stamp's ink (再欲澳 for 汉).
    (lambda info: info.get("nation") not in id_rules.NATIONS,
     lambda card, lines, _: _read_nation_band(card, lines)),
    # The birth date lost or spoiled, where the number (failing its check character, so
    # giving no date itself) holds another.
    (lambda info: bool(_birth_in_number(info)),
     lambda card, lines, parsed: _read_birth_band(card, lines, _birth_in_number(parsed.info))),
    # A stamp's end read into the name (张平晨效, 再次军).
    (lambda info: _holds_stamp_end(info.get("name", "")),
     lambda card, lines, parsed: _read_name_band(card, parsed.info["name"], lines)),
)  # fmt: skip
