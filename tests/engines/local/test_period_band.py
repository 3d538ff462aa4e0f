"""A period of validity a stamp took from the detector is read off its row, placed by
its label (有效期限) where the back's print does not sit where the card's fixed shares
say (a back cut out by its print, a little off its outline)."""

from __future__ import annotations

from typing import Any

import pytest

from batch_ocr.engines.local import available
from batch_ocr.engines.local._period_band import PERIOD_BANDS, label_row
from batch_ocr.engines.local._rows import TextLine


def _label(top: float, bottom: float) -> TextLine:
    return TextLine("有效期限", 1.0, 200.0, top, 330.0, bottom)


def test_the_period_s_row_is_right_of_its_label_and_level_with_it() -> None:
    box = label_row((540, 856, 3), [TextLine("签发机关", 1.0, 200.0, 362.0, 330.0, 402.0),
                                    _label(410.0, 450.0)])  # fmt: skip
    assert box is not None
    left, top, right, bottom = box
    assert left == 330 and right > 700
    assert top < 415 and bottom > 445  # the label's row, whole
    assert top > 402 - 20  # not the office's row above it
    # The label alone placed it: no label read, no row.
    assert label_row((540, 856, 3), [TextLine("签发机关", 1.0, 200, 362, 330, 402)]) is None


def _back_shifted_up(shift_share: float) -> tuple[Any, Any]:
    """A grey copy of a sample back whose print lies ``shift_share`` of its height
    higher than a card cut at its outline (as a back cut out by its print), a grey
    复印无效 pressed across the period's lower half, and its person."""
    import random

    import cv2
    import numpy as np

    from batch_ocr.vision import photo as _vision
    from tests.card_pages import make_samples

    samples = make_samples()
    person = samples.make_person(random.Random(3))
    back = samples.draw_back(person)
    stamped = samples.copy_stamp(back, "复印无效", center=(540, 472), angle_deg=-10,
                                 rgb=(90, 90, 90), size_px=40, opacity_percent=70)  # fmt: skip
    grey = np.asarray(stamped.convert("L").convert("RGB"))
    cut = round(shift_share * grey.shape[0])
    paper = np.full((cut, grey.shape[1], 3), 246, dtype=np.uint8)
    shifted = np.vstack([grey[cut:], paper])
    card = cv2.cvtColor(shifted, cv2.COLOR_RGB2BGR)
    return _vision.fit_long_side(card, _vision.CARD_WIDTH_PX), person


@pytest.mark.skipif(not available(), reason="the 'local' extra is not installed")
def test_a_period_above_the_fixed_bands_is_read_by_its_label() -> None:
    from batch_ocr.engines.local._period_band import read_period_band
    from tests.card_pages import make_samples

    card, person = _back_shifted_up(0.08)
    height = card.shape[0]
    # The period's digits (a dated one: 长期 says nothing of the digits) now lie
    # above where the fixed bands read.
    assert person.valid_to is not None
    period_middle = (438 + 22) / 540 - 0.08
    assert period_middle < PERIOD_BANDS[1][1] and period_middle < PERIOD_BANDS[0][1]
    assert read_period_band(card, []) is None
    # Where the detector finds the label on such a card.
    label = _label((444 / 540 - 0.08) * height, (474 / 540 - 0.08) * height)
    line = read_period_band(card, [label])
    assert line is not None
    assert line.text == make_samples().timelimit_printed(person)



@pytest.mark.parametrize("read", ["2015.03.01-2035:03.01", "2015：03.01-2035.03。01"])
def test_a_period_s_dot_read_as_a_colon_on_its_band_is_still_a_dot(
    read: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stamp's ink across a dot's top makes it a colon to the recogniser: the band's
    dates are read as printed all the same, and a lawful period is taken."""
    import numpy as np

    from batch_ocr.engines.local import _ocr, _period_band
    from batch_ocr.engines.local._ocr import LineRead

    answer = LineRead(read, 0.99, 0.9, tuple((ch, 0.99) for ch in read))
    monkeypatch.setattr(_ocr, "read_lines", lambda crops: [answer for _ in crops])
    line = _period_band.read_period_band(np.full((540, 856, 3), 255, dtype=np.uint8))
    assert line is not None
    assert line.text == "2015.03.01-2035.03.01"
    # Not a lawful period read so (five years and a day): nothing is taken.
    late = LineRead("2015.03.01-2020:03.02", 0.99, 0.9, ())
    monkeypatch.setattr(_ocr, "read_lines", lambda crops: [late for _ in crops])
    assert _period_band.read_period_band(np.full((540, 856, 3), 255, dtype=np.uint8)) is None


def test_a_row_read_with_a_colon_is_left_to_the_band() -> None:
    """The detector's row read with a colon is no period as read (the band's read, a
    surer look, is taken in its place)."""
    from batch_ocr.engines.local._fields import parse
    from batch_ocr.engines.local._rows import group_rows
    from tests.engines.stamped_lines import BACK, lines

    parsed = parse(group_rows(lines([BACK[0], "有效期限2015.03.01-2035:03.01"])))
    assert not parsed.validity.get("timelimit")
