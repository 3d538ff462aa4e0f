"""Recognised text lines and the rows they form, in reading order.

Pure Python (no numpy, no models). The input is what the OCR read on a card already
turned upright: text lines with their boxes in card pixels. ``group_rows`` joins the
lines that sit side by side into rows, top to bottom, each cleaned (``clean``) the way
the field parsers expect.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from batch_ocr.engines.local._labels import (
    _ADDRESS_LABEL,
    _BIRTH_LABEL,
    _NAME_LABEL,
    _NATION_LABEL,
    _NUMBER_LABELS,
    _SEX_LABEL,
)
from batch_ocr.engines.local._variants import simplified

#: Everything the OCR may use for the middle dot of transliterated names.
_DOTS = "·•・‧∙⋅●.。、°"


@dataclass(frozen=True, slots=True)
class TextLine:
    """One recognised line: its text, confidence and box (card pixels, y down)."""

    text: str
    score: float
    left: float
    top: float
    right: float
    bottom: float
    #: The probability of its least sure character (``_ocr.LineRead.least``); None:
    #: the score's.
    least: float | None = None
    #: A stamp or watermark was cut out of it (``stamps.strip_stamps_of_lines``): the
    #: characters under the stamp are less sure than the recogniser says.
    stamped: bool = False
    #: Each character read, with its probability (``_ocr.LineRead.chars``).
    chars: tuple[tuple[str, float], ...] = ()

    @property
    def least_sure(self) -> float:
        """``least``, or the line's score when the recogniser did not say."""
        return self.score if self.least is None else self.least

    @property
    def center_y(self) -> float:
        """Vertical centre of the box."""
        return (self.top + self.bottom) / 2

    @property
    def height(self) -> float:
        """Box height."""
        return self.bottom - self.top


@dataclass(frozen=True, slots=True)
class Row:
    """Lines that sit side by side, joined left to right.

    ``value_text`` leaves out lines that lie mostly in the label column of a rectified
    card (a label the recogniser misread cannot then leak into the value).
    """

    text: str
    value_text: str
    top: float
    bottom: float
    left: float
    right: float
    #: The recogniser's least confidence among the lines of ``value_text``.
    score: float = 1.0
    #: The least sure character's probability among those lines (``TextLine.least``).
    least: float = 1.0
    #: A stamp was cut out of one of those lines.
    stamped: bool = False
    #: Their characters with their probabilities (``TextLine.chars``).
    chars: tuple[tuple[str, float], ...] = ()
    #: Another card's text was cut off it (``_front._without_back_words``): what that
    #: text covered is not known.
    overlapped: bool = False


#: The labels a front prints in its label column.
_COLUMN_LABELS = (_NAME_LABEL, _SEX_LABEL, _NATION_LABEL, _BIRTH_LABEL, _ADDRESS_LABEL,
                  _NUMBER_LABELS[0])  # fmt: skip
_HAN_RE = re.compile(r"[\u4e00-\u9fff]")


def _value_alone(row: Sequence[TextLine]) -> bool:
    """Whether a row all of whose lines lie in the label column is a value's line: Chinese
    that names no label, beside which no value lies (a labels' row always has one). The
    last line of an address may hold one or two characters only (``室``), set at the
    value column's start: its middle then lies left of the column's edge."""
    text = "".join(clean(ln.text) for ln in row)
    return bool(_HAN_RE.search(text)) and not any(
        ch in label for label in _COLUMN_LABELS for ch in text)


#: Texts ``clean`` remembers: a card's lines are cleaned again at each parse of its
#: rows (a reading parses them up to five times), a few hundred texts a card.
CLEANED_TEXTS = 4096


@functools.lru_cache(maxsize=CLEANED_TEXTS)
def clean(text: str) -> str:
    """NFKC (full-width digits and letters to ASCII), no spaces, one kind of middle dot.

    Traditional and Japanese forms the recogniser sometimes gives for characters cards
    print simplified (漢 for 汉) are turned back (``_variants``). A pure function of the
    text, remembered (``CLEANED_TEXTS``): 15,000 calls over 32 copy pages.
    """
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"\s+", "", text)
    text = simplified(text)
    return "".join("·" if ch in _DOTS else ch for ch in text)


def group_rows(lines: Sequence[TextLine], *, label_column_right: float | None = None) -> list[Row]:
    """Group lines whose vertical centres are close into rows, top to bottom.

    With ``label_column_right`` (x where values start on a rectified front), a line
    centred left of it is a label (or another script's label) and is kept out of
    ``value_text``; a label glued to its value is cut apart before (``_split_labels``).
    """
    rows: list[list[TextLine]] = []
    heights = sorted(ln.height for ln in lines)
    # A box much taller than a line (a stamp pressed across two rows) would join them.
    tallest = 1.5 * heights[len(heights) // 2] if heights else 0.0
    for line in sorted(lines, key=lambda ln: ln.center_y):
        if not clean(line.text):
            continue
        if rows:
            last = rows[-1]
            row_center = sum(ln.center_y for ln in last) / len(last)
            row_height = min(max(ln.height for ln in last), tallest)
            # Labels are smaller than values and sit a little lower: half a line of slack.
            if abs(line.center_y - row_center) < 0.5 * max(row_height, min(line.height, tallest)):
                last.append(line)
                continue
        rows.append([line])
    out = []
    for row in rows:
        row.sort(key=lambda ln: ln.left)
        values = [
            ln for ln in row
            if label_column_right is None or (ln.left + ln.right) / 2 > label_column_right
        ]  # fmt: skip
        if not values and _value_alone(row):
            values = row
        out.append(
            Row(
                text="".join(clean(ln.text) for ln in row),
                value_text="".join(clean(ln.text) for ln in values),
                top=min(ln.top for ln in row),
                bottom=max(ln.bottom for ln in row),
                left=min(ln.left for ln in row),
                right=max(ln.right for ln in row),
                score=min(ln.score for ln in (values or row)),
                least=min(ln.least_sure for ln in (values or row)),
                stamped=any(ln.stamped for ln in (values or row)),
                chars=tuple(pair for ln in (values or row) for pair in ln.chars),
            )
        )
    return out
