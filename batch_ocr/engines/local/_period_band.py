"""The period of validity read off the place a rectified back prints it.

When the detector lost the period or read it as no lawful one (a stamp's ink across its
digits joins them to the stamp's box, which the recogniser then reads squashed), the
period is read straight off its row, and kept only if it is a lawful period (the end
5, 10 or 20 years after the start, on the same day, or 长期): a stamp's ink seldom
makes one.

Where the card's fixed bands read none, its row is found by its label (有效期限), read
surely on nearly every back: a back cut out by its print (``layout.FoundCard.by_print``)
or a little off its outline holds its rows higher or lower than the card's fixed shares
say (on a copy page, the period's digits lay 5-15 px above ``PERIOD_BANDS``' first
band, which cut them in half, and wholly outside its second).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from batch_ocr.engines.local._checks import LONG_TERM, timelimit_ok
from batch_ocr.engines.local._labels import _PERIOD_LABEL, _PERIOD_RE, digits
from batch_ocr.engines.local._rows import TextLine, clean
from batch_ocr.run.present.checks import validity_period_ok

if TYPE_CHECKING:
    import numpy as np

#: Where a back prints the period of validity (right of its label), as shares of the
#: rectified card (left, top, right, bottom): a generous band, then a tight one (the
#: samples and the specimens).
PERIOD_BANDS = ((0.38, 0.78, 0.92, 0.92), (0.40, 0.80, 0.85, 0.89))
#: The shares of ``_bands._darkest_ink`` a band is read at in turn after as printed: a
#: period's digits a copy's blur thins most; a lawful period is seldom what a stamp's
#: ink makes of one.
PERIOD_INK_SHARES = (0.3, 0.45, 0.6)
#: The row placed by the label reaches this share of the card's height above and below
#: the label's middle (a back's print is ~0.05 of it tall; the rows above and below are
#: ~0.12 away).
LABEL_ROW_HALF = 0.06
#: ... and from the label's right to this share of the card's width.
LABEL_ROW_RIGHT = 0.92
#: The label's first characters: enough to place it (期限 is read apart at times).
_LABEL_HEAD = _PERIOD_LABEL[:2]
#: A period as its band is read: a date's dot may be read as a colon or a full stop too
#: (a stamp's ink across it). Only here, where a lawful period is all that is kept: a
#: row read so by the detector is left to this band's read, surer than that row's.
_BAND_PERIOD_RE = re.compile(_PERIOD_RE.pattern.replace(r"[.．,，·\-]", r"[.．,，·\-:：。]"))


def read_period_band(card: np.ndarray, lines: Sequence[TextLine] = ()) -> TextLine | None:
    """The period of validity read off its place on a rectified back (``PERIOD_BANDS``,
    then its row placed by its label among ``lines``), if it is a lawful one."""
    from batch_ocr.engines.local import _ocr

    # As printed first; then with its darkest ink alone, where a stamp's lighter ink
    # across the digits made them unreadable (a lawful period is kept either way).
    for box, band in _period_bands(card, lines):
        (text, score, least, chars), = _ocr.read_lines([band])
        match = _BAND_PERIOD_RE.search(digits(clean(text)))
        if match is None:
            continue
        start = "".join(match.groups()[0:3])
        end = "".join(match.groups()[3:6]) if match.group(4) else LONG_TERM
        if lawful_period(start, end):
            printed = f"{start[:4]}.{start[4:6]}.{start[6:]}-"
            printed += end if end == LONG_TERM else f"{end[:4]}.{end[4:6]}.{end[6:]}"
            left, top, right, bottom = map(float, box)
            return TextLine(printed, score, left, top, right, bottom, least=least, chars=chars)
    return None


def label_row(card_shape: tuple[int, ...], lines: Sequence[TextLine]
              ) -> tuple[int, int, int, int] | None:  # fmt: skip
    """The box (card pixels) of the period's row right of its label, placed by the
    topmost line starting with the label; None where no such line was read."""
    labels = [ln for ln in lines if clean(ln.text).startswith(_LABEL_HEAD)]
    if not labels:
        return None
    label = min(labels, key=lambda ln: ln.center_y)
    height, width = card_shape[:2]
    reach = LABEL_ROW_HALF * height
    box = (int(label.right), max(0, int(label.center_y - reach)),
           int(LABEL_ROW_RIGHT * width), min(height, int(label.center_y + reach)))  # fmt: skip
    return box if box[2] > box[0] and box[3] > box[1] else None


def _period_bands(card: np.ndarray, lines: Sequence[TextLine]
                  ) -> Iterator[tuple[tuple[int, int, int, int], np.ndarray]]:  # fmt: skip
    """``PERIOD_BANDS``, then the label's row, each as printed and then with its darkest
    ink only at each of ``PERIOD_INK_SHARES`` (lazily): the label's row only where the
    fixed bands read no lawful period (where they do, their read is the one a card cut
    at its outline has always been given)."""
    from batch_ocr.engines.local._bands import _bands, _darkest_ink

    placed = label_row(card.shape, lines)
    for boxes in ([box for box, _ in _bands(card, PERIOD_BANDS)], [placed] if placed else []):
        for share in (None, *PERIOD_INK_SHARES):
            for box in boxes:
                band = card[box[1] : box[3], box[0] : box[2]]
                if band.size:
                    yield box, band if share is None else _darkest_ink(band, share)


def lawful_period(start: str, end: str) -> bool:
    """A period a card can carry: real dates, then 长期 or 5, 10 or 20 years to the day."""
    if not timelimit_ok(f"{start}-{end}"):
        return False
    valid_to = end if end == LONG_TERM else f"{end[:4]}-{end[4:6]}-{end[6:]}"
    return validity_period_ok(f"{start[:4]}-{start[4:6]}-{start[6:]}", valid_to)
