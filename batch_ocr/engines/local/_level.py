"""Text boxes levelled before they are grouped into rows.

Rows are grouped by height (``_rows.group_rows``): on a card photographed at 10° a long
row's ends differ in height by more than a line, so its boxes are levelled first. A copy
page whose front and back were each laid on the glass at its own tilt (+4° and -4°) has
two slopes: each card's boxes are levelled by their own, as one slope for both would
leave each card tilted by the other's and its rows run together.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

#: Text sloping by less than this is level enough to group as it lies.
MIN_TILT_DEG = 1.0
#: Two groups of text whose slopes differ by more than this, lying apart (one above the
#: other, or side by side), are two cards laid differently; within one card the long
#: boxes' slopes agree within a degree.
APART_TILT_DEG = 2.0
#: A group holds at least this many long boxes: one stamp pressed at an angle is no card.
MIN_GROUP_BOXES = 2


def text_angle(boxes: list[np.ndarray]) -> float:
    """Median slope of the long text boxes, in degrees (0 when level)."""
    import numpy as np

    slopes = [angle for _, angle in _slopes(boxes)]
    return float(np.median(slopes)) if slopes else 0.0


def levellers(boxes: list[np.ndarray], shape: tuple[int, ...]) -> list[np.ndarray | None]:
    """For each box, the 2x3 rotation that levels it (None: level already).

    One slope: every box turned about the picture's centre by the long boxes' median
    slope. Two cards lying apart at slopes ``APART_TILT_DEG`` apart: each card's boxes
    about their own centre by their own slope."""
    import numpy as np

    slopes = _slopes(boxes)
    split = _split(boxes, slopes)
    if split is None:
        angle = text_angle(boxes)
        whole = None if abs(angle) < MIN_TILT_DEG else rotation(angle, (shape[1] / 2, shape[0] / 2))
        return [whole] * len(boxes)
    axis, at = split
    sides = [int(float(np.mean(box[:, axis])) > at) for box in boxes]
    turns: list[np.ndarray | None] = []
    for side in (0, 1):
        members = [box for box, s in zip(boxes, sides, strict=True) if s == side]
        angle = float(np.median([a for i, a in slopes if sides[i] == side]))
        centre = np.mean([box.mean(axis=0) for box in members], axis=0)
        turns.append(None if abs(angle) < MIN_TILT_DEG else rotation(angle, tuple(centre)))
    return [turns[side] for side in sides]


def rotation(angle_deg: float, centre: tuple[float, float]) -> np.ndarray:
    """A 2x3 rotation about ``centre`` that levels text sloping by ``angle_deg``."""
    import cv2
    import numpy as np

    matrix: np.ndarray = cv2.getRotationMatrix2D(centre, angle_deg, 1.0).astype(np.float32)
    return matrix


def turned(image: np.ndarray, boxes: list[np.ndarray], matrix: np.ndarray
           ) -> tuple[np.ndarray, list[np.ndarray]]:  # fmt: skip
    """``image`` and its text ``boxes`` turned by the 2x3 ``matrix`` (``rotation``), the
    corners it uncovers filled with the paper's white."""
    import cv2

    height, width = image.shape[:2]
    out = cv2.warpAffine(image, matrix, (width, height), flags=cv2.INTER_LINEAR,
                         borderValue=(255, 255, 255))  # fmt: skip
    return out, [box @ matrix[:, :2].T + matrix[:, 2] for box in boxes]


def _slopes(boxes: list[np.ndarray]) -> list[tuple[int, float]]:
    """The slope in degrees of each long box (much wider than high), with its index."""
    import numpy as np

    found = []
    for i, box in enumerate(boxes):
        dx, dy = box[1] - box[0]
        if abs(dx) > 2 * np.hypot(*(box[3] - box[0])):
            found.append((i, float(np.degrees(np.arctan2(dy, dx)))))
    return found


def _split(boxes: list[np.ndarray], slopes: list[tuple[int, float]]) -> tuple[int, float] | None:
    """Where two cards at different slopes part: (0 for x or 1 for y, the coordinate
    between them), or None when the long boxes make one slope or their groups overlap
    (a stamp pressed at an angle across a card's text)."""
    ordered = sorted(slopes, key=lambda pair: pair[1])
    gaps = [b[1] - a[1] for a, b in zip(ordered, ordered[1:], strict=False)]
    if not gaps or max(gaps) <= APART_TILT_DEG:
        return None
    cut = gaps.index(max(gaps)) + 1
    low, high = ordered[:cut], ordered[cut:]
    if min(len(low), len(high)) < MIN_GROUP_BOXES:
        return None
    for axis in (1, 0):
        # Each group's extent, its boxes' corners: a stamp lies across the text it
        # crosses, two cards' text lies apart.
        extents = sorted(
            (float(min(boxes[i][:, axis].min() for i, _ in group)),
             float(max(boxes[i][:, axis].max() for i, _ in group)))
            for group in (low, high)
        )  # fmt: skip
        if extents[0][1] < extents[1][0]:
            return axis, (extents[0][1] + extents[1][0]) / 2
    return None
