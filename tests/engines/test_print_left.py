"""The text lines beside a card that no block of print held (``_print_left``): found as a
detection of the whole photo finds them, and not looked for where the blocks held it all."""

from __future__ import annotations

from typing import Any

import pytest

from tests.skips import needs_local

np = pytest.importorskip("numpy")
cv2 = pytest.importorskip("cv2")

pytestmark = needs_local

DESK = [205, 215, 220]
PHOTO_SHAPE = (1500, 2000, 3)  # a phone photo as the engine reads it
BLOCK = (1300, 150, 1800, 450)  # left, top, right, bottom: a bank card's print, read already


def _photo(*, lines_outside: bool) -> Any:
    """A desk photo with print in ``BLOCK`` and, if ``lines_outside``, five lines of
    print far from it (a card in shadow whose print no block held)."""
    photo = np.full(PHOTO_SHAPE, DESK, np.uint8)
    for row in range(4):
        cv2.putText(photo, f"6225 8801 2345 {row:04d}", (BLOCK[0] + 20, BLOCK[1] + 60 + 60 * row),
                    cv2.FONT_HERSHEY_SIMPLEX, 1.2, (40, 40, 40), 3)  # fmt: skip
    if lines_outside:
        for row in range(5):
            cv2.putText(photo, f"NAME 2021.06.05-2041.06.05 {row}", (250, 800 + 90 * row),
                        cv2.FONT_HERSHEY_SIMPLEX, 1.6, (30, 30, 30), 4)  # fmt: skip
    return photo


def test_print_left_beside_the_blocks_is_found_where_the_whole_photo_shows_it() -> None:
    from batch_ocr.engines.local import _ocr, _second_side
    from batch_ocr.engines.local._print_left import lines_left

    photo = _photo(lines_outside=True)
    found = lines_left(photo, [BLOCK], DESK, _second_side._print_beside, 720)
    painted = photo.copy()
    painted[BLOCK[1] : BLOCK[3], BLOCK[0] : BLOCK[2]] = DESK
    whole = _ocr.detect(painted, long_side_px=720)
    assert len(found) == len(whole) >= 5
    # The same lines, in the photo's pixels (within a fifth of a line's height: the
    # detector rounds a part's size to 32 px as it rounds the photo's).
    centres = sorted((box.mean(axis=0) for box in found), key=lambda xy: xy[1])
    expected = sorted((box.mean(axis=0) for box in whole), key=lambda xy: xy[1])
    assert np.allclose(centres, expected, atol=10)


def test_no_detection_when_the_blocks_held_all_the_print(monkeypatch: pytest.MonkeyPatch) -> None:
    from batch_ocr.engines.local import _ocr, _second_side
    from batch_ocr.engines.local._print_left import lines_left

    detected: list[Any] = []
    monkeypatch.setattr(_ocr, "detect", lambda image, **kwargs: detected.append(image) or [])
    assert lines_left(_photo(lines_outside=False), [BLOCK], DESK,
                      _second_side._print_beside, 720) == []
    assert not detected
