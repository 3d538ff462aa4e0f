"""The offline engine end to end, on the sample cards (needs the ``local`` extra)."""

from __future__ import annotations

import io
from typing import Any

import pytest

from batch_ocr.engines.local import available

pytestmark = pytest.mark.skipif(
    not available(), reason="the 'local' extra is not installed (pip install 'batch-ocr[local]')"
)

from PIL import Image, ImageFilter  # noqa: E402

from batch_ocr.engines.local import LocalEngineError, recognise  # noqa: E402
from batch_ocr.engines.local.processes import ProcessPool  # noqa: E402
from tests.engines.conftest import jpeg  # noqa: E402

FRONT = "zhangsan_front.jpg"
BACK = "zhangsan_back.png"


def expected(sample_cards: dict[str, Any], name: str) -> dict[str, Any]:
    return dict(sample_cards[name]["data"])


def assert_reads_as(result: Any, want: dict[str, Any]) -> None:
    assert result.data.result == 0
    assert result.data.side == want["side"]
    assert result.data.info.model_dump(exclude_none=True) == want["info"]
    assert all(result.data.validity.values()), result.data.validity


def test_front(sample_cards: dict[str, Any], sample_bytes: Any) -> None:
    result = recognise(sample_bytes(FRONT))
    assert_reads_as(result, expected(sample_cards, FRONT))
    assert result.data.image_url is None
    assert result.portrait_jpeg is not None
    portrait = Image.open(io.BytesIO(result.portrait_jpeg))
    assert portrait.format == "JPEG" and portrait.width > 100
    assert set(result.confidence) == {
        "name", "sex", "nation", "birth_date", "address", "id_number"}
    assert all(0.5 <= score <= 1.0 for score in result.confidence.values()), result.confidence


def test_back_long_term(sample_cards: dict[str, Any], sample_bytes: Any) -> None:
    result = recognise(sample_bytes("wangli-反.tif"))
    assert_reads_as(result, expected(sample_cards, "wangli-反.tif"))
    assert (result.data.info.timelimit or "").endswith("-长期")
    assert result.portrait_jpeg is None
    assert set(result.confidence) == {"authority", "valid_from", "valid_to"}


def test_not_a_card(sample_bytes: Any) -> None:
    result = recognise(sample_bytes("not_a_card.jpg"))
    assert result.data.result == 0
    assert result.data.validity and not any(result.data.validity.values())
    assert result.portrait_jpeg is None
    assert result.confidence == {}


def test_unreadable_bytes() -> None:
    with pytest.raises(LocalEngineError) as caught:
        recognise(b"not an image at all")
    assert caught.value.error_code == "unreadable_image"


@pytest.mark.parametrize("angle", [90, 180])
def test_rotated_card(sample_cards: dict[str, Any], sample_bytes: Any, angle: int) -> None:
    image = Image.open(io.BytesIO(sample_bytes(FRONT))).rotate(angle, expand=True)
    assert_reads_as(recognise(jpeg(image)), expected(sample_cards, FRONT))


