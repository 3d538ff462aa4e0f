"""Which way up a picture's text lines read: the line classifier's vote.

The classifier is RapidOCR's line-orientation model (``_ocr.models``). A card's way up
is a vote over all its lines, weighted by their width (``upside_down``); each line's own
(``line_turns``) parts the lines of two cards touching (``_text_groups.by_direction``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from batch_ocr.engines.local._ocr import CLS_VOTE_MIN_SCORE, models

if TYPE_CHECKING:
    import numpy as np


def upside_down(crops: list[np.ndarray]) -> bool:
    """Whether the line classifier's width-weighted vote says the lines are upside down
    (lines it is less sure of than ``CLS_VOTE_MIN_SCORE`` do not vote).

    The widest lines are classified first, a batch at a time, and the vote stops once
    the lines not yet classified weigh less than the lead: they could not overturn it.
    The answer is the whole vote's; a card's long lines (its address, its number) carry
    it, and its short labels are not classified (0.7 s of 22 on 32 copy pages).
    """
    if not crops:
        return False
    weights = [crop.shape[1] / max(1, crop.shape[0]) for crop in crops]
    widest_first = sorted(range(len(crops)), key=lambda index: -weights[index])
    unclassified = sum(weights)
    upright = flipped = 0.0
    batch = max(1, int(models().cls.cls_batch_num))
    for start in range(0, len(widest_first), batch):
        if abs(upright - flipped) > unclassified:
            break
        indices = widest_first[start : start + batch]
        for index, turned in zip(indices, line_turns([crops[i] for i in indices]),
                                 strict=True):  # fmt: skip
            unclassified -= weights[index]
            if turned is True:
                flipped += weights[index]
            elif turned is False:
                upright += weights[index]
    return flipped > upright


def line_turns(crops: list[np.ndarray]) -> list[bool | None]:
    """Each line's way up by the classifier: True upside down, False upright, None where
    it is less sure than ``CLS_VOTE_MIN_SCORE``."""
    if not crops:
        return []
    result = models().cls(crops)
    return [None if score < CLS_VOTE_MIN_SCORE else "180" in label
            for label, score in result.cls_res]
