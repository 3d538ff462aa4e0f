"""Looks not taken twice: the other side of a page read whole is read from the lines the
page's detection found there when it saw the page at the scale asked; a card whose birth
date and number fail alike, read the same in both places, is not looked at again."""

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


def _front(year: str, month: str, day: str, number: str, doubtful: tuple[str, ...]) -> _Reading:
    from batch_ocr.engines.local._parsed import FRONT_VALIDITY_KEYS

    info = {"name": "张敏", "sex": "男", "nation": "水", "year": year, "month": month,
            "day": day, "address": "广东省广州市天河区解放路264号", "number": number}  # fmt: skip
    validity = {key: key not in doubtful for key in FRONT_VALIDITY_KEYS}
    card = np.zeros((540, 856, 3), np.uint8)
    return _Reading(Parsed(side="front", info=info, validity=validity), card, True)


def test_a_date_that_does_not_exist_read_alike_twice_is_not_looked_at_again() -> None:
    from batch_ocr.engines.local._reading import _date_as_printed

    # 31 April printed on the card and in its number: both fail, both read the same.
    printed = _front("1985", "4", "31", "440106198504315317", ("birthday", "number"))
    assert _date_as_printed(printed)
    # The date read differs from the number's, or something else failed: look again.
    assert not _date_as_printed(_front("1985", "4", "30", "440106198504315317",
                                       ("birthday", "number")))  # fmt: skip
    assert not _date_as_printed(_front("1985", "4", "31", "44010619850431531",
                                       ("birthday", "number")))  # fmt: skip
    assert not _date_as_printed(_front("1985", "4", "31", "440106198504315317",
                                       ("birthday", "number", "address")))  # fmt: skip


def _page_of_lines(line_height: float) -> _Reading:
    boxes = [np.array([[100, top], [500, top], [500, top + line_height], [100, top + line_height]],
                      np.float32) for top in (200, 300, 400)]  # fmt: skip
    upright = np.zeros((2000, 1414, 3), np.uint8)
    return _Reading(Parsed(side="front"), upright, False, boxes=boxes)


def test_a_page_whose_lines_a_cards_look_would_see_a_few_px_tall_is_not_read_as_a_card() -> None:
    from batch_ocr.engines.local._recognise import _too_small_for_card_look

    # An A4 copy's card lines at 2,000 px: 28 px, 7 px at the card's look (512 px).
    assert _too_small_for_card_look(_page_of_lines(28.0), 2000)
    # A card photographed as large as the picture: its lines 90 px, 23 px to the look.
    assert not _too_small_for_card_look(_page_of_lines(90.0), 2000)
    # No line found: the card's look is taken, as before.
    empty = _Reading(Parsed(side="none"), np.zeros((2000, 1414, 3), np.uint8), False)
    assert not _too_small_for_card_look(empty, 2000)
