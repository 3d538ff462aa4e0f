"""A red stamp's ink is dropped out before the text is read, never from the portrait."""

from __future__ import annotations

import io

import pytest

from tests.card_pages import make_samples, people
from tests.skips import needs_local

pytestmark = needs_local


def test_red_ink_turns_pale_and_black_text_under_it_stays() -> None:
    import numpy as np

    from batch_ocr.vision.photo import drop_out_red_ink

    image = np.full((40, 40, 3), 240, np.uint8)
    image[:, :20] = (40, 40, 210)  # BGR: a stamp's red over paper
    image[10:14, :] = (20, 20, 20)  # a stroke of black text across both
    image[30:34, :20] = (20, 20, 130)  # the stroke under the stamp's ink
    out = drop_out_red_ink(image)
    assert (out[0, 0] == 210).all() and (out[0, 30] == 240).all()
    assert (out[12] == 20).all()
    assert out[32, 0].max() <= 130  # still darker than the stamp alone


def test_a_picture_without_red_is_left_as_it_is() -> None:
    import numpy as np

    from batch_ocr.vision.photo import drop_out_red_ink

    grey = np.full((64, 64, 3), 200, np.uint8)
    warm = np.full((64, 64, 3), (150, 180, 215), np.uint8)  # warm light: red only +35
    assert drop_out_red_ink(grey) is grey and drop_out_red_ink(warm) is warm


@pytest.mark.slow
def test_a_red_stamp_over_the_portrait_stays_in_the_portrait_crop() -> None:
    import numpy as np
    from PIL import Image

    from batch_ocr.engines.local import recognise

    samples = make_samples()
    person = people(1, seed=5)[0]
    card, box = samples.draw_front(person)
    centre = ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
    stamped = samples.copy_stamp(card, "复印无效", center=centre, angle_deg=-10,
                                 rgb=(210, 30, 30), opacity_percent=90)  # fmt: skip
    buffer = io.BytesIO()
    stamped.save(buffer, "PNG")
    result = recognise(buffer.getvalue())
    assert result.data.info.name == person.name
    assert result.portrait_jpeg is not None
    portrait = np.asarray(Image.open(io.BytesIO(result.portrait_jpeg)).convert("RGB"))
    red = portrait[..., 0].astype(int) - portrait[..., 1:].max(axis=2) > 80
    assert red.sum() > 100  # the stamp's red, as the card shows it
