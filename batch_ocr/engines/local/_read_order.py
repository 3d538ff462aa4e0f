"""Which text lines of a rectified card are recognised first, and which only when the
fields read without them want them.

The recogniser's cost is the width of what it reads (``_ocr.read_lines``), and a card
prints more than its fields: its labels (姓名, 出生, 住址, 签发机关, 有效期限, 公民身份号码)
and a back's title (中华人民共和国 居民身份证) are a third of a back's text. Where the
card's layout places a line among them, it is put off:

- ``put_off``: a back's large title and a front's number label alone in its box, put
  off whatever the side (the fields never need them when the rest reads right);
- ``label_column`` and ``back_only``: on a back, the emblem's place (nothing printed
  to read), its two labels (left of its values, in its lower half) and its title's
  first line (中华人民共和国, at the top right). A front prints its labels and lines of
  its address and birth date there: these are put off only when the text read without
  them is a back's, settled (``settled_back``); on a front they are read with the rest
  (its rows are grouped by the height of all its lines).

``_reading._read`` reads the rest first, then these in steps (``Steps``). A line put
off wrongly costs a second session run and nothing else: read with the rest, the
fields are what they would have been.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from batch_ocr import id_rules, regions
from batch_ocr.engines.local._back import lawful_period
from batch_ocr.engines.local._labels import _PERIOD_RE, _cjk_only, digits
from batch_ocr.engines.local._parsed import Parsed
from batch_ocr.engines.local._rows import Row

if TYPE_CHECKING:
    import numpy as np

#: Right edge of the label column on a rectified front, as a fraction of its width
#: (labels end at ~0.15, values start at ~0.175 on the samples and the specimens).
LABEL_COLUMN_RIGHT = 0.165
#: Rows above this fraction of the height have their label in the label column.
LABELLED_ROWS_BOTTOM = 0.75
#: A box in the top ``TITLE_TOP_SHARE`` of a rectified card, from right of
#: ``TITLE_MIN_LEFT`` to past ``TITLE_MIN_RIGHT`` of its width, this many times taller
#: than the long lines below it is a back's title (中华人民共和国 居民身份证: 1.46-2.3
#: times the authority and period lines, from 0.28-0.32 to 0.65-0.85 of the width on the
#: harness's cards; a front's name and labels start left of 0.15, its nation ends
#: before 0.5).
TITLE_MIN_HEIGHT = 1.4
TITLE_TOP_SHARE = 0.4
TITLE_MIN_LEFT = 0.25
TITLE_MIN_RIGHT = 0.6
#: A box centred below ``NUMBER_LABEL_TOP_SHARE`` of a rectified card's height, from left
#: of ``NUMBER_LABEL_MAX_LEFT`` to no further than ``NUMBER_LABEL_MAX_RIGHT`` of its
#: width, is a front's 公民身份号码 label (0.06-0.29 on the samples and the specimens; the
#: back's 有效期限 starts at 0.23).
NUMBER_LABEL_TOP_SHARE = 0.75
NUMBER_LABEL_MAX_LEFT = 0.15
NUMBER_LABEL_MAX_RIGHT = 0.35
#: A back prints 签发机关 and 有效期限 in its lower half (centred below ``BACK_LABEL_TOP``
#: of its height), from right of ``BACK_LABEL_MIN_LEFT`` to left of
#: ``BACK_LABEL_MAX_RIGHT`` of its width (0.23-0.38 on the samples and the specimens; the
#: values start at 0.39), each a line of four characters (``BACK_LABEL_ASPECT``: its
#: width over its height).
BACK_LABEL_TOP = 0.55
BACK_LABEL_MIN_LEFT = 0.15
BACK_LABEL_MAX_RIGHT = 0.42
BACK_LABEL_ASPECT = (2.5, 6.0)


def _spans(boxes: list[np.ndarray]) -> list[tuple[float, float, float, float]]:
    return [(float(b[:, 0].min()), float(b[:, 0].max()), float(b[:, 1].min()),
             float(b[:, 1].max())) for b in boxes]  # fmt: skip


def put_off(boxes: list[np.ndarray], shape: tuple[int, ...]) -> set[int]:
    """Boxes that hold no field when the rest is read right, by their place on the card.

    A back's title (中华人民共和国 居民身份证): in the top part, from right of the emblem to
    past the middle, much taller than the long text lines below it (the fields' values,
    printed in one type size); a front's name and labels start further left, its nation
    ends further left. A front's 公民身份号码 label alone in its box at the bottom left: the
    number is found by its digits and checked by its check character. A box put off
    wrongly costs nothing but a second call: it is read with the rest when the fields
    are found wanting without it.
    """
    height, width = shape[0], shape[1]
    top = TITLE_TOP_SHARE * height
    spans = _spans(boxes)
    later = {
        i for i, (x0, x1, y0, y1) in enumerate(spans)
        if (y0 + y1) / 2 > NUMBER_LABEL_TOP_SHARE * height
        and x0 < NUMBER_LABEL_MAX_LEFT * width and x1 < NUMBER_LABEL_MAX_RIGHT * width
    }  # fmt: skip
    below = [
        y1 - y0 for x0, x1, y0, y1 in spans if (y0 + y1) / 2 >= top and x1 - x0 > 4 * (y1 - y0)
    ]
    if below:
        tall = TITLE_MIN_HEIGHT * statistics.median(below)
        later |= {
            i for i, (x0, x1, y0, y1) in enumerate(spans)
            if (y0 + y1) / 2 < top and x0 >= TITLE_MIN_LEFT * width
            and x1 >= TITLE_MIN_RIGHT * width and y1 - y0 > tall
        }  # fmt: skip
    return later


def label_column(boxes: list[np.ndarray], shape: tuple[int, ...]) -> set[int]:
    """Boxes centred in a front's label column above its number's row: its labels (kept
    out of every value by ``_rows.group_rows`` all the same), or a back's emblem."""
    height, width = shape[0], shape[1]
    return {i for i, (x0, x1, y0, y1) in enumerate(_spans(boxes))
            if (x0 + x1) / 2 < LABEL_COLUMN_RIGHT * width
            and (y0 + y1) / 2 < LABELLED_ROWS_BOTTOM * height}  # fmt: skip


