"""The groups a picture's text lines make: each card's print apart from another's.

On a photo read without a card frame, two cards on a desk (or a card and a sheet of
print) leave their text lines in groups apart (``text_groups``); two cards touching
leave one group whose lines run each its own card's way (``by_direction``). Where each
group is read, and what it gives, is ``_second_side``'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


#: Text boxes are grown by this many of their own heights on every side, and those that
#: then touch are one card's print: a card's rows lie within four line heights of each
#: other; two cards on a desk, or a card and a sheet of small print, lie further apart.
TEXT_GROUP_GROW_LINES = 2.0
#: A group of text boxes may be a card's side when it holds at least this many lines (a
#: back's title and period, a front whose glare hid most of it) ...
MIN_GROUP_LINES = 2
#: ... and at most this many groups, largest first, are read on their own.
MAX_GROUPS_READ = 4
#: Each group is read with this share of its sides around it (the card's edge beyond
#: its print).
GROUP_MARGIN_SHARE = 0.12


def text_groups(boxes: Sequence[np.ndarray], shape: tuple[int, ...]
                ) -> list[tuple[int, int, int, int]]:  # fmt: skip
    """Boxes (left, top, right, bottom) around each group of text lines lying apart
    from the others (``TEXT_GROUP_GROW_LINES``), largest group (in lines) first;
    groups of fewer than ``MIN_GROUP_LINES`` lines left out."""
    return [bounds(group) for group in line_groups(boxes, shape)]


def bounds(group: Sequence[np.ndarray]) -> tuple[int, int, int, int]:
    import numpy as np

    points = np.concatenate(group)
    (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
    return int(x0), int(y0), int(x1), int(y1)


def line_groups(boxes: Sequence[np.ndarray], shape: tuple[int, ...]
                 ) -> list[list[np.ndarray]]:  # fmt: skip
    """The text lines of ``text_groups``, group by group."""
    import cv2
    import numpy as np

    mask = np.zeros(shape[:2], np.uint8)
    for box in boxes:
        along, across = box[1] - box[0], box[3] - box[0]
        long, short = float(np.linalg.norm(along)), float(np.linalg.norm(across))
        if long <= 0 or short <= 0:
            continue
        grow = TEXT_GROUP_GROW_LINES * min(long, short)
        u, v = along * grow / long, across * grow / short
        grown = np.array([box[0] - u - v, box[1] + u - v, box[2] + u + v, box[3] - u + v])
        cv2.fillConvexPoly(mask, grown.round().astype(np.int32), 255)
    _, labels = cv2.connectedComponents(mask)
    members: dict[int, list[np.ndarray]] = {}
    for box in boxes:
        x, y = box.mean(axis=0).round().astype(int)
        label = int(labels[min(max(y, 0), shape[0] - 1), min(max(x, 0), shape[1] - 1)])
        members.setdefault(label, []).append(box)
    groups = sorted((group for label, group in members.items() if label),
                    key=len, reverse=True)  # fmt: skip
    return [group for group in groups if len(group) >= MIN_GROUP_LINES]


def by_direction(image: np.ndarray, boxes: Sequence[np.ndarray]) -> list[list[np.ndarray]]:
    """``boxes`` (text lines on ``image``) parted by the way their text runs: across and
    upright, across and upside down, up or down the picture; parts of fewer than
    ``MIN_GROUP_LINES`` lines left out. Two cards touching on a desk, each its own way
    up, make one group of lines, which this parts."""
    from batch_ocr.engines.local import _ocr
    from batch_ocr.engines.local._orientation import line_turns
    from batch_ocr.engines.local._reading import _is_tall

    tall = [box for box in boxes if _is_tall(box)]
    across = [box for box in boxes if not _is_tall(box)]
    turns = line_turns([_ocr.crop_line(image, box) for box in across])
    upright = [box for box, turned in zip(across, turns, strict=True) if turned is False]
    flipped = [box for box, turned in zip(across, turns, strict=True) if turned is True]
    return [part for part in (upright, flipped, tall) if len(part) >= MIN_GROUP_LINES]
