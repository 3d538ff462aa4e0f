"""A second look at the rows of a card the recogniser was unsure of.

The recogniser's probability of a character is one look's: on a copy, a character read
right at 0.44 (解 of 解放路, blurred) is read at 0.997 on the same row with the print's
darkest ink alone. A row read again that way, as a whole giving the very same text, is
evidence the first reading was right: two looks at differently kept ink seldom make the
same misread of every character, and the second must be sure of each (two unsure looks
agree on a misread: 昊秀 for 吴秀, 厦内市 for 厦门市). Each of its characters is then as
sure as the surer of its two reads, and the card's fields are weighed again
(``_confidence``: a field's own rule, its checks, a stamp across it, a line lost all
weigh as before; only the recogniser's word changes). A row read otherwise keeps its
first probabilities, and its field stays as doubtful as it was. The card's text itself
never changes.

Only a side cut out edge to edge (the rows' boxes are the card's) that holds a field
passing its rule at a confidence under ``DOUBTED_BELOW`` is looked at again, and only
its rows the recogniser was unsure of, at most ``MOST_ROWS`` of them: a row costs one
or two more recognitions.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING

from batch_ocr.engines.local._labels import (
    _ADDRESS_LABEL,
    _AUTHORITY_LABEL,
    _BIRTH_LABEL,
    _NAME_LABEL,
    _NATION_LABEL,
    _PERIOD_LABEL,
    _SEX_LABEL,
)
from batch_ocr.engines.local._rows import Row, clean
from batch_ocr.run.present.review import LOW_CONFIDENCE_BELOW

if TYPE_CHECKING:
    import numpy as np

    from batch_ocr.engines.local._ocr import LineRead
    from batch_ocr.engines.local._reading import _Reading

#: A row whose least sure character is under this is looked at again: the review
#: signal's own bar (a field over it is not doubted for the recogniser's word).
DOUBTED_BELOW = LOW_CONFIDENCE_BELOW
#: The most rows of one side looked at again.
MOST_ROWS = 3
#: The darkest ink kept on the second look (``_bands._darkest_ink``): what a copy's
#: blur and a stamp's lighter ink leave of the print, at two cuts.
SECOND_LOOK_INK_SHARES = (0.45, 0.6)
#: What a row may hold before its value, read or not on one of the two looks.
_LABELS = frozenset({"", _NAME_LABEL, _SEX_LABEL, _NATION_LABEL, _BIRTH_LABEL,
                     _ADDRESS_LABEL, _AUTHORITY_LABEL, _PERIOD_LABEL})  # fmt: skip


def surer(reading: _Reading) -> _Reading:
    """``reading`` with its doubted rows' characters as sure as a second look that read
    them alike makes them, and its fields weighed again; as it is when no second look
    agreed, or when the fields would then read otherwise."""
    from batch_ocr.engines.local._fields import parse

    parsed = reading.parsed
    if not reading.card_frame or parsed.side not in ("front", "back"):
        return reading
    if not any(parsed.validity.get(key) and score < DOUBTED_BELOW
               for key, score in parsed.confidence.items()):  # fmt: skip
        return reading  # every field surely read already, or doubted for its rule
    doubted = [i for i, row in enumerate(reading.rows)
               if row.chars and row.least < DOUBTED_BELOW][:MOST_ROWS]  # fmt: skip
    rows = list(reading.rows)
    for i in doubted:
        rows[i] = _looked_again(reading.upright, rows[i])
    if rows == reading.rows:
        return reading
    again = parse(rows)
    if again.info != parsed.info or again.validity != parsed.validity:
        return reading
    return dataclasses.replace(reading, parsed=again, rows=rows)


def _looked_again(card: np.ndarray, row: Row) -> Row:
    """``row`` with each character as sure as the surer of its two reads, when a read of
    its box with the darkest ink alone gives the same text (``_alike``) and is sure of
    every character of it (a second look unsure of 昊 of 昊秀, for 吴秀, read it alike
    at 0.54); else as it is."""
    from batch_ocr.engines.local import _ocr
    from batch_ocr.engines.local._bands import _darkest_ink

    top, bottom = max(0, int(row.top)), int(row.bottom) + 1
    left, right = max(0, int(row.left)), int(row.right) + 1
    crop = card[top:bottom, left:right]
    if crop.size == 0:
        return row
    value = set(clean(row.value_text))
    for share in SECOND_LOOK_INK_SHARES:
        (read,) = _ocr.read_lines([_darkest_ink(crop, share)])
        sure = all(p >= DOUBTED_BELOW for char, p in read.chars if char in value)
        if sure and _alike(row, read):
            return _surer_chars(row, read.chars)
    return row


def _alike(row: Row, read: LineRead) -> bool:
    """Whether ``read`` gives ``row``'s text: the same characters, a label before them
    read on one look and not the other aside."""
    first, second = clean(row.value_text), clean(read.text)
    if not first or not second:
        return False
    longer, shorter = (first, second) if len(first) >= len(second) else (second, first)
    return longer.endswith(shorter) and longer[: len(longer) - len(shorter)] in _LABELS


def _surer_chars(row: Row, second: Sequence[tuple[str, float]]) -> Row:
    """``row`` with each character's probability the greater of its own and the least
    the second look gave that character."""
    again: dict[str, float] = {}
    for char, p in second:
        again[char] = min(p, again.get(char, p))
    chars = tuple((char, max(p, again.get(char, p))) for char, p in row.chars)
    least = min((p for _, p in chars), default=row.least)
    return dataclasses.replace(row, chars=chars, least=least)