def back_only(boxes: list[np.ndarray], shape: tuple[int, ...]) -> set[int]:
    """Boxes where a back prints its labels or its title's first line (a front prints
    address or birth-date lines there): put off only when the rest reads as a back."""
    height, width = shape[0], shape[1]
    low, high = BACK_LABEL_ASPECT
    out = set()
    for i, (x0, x1, y0, y1) in enumerate(_spans(boxes)):
        middle = (y0 + y1) / 2
        label = (middle > BACK_LABEL_TOP * height and x0 >= BACK_LABEL_MIN_LEFT * width
                 and x1 <= BACK_LABEL_MAX_RIGHT * width
                 and low <= (x1 - x0) / max(1.0, y1 - y0) <= high)  # fmt: skip
        title = (middle < TITLE_TOP_SHARE * height and x0 >= TITLE_MIN_LEFT * width
                 and x1 >= TITLE_MIN_RIGHT * width)  # fmt: skip
        if label or title:
            out.add(i)
    return out


def settled_back(parsed: Parsed, rows: Sequence[Row]) -> bool:
    """Whether a back read without its places' lines needs nothing more: both fields
    pass their checks, nothing would be read again off its place
    (``_reading._read_lost_fields``), the office starts with its place (a piece of the
    label in the office's own box, 机关天津市公安局…, is found by nothing else), and one
    row only holds Chinese beside the period's (without its label, an office's name
    wrapped onto a second row would be read from one of them)."""
    if parsed.side != "back" or not all(parsed.validity.values()):
        return False
    authority = parsed.info.get("authority", "")
    if not lawful_period(parsed.info.get("timelimit", "")) or not (
            authority.startswith(tuple(id_rules.PROVINCE_NAMES.values()))
            or regions.place_prefix(authority)):  # fmt: skip
        return False
    worded = [row for row in rows
              if _cjk_only(row.text) and not _PERIOD_RE.search(digits(row.text))]  # fmt: skip
    return len(worded) == 1


@dataclass(frozen=True)
class Steps:
    """The boxes of a rectified card in the order they are read: ``first``; then
    ``for_front`` (a back's places and the label column, where a front prints its
    labels and field lines) unless the first read as a settled back; then ``last``
    (``put_off``), when the fields read with all the others are wanting."""

    first: list[int]
    for_front: list[int]
    last: list[int]


def steps(boxes: list[np.ndarray], shape: tuple[int, ...]) -> Steps:
    """The reading order of ``boxes`` on a rectified card of ``shape``."""
    last = put_off(boxes, shape)
    for_front = (back_only(boxes, shape) | label_column(boxes, shape)) - last
    later = last | for_front
    return Steps([i for i in range(len(boxes)) if i not in later], sorted(for_front),
                 sorted(last))  # fmt: skip
