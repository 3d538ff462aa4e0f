"""An ID number a copy's stamp took from the detector, read off the place the card
prints it: the stamp's lighter ink left out where it was read into the digits, and a
number failing its check given as printed where every band reads it alike."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from batch_ocr import id_rules
from batch_ocr.engines.local import available

pytestmark = pytest.mark.skipif(not available(), reason="the 'local' extra is not installed")


def _stamped_number(seed: int, grey: int, dx: int, *, fails_check: bool = False
                    ) -> tuple[Any, Any]:  # fmt: skip
    """A grey, blurred copy of a sample front with a grey 再次复印无效 pressed across its
    number (``dx`` base card pixels right of the number's middle), as the rectified
    card the engine reads, and its person (whose number fails its check character if
    ``fails_check``)."""
    import random

    import cv2
    import numpy as np

    from batch_ocr.vision import photo as _vision
    from tests.card_pages import make_samples

    samples = make_samples()
    person = samples.make_person(random.Random(seed))
    if fails_check:
        wrong = "0" if person.number[-1] != "0" else "1"
        person = dataclasses.replace(person, number=person.number[:-1] + wrong)
    front = samples.draw_front(person)[0]
    stamped = samples.copy_stamp(front, "再次复印无效", center=(480 + dx, 450), angle_deg=-6,
                                 rgb=(grey, grey, grey), size_px=38, opacity_percent=70)
    copy = cv2.GaussianBlur(np.asarray(stamped.convert("L").convert("RGB")), (0, 0), 1.0)
    card = cv2.cvtColor(copy, cv2.COLOR_RGB2BGR)
    return _vision.fit_long_side(card, _vision.CARD_WIDTH_PX), person


def test_a_number_under_a_stamp_is_read_with_the_print_s_darkest_ink() -> None:
    from batch_ocr.engines.local import _bands

    card, person = _stamped_number(seed=1, grey=90, dx=-60)
    # As printed, the stamp's characters are read into the digits: no band passes.
    assert not any(id_rules.id_number_valid(number)
                   for number, _, _ in _bands.number_band_reads(card))  # fmt: skip
    line = _bands._read_number_band(card)
    assert line is not None
    assert line.text == person.number


def test_a_number_failing_its_check_is_given_as_printed_only_for_a_broken_read() -> None:
    from batch_ocr.engines.local import _bands

    card, person = _stamped_number(seed=2, grey=120, dx=0, fails_check=True)
    assert not id_rules.id_number_valid(person.number)
    # The detector's read broken by the stamp (a run of ten digits): every band reads
    # the card's 18 characters alike, and they are what it prints.
    line = _bands._read_number_band(card, person.number[:10])
    assert line is not None
    assert line.text == person.number
    # A read of 17 characters may be what the card prints: it is not replaced.
    assert _bands._read_number_band(card, person.number[:17]) is None
