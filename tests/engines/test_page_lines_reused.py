"""The other side of a page read whole is read from the lines the page's detection found
there, not detected again, when that detection saw the page at the scale asked."""

from __future__ import annotations

import pytest

np = pytest.importorskip("numpy")
pytest.importorskip("cv2")

from batch_ocr.engines.local._parsed import Parsed  # noqa: E402
from batch_ocr.engines.local._reading import _Reading  # noqa: E402
from batch_ocr.engines.local._second_side import _lines_within  # noqa: E402


def _box(left: float, top: float) -> object:
    return np.array([[left, top], [left + 300, top], [left + 300, top + 30],
                     [left, top + 30]], np.float32)  # fmt: skip


def _page_reading(det_scale: float) -> _Reading:
    upright = np.zeros((2000, 1414, 3), np.uint8)
    boxes = [_box(100, 200), _box(100, 300), _box(100, 1300), _box(100, 1400)]
    return _Reading(Parsed(side="front"), upright, False, boxes=boxes, det_scale=det_scale)


def test_the_lines_below_the_side_read_are_placed_in_the_band() -> None:
    lines = _lines_within(_page_reading(1.0), 1.0, (1000, 2000), 1414, 1414)
    assert lines is not None
    assert [float(line[0, 1]) for line in lines] == [300.0, 400.0]


def test_lines_detected_at_another_scale_are_detected_again() -> None:
    # The page was read at 1,280 px and detected at 720: the band at full size is not.
    assert _lines_within(_page_reading(0.5625), 1.5625, (1000, 2000), 1414, 1414) is None