def test_degraded_photo(sample_cards: dict[str, Any], sample_bytes: Any) -> None:
    """Tilted on a dark textured desk, blurred, shrunk and squeezed by JPEG."""
    card = Image.open(io.BytesIO(sample_bytes(BACK))).convert("RGB")
    desk = Image.effect_noise((1300, 1000), 40).convert("RGB").point(lambda v: v // 3)
    tilted = card.rotate(8, expand=True, fillcolor=(0, 0, 0))
    mask = Image.new("L", card.size, 255).rotate(8, expand=True)
    desk.paste(tilted, (180, 150), mask)
    photo = desk.filter(ImageFilter.GaussianBlur(1.0)).resize((975, 750))
    assert_reads_as(recognise(jpeg(photo, quality=45)), expected(sample_cards, BACK))


@pytest.mark.slow
async def test_engine_with_two_workers(sample_cards: dict[str, Any], sample_bytes: Any) -> None:
    import asyncio

    engine = ProcessPool(workers=2)
    try:
        front, back = await asyncio.gather(
            engine.run(sample_bytes(FRONT)), engine.run(sample_bytes(BACK))
        )
    finally:
        await engine.aclose()
    assert_reads_as(front, expected(sample_cards, FRONT))
    assert_reads_as(back, expected(sample_cards, BACK))


@pytest.mark.slow
async def test_dead_worker_is_an_error_and_the_pool_recovers(
    sample_cards: dict[str, Any], sample_bytes: Any
) -> None:
    import asyncio

    from tests.engines.crashing_task import CRASH_MARKER, crash_or_recognise

    engine = ProcessPool(workers=1, task=crash_or_recognise)
    try:
        with pytest.raises(LocalEngineError) as caught:
            await asyncio.wait_for(engine.run(CRASH_MARKER), timeout=60)
        assert caught.value.error_code == "local_worker_died"
        result = await asyncio.wait_for(engine.run(sample_bytes(BACK)), timeout=60)
    finally:
        await engine.aclose()
    assert_reads_as(result, expected(sample_cards, BACK))


def test_the_number_is_read_off_its_place_on_a_rectified_front(
    sample_cards: dict[str, Any], sample_bytes: Any
) -> None:
    """The fallback for a number the detector lost (a stamp across it) reads its band."""
    from batch_ocr.engines.local import _bands
    from batch_ocr.vision import photo as _vision
    from batch_ocr.vision.picture import Picture

    card = _vision.fit_long_side(Picture(sample_bytes(FRONT)).full(), _vision.CARD_WIDTH_PX)
    line = _bands._read_number_band(card)
    assert line is not None
    assert line.text == expected(sample_cards, FRONT)["info"]["number"]
    # Where no number is printed (a back), nothing is invented.
    back = _vision.fit_long_side(Picture(sample_bytes(BACK)).full(), _vision.CARD_WIDTH_PX)
    assert _bands._read_number_band(back) is None


def test_a_stamps_end_read_into_a_name_is_left_out_by_the_names_print() -> None:
    """A grey 复印无效 across the name, read as the name and the stamp's 效: the name's
    darkest ink alone gives the name. What it reads is kept only as a shorter part of
    the name as read: it never puts in a name that was not read."""
    import random

    import cv2
    import numpy as np

    from batch_ocr.engines.local import _bands
    from batch_ocr.vision import photo as _vision
    from tests.card_pages import make_samples

    samples = make_samples()
    person = samples.make_person(random.Random(4))
    front = samples.draw_front(person)[0]
    stamped = samples.copy_stamp(front, "复印无效", center=(230, 72), angle_deg=8,
                                 rgb=(90, 90, 90), size_px=34, opacity_percent=55)  # fmt: skip
    grey = cv2.cvtColor(np.asarray(stamped.convert("L").convert("RGB")), cv2.COLOR_RGB2BGR)
    card = _vision.fit_long_side(grey, _vision.CARD_WIDTH_PX)
    line = _bands._read_name_band(card, person.name + "效")
    assert line is not None
    assert (line.text, line.stamped) == (person.name, True)
    assert _bands._read_name_band(card, "欧阳" + "效") is None


def test_warnings_come_with_the_recognition(sample_bytes: Any) -> None:
    """The engine measures the picture it decoded and the outline it found (no 2nd decode)."""
    assert recognise(sample_bytes(FRONT)).warnings == ()
    grey = Image.open(io.BytesIO(sample_bytes(FRONT))).convert("L")
    assert recognise(jpeg(grey)).warnings == ("copy",)


def test_lines_read_alone_or_together_and_again_give_one_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each line is recognised at its own width, so its answer does not depend on the
    lines beside it, and a crop read before is answered without the model."""
    import numpy as np
    from PIL import ImageDraw

    from batch_ocr.engines.local import _ocr
    from tests.card_pages import make_samples

    font = make_samples().card_font(36)

    def line(text: str) -> np.ndarray:
        image = Image.new("RGB", (40 * len(text) + 24, 56), "white")
        ImageDraw.Draw(image).text((12, 8), text, fill="black", font=font)
        return np.asarray(image)[:, :, ::-1].copy()

    crops = [line("110101199003071234"), line("姓名"), line("北京市东城区")]
    together = _ocr.read_lines(crops)
    _ocr._recent_lines.clear()
    alone = [_ocr.read_lines([crop])[0] for crop in crops]
    assert together == alone
    assert together[0][0] == "110101199003071234"
    rec = _ocr.models().rec
    monkeypatch.setattr(rec, "session", None)  # the model would fail if it were called
    assert _ocr.read_lines(crops) == together
