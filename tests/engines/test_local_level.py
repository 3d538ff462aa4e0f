"""Text boxes levelled before rows are grouped: one slope per card laid on the glass."""

from __future__ import annotations

import math

import pytest

np = pytest.importorskip("numpy")
pytest.importorskip("cv2")

from batch_ocr.engines.local._level import levellers  # noqa: E402
from batch_ocr.engines.local._rows import TextLine, group_rows  # noqa: E402


def _sloping_rows(left: float, top: float, count: int, angle_deg: float,
                  *, length: float = 400, height: float = 20) -> list:  # fmt: skip
    """``count`` text boxes one under the other (a line height apart), each sloping by
    ``angle_deg`` about its left end; corners clockwise from the top left."""
    dx, dy = math.cos(math.radians(angle_deg)), math.sin(math.radians(angle_deg))
    boxes = []
    for i in range(count):
        x, y = left, top + i * 2 * height
        corners = [(x, y), (x + length * dx, y + length * dy),
                   (x + length * dx - height * dy, y + length * dy + height * dx),
                   (x - height * dy, y + height * dx)]  # fmt: skip
        boxes.append(np.array(corners, np.float32))
    return boxes


def _rows(boxes: list, shape: tuple[int, ...]) -> list[str]:
    """The rows ``group_rows`` makes of ``boxes`` levelled, each box's text its index."""
    lines = []
    for i, (box, turn) in enumerate(zip(boxes, levellers(boxes, shape), strict=True)):
        points = box if turn is None else box @ turn[:, :2].T + turn[:, 2]
        lines.append(TextLine(f"<{i}>", 1.0, float(points[:, 0].min()),
                              float(points[:, 1].min()), float(points[:, 0].max()),
                              float(points[:, 1].max())))  # fmt: skip
    return [row.text for row in group_rows(lines)]


def test_two_cards_laid_at_opposite_slopes_keep_each_row_apart() -> None:
    front = _sloping_rows(100, 100, 5, +4.0)
    back = _sloping_rows(100, 900, 3, -4.0)
    assert _rows(front + back, (1400, 1000, 3)) == [f"<{i}>" for i in range(8)]


def test_each_cards_boxes_are_levelled_by_its_own_slope() -> None:
    """Levelled by one slope (the median of both cards'), the front would be left at
    8°, its long boxes three lines high."""
    front = _sloping_rows(100, 100, 5, +4.0)
    back = _sloping_rows(100, 900, 6, -4.0)
    boxes = front + back
    for box, turn in zip(boxes, levellers(boxes, (1400, 1000, 3)), strict=True):
        assert turn is not None
        points = box @ turn[:, :2].T + turn[:, 2]
        assert points[:, 1].max() - points[:, 1].min() < 21


def test_a_stamp_pressed_at_an_angle_across_one_card_is_no_second_card() -> None:
    rows = _sloping_rows(100, 100, 6, +3.0)
    stamps = _sloping_rows(150, 130, 2, -20.0, length=300, height=40)
    turns = levellers(rows + stamps, (800, 800, 3))
    assert all(turn is not None and np.allclose(turn, turns[0]) for turn in turns)


def test_level_text_is_left_as_it_lies() -> None:
    assert levellers(_sloping_rows(100, 100, 4, 0.3), (800, 800, 3)) == [None] * 4
