"""A glance at a part of a photo: does any of its longest lines show an ID side's text?

Beside the card read on a phone photo lie other things with print on them: a sheet of
a form, a bank card, a receipt. Reading such a part in full (``_reading._read``)
classifies and recognises every line on it, a dozen on a sheet of print. Its longest
lines are read first, alone: an ID side's longest lines hold its labels, title, number
or period (the front's 公民身份号码 and number, its address behind 住址; the back's
中华人民共和国 / 居民身份证 and 有效期限 with its dates), and a part none of whose longest
lines shows any of them is read no further.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from batch_ocr.engines.local._labels import _LONG_DIGITS_RE, digits, find_label

if TYPE_CHECKING:
    import numpy as np

#: How many of a part's longest lines are read at a glance: a back's period and title
#: are among its four longest, a front's number and address too, but on a photo a label
#: may be detected apart from its value, and a number that fails its rule shows no
#: birth date: its six longest lines hold two of its labels.
GLANCE_LINES = 6
#: Labels and titles matched with one character misread (``find_label``) ...
LONG_MARKS = ("公民身份号码", "签发机关", "有效期限", "中华人民共和国", "居民身份证")
#: ... and the front's two-character labels, matched exactly only (one wrong character of
#: two is no match at all), two of them at least: a form asks for a 姓名 too.
SHORT_MARKS = ("姓名", "性别", "民族", "出生", "住址")


def shows_id_text(image: np.ndarray, boxes: Sequence[np.ndarray]) -> bool:
    """Whether the ``GLANCE_LINES`` longest of ``boxes`` (text lines on ``image``) hold an
    ID side's long label or title, ID number or period, or two of a front's short labels,
    each line read the way up the line classifier gives."""
    import numpy as np

    from batch_ocr.engines.local import _ocr

    def length(box: np.ndarray) -> float:
        return max(float(np.linalg.norm(box[1] - box[0])), float(np.linalg.norm(box[3] - box[0])))

    longest = sorted(boxes, key=length, reverse=True)[:GLANCE_LINES]
    if not longest:
        return False
    crops = [_ocr.crop_line(image, box) for box in longest]
    ways = _ocr.models().cls(crops).cls_res
    crops = [_ocr.rotate_image(crop, 2) if "180" in label and score >= _ocr.CLS_VOTE_MIN_SCORE
             else crop for crop, (label, score) in zip(crops, ways, strict=True)]  # fmt: skip
    texts = [line.text.replace(" ", "") for line in _ocr.read_lines(crops)]
    if any(strong_id_text(text) for text in texts):
        return True
    # A form beside the card asks for a 姓名 too: two of a front's labels at least.
    return sum(any(mark in text for text in texts) for mark in SHORT_MARKS) >= 2


def strong_id_text(text: str) -> bool:
    """Whether one line of text holds an ID side's long label or title, an ID number (not
    a bank card's) or a period of validity (one character misread in a label)."""
    seen = digits(text)
    if _PERIOD_GLANCE_RE.search(seen) or any(
            _ID_NUMBER_RE.fullmatch(run) for run in _LONG_DIGITS_RE.findall(seen)):  # fmt: skip
        return True
    return any(find_label(text, mark) is not None for mark in LONG_MARKS)


#: An ID number as printed, 17 to 19 characters (one dropped or doubled), with a birth
#: year and month where the number holds them; a bank card's number has none there.
_ID_NUMBER_RE = re.compile(r"\d{6}(18|19|20)\d\d(0[1-9]|1[0-2])[\dX]{5,7}")
#: A period of validity's start (a year and a month) and the start of its end (a year,
#: or 长期): sixteen digits of a bank card's number hold no such dates.
_PERIOD_GLANCE_RE = re.compile(
    r"(19|20)\d\d\D?(0[1-9]|1[0-2])\D?\d\d[^\d长]{0,3}((19|20)\d\d|长)")
