"""From recognised text lines to the provider's ``info`` and ``validity`` objects.

Pure Python (no numpy, no models), so the parsing rules are tested on strings alone.
The input is what the OCR read on a card already turned upright: text lines with their
boxes in card pixels. Lines are grouped into rows, labels are found even when the OCR
merges them with the value (``姓名李小红``) or misreads one of their characters, and each
value is normalised to what the API engine returns (``API_CONTRACT.md``, "Response").

Here the side is decided; the steps live apart: ``_rows`` (lines into rows),
``_labels`` (labels and digits in a row's text), ``_front`` and ``_back`` (each side's
fields), ``_parsed`` (the result's shape).
"""

from __future__ import annotations

from collections.abc import Sequence

from batch_ocr.engines.local._back import parse_back
from batch_ocr.engines.local._front import parse_front
from batch_ocr.engines.local._labels import (
    _ADDRESS_LABEL,
    _AUTHORITY_LABEL,
    _BACK_TITLES,
    _BIRTH_LABEL,
    _LONG_DIGITS_RE,
    _NAME_LABEL,
    _NATION_LABEL,
    _NUMBER_LABELS,
    _PERIOD_LABEL,
    _PERIOD_RE,
    _SEX_LABEL,
    date_shaped,
    digits,
    find_label,
)
from batch_ocr.engines.local._parsed import FRONT_VALIDITY_KEYS, Parsed
from batch_ocr.engines.local._rows import Row
from batch_ocr.id_rules import PROVINCE_NAMES


def side_scores(rows: Sequence[Row]) -> tuple[int, int]:
    """How much the text looks like a front and like a back."""
    texts = [r.text for r in rows]
    joined = "".join(texts)
    front = sum(
        1
        for label in (_NAME_LABEL, _SEX_LABEL, _NATION_LABEL, _BIRTH_LABEL, _ADDRESS_LABEL)
        if label in joined
    )
    front += any(find_label(t, _NUMBER_LABELS[0]) is not None for t in texts)
    # A run of digits as long as the number's weighs twice where it is shaped like one: a
    # bank card's, or a back's period read without its dots, seldom is.
    runs = [run for t in texts for run in _LONG_DIGITS_RE.findall(digits(t))]
    front += 2 if any(map(_id_shaped, runs)) else int(bool(runs))
    back = sum(find_label(joined, t) is not None for t in _BACK_TITLES)
    back += any(find_label(t, _AUTHORITY_LABEL) is not None for t in texts)
    back += any(find_label(t, _PERIOD_LABEL) is not None for t in texts)
    periods = [match.groups()[:3] for t in texts for match in _PERIOD_RE.finditer(digits(t))]
    back += 2 if any(date_shaped(*start) for start in periods) else int(bool(periods))
    return front, back


def _id_shaped(run: str) -> bool:
    """Whether a run of 15 or more digits starts as an ID number does: a province's code,
    four more digits of its region, then a birth date (``date_shaped``)."""
    return run[:2] in PROVINCE_NAMES and date_shaped(run[6:10], run[10:12], run[12:14])


def parse(rows: Sequence[Row]) -> Parsed:
    """Decide the side and read its fields; a picture with no card text is ``none``."""
    front, back = side_scores(rows)
    if max(front, back) < 2:
        return Parsed(side="none", validity=dict.fromkeys(FRONT_VALIDITY_KEYS, False))
    return parse_front(rows) if front >= back else parse_back(rows)
