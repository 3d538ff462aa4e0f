"""Which outline a phone photo's card is read from."""

from __future__ import annotations

import pytest

np = pytest.importorskip("numpy")
pytest.importorskip("cv2")

from batch_ocr.engines.local._recognise import _frames_the_picture  # noqa: E402


def _quad(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32)


def test_the_pictures_frame_is_no_card_outline() -> None:
    # find_card took a busy desk's edges: the outline runs along the picture's sides.
    assert _frames_the_picture(_quad(24, 0, 1994, 1495), (1499, 1999, 3))
    assert _frames_the_picture(_quad(0, 0, 1999, 1200), (1499, 1999, 3))


def test_a_card_with_desk_around_it_is_one() -> None:
    assert not _frames_the_picture(_quad(300, 200, 1600, 1020), (1499, 1999, 3))
    # A close-up, the card running off two sides only, stays a card.
    assert not _frames_the_picture(_quad(0, 100, 1999, 1350), (1499, 1999, 3))
