"""A card cut out for a call: as sharp as the page holds it, framed, level, within limits."""

from __future__ import annotations

import functools
import io
import random

import pytest
from PIL import Image

from tests.card_pages import make_samples, people

cv2 = pytest.importorskip("cv2")
np = pytest.importorskip("numpy")

from batch_ocr.vision import card_cut, card_search  # noqa: E402
from batch_ocr.vision import layout as _layout  # noqa: E402
from batch_ocr.vision.imaging import MAX_BYTES, MAX_SIDE_PX  # noqa: E402
from batch_ocr.vision.picture import Picture  # noqa: E402

#: A flatbed scan of a copy at 300 dpi: an ID-1 card is this many pixels long on it.
DPI = 300
CARD_PX = 85.6 / 25.4 * DPI


def _copy_page(dpi: int = DPI, *, tilt_deg: float = 0.0, page_turns: int = 0,
               back_upside_down: bool = False) -> Image.Image:
    samples = make_samples()
    person = people(1, seed=3)[0]
    page = samples.CardPage("copy", (samples.PageCard("front", person),
                                     samples.PageCard("back", person,
                                                      upside_down=back_upside_down)),
                            page_turns=page_turns)  # fmt: skip
    image = samples.draw_card_page(page, random.Random(2), dpi=dpi).convert("RGB")
    if tilt_deg:  # laid askew on the glass: the paper all round
        paper = image.getpixel((image.width // 2, 40))
        image = image.rotate(tilt_deg, Image.Resampling.BICUBIC, fillcolor=paper)
    return image


def _jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


@functools.cache
def _upright_page() -> bytes:
    """The copy page as it should lie, as a JPEG (drawn once: 300 dpi takes a while)."""
    return _jpeg(_copy_page())


def _sizes(crops: list[card_cut.CardCrop]) -> list[tuple[int, int]]:
    return [Image.open(io.BytesIO(crop.jpeg)).size for crop in crops]


def _card_in(crop: card_cut.CardCrop) -> np.ndarray:
    """The card's outline inside a crop (its frame of page lets it be found)."""
    pixels = cv2.imdecode(np.frombuffer(crop.jpeg, np.uint8), cv2.IMREAD_COLOR)
    found = _layout.find_cards(pixels)
    assert len(found) == 1
    return card_cut.landscape_corners(found[0])[0]


def test_a_card_is_cut_at_the_resolution_the_page_holds_it() -> None:
    """A 300 dpi copy holds each card at ~1,011 px: it is sent so, framed, not at the
    856 px of a reduced view (a 2,000 px view holds it at ~580 px)."""
    crops = card_search.card_crops(Picture(_upright_page()))
    assert len(crops) == 2
    for width, height in _sizes(crops):
        assert width >= 0.95 * CARD_PX * (1 + 2 * card_cut.FRAME_SHARE)
        assert width > height


def test_a_small_card_is_never_sent_smaller_than_the_offline_engine_reads_it() -> None:
    crops = card_search.card_crops(Picture(_jpeg(_copy_page(dpi=120))))
    assert len(crops) == 2
    for width, _ in _sizes(crops):
        assert width >= card_cut.MIN_CARD_LONG_SIDE_PX


def test_each_card_shows_its_own_edge_inside_a_frame_of_page() -> None:
    """The provider finds the card's outline before it reads: cut exactly along it, the
    dev set's copy lost its ID number through the API."""
    for crop in card_search.card_crops(Picture(_upright_page())):
        width, height = Image.open(io.BytesIO(crop.jpeg)).size
        corners = _card_in(crop)
        frame = card_cut.FRAME_SHARE * width / (1 + 2 * card_cut.FRAME_SHARE)
        assert corners[:, 0].min() == pytest.approx(frame, abs=0.4 * frame)
        assert width - corners[:, 0].max() == pytest.approx(frame, abs=0.4 * frame)


@pytest.mark.parametrize("tilt_deg", [7.0, -10.0])
def test_a_tilted_page_s_cards_come_out_level_at_full_resolution(tilt_deg: float) -> None:
    crops = card_search.card_crops(Picture(_jpeg(_copy_page(tilt_deg=tilt_deg))))
    assert len(crops) == 2
    for crop, (width, _) in zip(crops, _sizes(crops), strict=True):
        top_left, top_right = _card_in(crop)[:2]
        slope = np.degrees(np.arctan2(top_right[1] - top_left[1], top_right[0] - top_left[0]))
        assert abs(slope) < 1.0
        assert width >= 0.95 * CARD_PX * (1 + 2 * card_cut.FRAME_SHARE)


def test_a_page_scanned_sideways_gives_landscape_cards_at_full_resolution() -> None:
    crops = card_search.card_crops(Picture(_jpeg(_copy_page(page_turns=1))))
    assert len(crops) == 2
    for width, height in _sizes(crops):
        assert width > height >= 0.95 * CARD_PX / 1.6


def test_a_card_too_big_for_the_api_is_made_to_fit() -> None:
    """Noise defeats JPEG: qualities step down, then the card is made smaller."""
    rng = np.random.default_rng(1)
    noise = Image.fromarray(rng.integers(0, 256, (2600, 3800, 3), dtype=np.uint8))
    quad = np.array([[100, 100], [3700, 100], [3700, 2371], [100, 2371]], np.float32)
    jpeg = card_cut.cut(noise, quad)
    assert len(jpeg) <= MAX_BYTES
    assert max(Image.open(io.BytesIO(jpeg)).size) <= MAX_SIDE_PX


def _grey(crop: card_cut.CardCrop) -> np.ndarray:
    pixels = cv2.imdecode(np.frombuffer(crop.jpeg, np.uint8), cv2.IMREAD_GRAYSCALE)
    return cv2.resize(pixels, (240, 160), interpolation=cv2.INTER_AREA).astype(np.float32)


def _likeness(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    return float((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum()))


@pytest.mark.parametrize(("options", "order"), [
    ({"back_upside_down": True}, (0, 1)),  # a copy with its back the other way up
    ({"page_turns": 2}, (1, 0)),  # a page scanned upside down: the back comes first
    ({"page_turns": 2, "back_upside_down": True, "tilt_deg": 6.0}, (1, 0)),
])
def test_an_upside_down_card_is_sent_upright_at_full_resolution(
        options: dict, order: tuple[int, int]) -> None:
    upright = card_search.card_crops(Picture(_upright_page()))
    crops = card_search.card_crops(Picture(_jpeg(_copy_page(**options))))
    assert len(crops) == len(upright) == 2
    for crop, same in zip(crops, order, strict=True):
        reference = _grey(upright[same])
        assert _likeness(_grey(crop), reference) > _likeness(_grey(crop), reference[::-1, ::-1])
        assert max(_sizes([crop])[0]) >= 0.95 * CARD_PX * (1 + 2 * card_cut.FRAME_SHARE)

