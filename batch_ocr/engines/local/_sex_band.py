"""The sex read again off its place on a rectified front, where a copy's stamp hid it.

A checksummed number gives the sex itself (``_front``); where the number fails its
check (a card that misprints it, a digit under a stamp) a stamp across the sex leaves
the row without one. Its place (right of its label, on the sex row that the labels'
lines place: ``_bands._row_band``) is read with the print's darkest ink alone
(``_bands._inked_reads``), and one of 男 and 女 alone there is the sex. The line is
marked stamped: confirmed by nothing, the field keeps the recogniser's word on it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from batch_ocr.engines.local._bands import (
    ROW_BAND_HALF,
    _inked_reads,
    _row_band,
    _stamped_line,
    label_centre,
)
from batch_ocr.engines.local._rows import TextLine, clean

if TYPE_CHECKING:
    import numpy as np

    from batch_ocr.engines.local._parsed import Parsed

#: Where a front prints the sex, across (shares of the card's width): right of its label,
#: left of the nation's.
SEX_BAND_X = (0.15, 0.30)
#: The two values the field takes.
SEXES = ("男", "女")


def sex_lost(info: Mapping[str, str]) -> bool:
    """Whether the front was read without a sex (a stamp across it)."""
    return info.get("sex") not in SEXES


def read_sex_band(card: np.ndarray, lines: Sequence[TextLine], _: Parsed | None = None
                  ) -> TextLine | None:  # fmt: skip
    """The sex read off its place with its darkest ink only, if exactly one of 男 and 女
    is read there; the line is given as 性别 and the sex, marked stamped."""
    from batch_ocr.engines.local._labels import _SEX_LABEL

    found = _row_band(card, lines, SEX_BAND_X, rows_up=0) or _between_labels(card, lines)
    if found is None:
        return None
    box, band = found
    for read in _inked_reads(band):
        text = clean(read.text).replace(_SEX_LABEL, "")
        seen = [sex for sex in SEXES if sex in text]
        if len(seen) == 1:
            return _stamped_line(_SEX_LABEL + seen[0], read, box)
    return None


def _between_labels(card: np.ndarray, lines: Sequence[TextLine]
                    ) -> tuple[tuple[int, int, int, int], np.ndarray] | None:  # fmt: skip
    """The sex's box and pixels where the stamp took its label too: the row midway
    between the name's label (姓名) and the birth date's (出生), a row's step from each."""
    from batch_ocr.engines.local._labels import _BIRTH_LABEL, _NAME_LABEL

    name_y = label_centre(lines, _NAME_LABEL[0])
    birth_y = label_centre(lines, _BIRTH_LABEL[0])
    if name_y is None or birth_y is None or birth_y <= name_y:
        return None
    step = (birth_y - name_y) / 2
    middle, width = name_y + step, card.shape[1]
    box = (int(SEX_BAND_X[0] * width), max(0, int(middle - ROW_BAND_HALF * step)),
           int(SEX_BAND_X[1] * width), min(card.shape[0], int(middle + ROW_BAND_HALF * step)))
    band = card[box[1] : box[3], box[0] : box[2]]
    return (box, band) if band.size else None
