"""The cards an engine paying per card cuts out of a photo: the page search, then the
looks that part what it left together (``vision.card_search``, ``touching_cards``)."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.card_pages import REPO, make_samples, module_at, people

cv2 = pytest.importorskip("cv2")
np = pytest.importorskip("numpy")

from batch_ocr.vision import card_search  # noqa: E402
from batch_ocr.vision import layout as _layout  # noqa: E402
from batch_ocr.vision.picture import Picture  # noqa: E402

DESK_SIZE = (1280, 960)


def _desk(seed: int, level: int = 120) -> Image.Image:
    """A grey desk with a phone camera's noise."""
    rng = np.random.default_rng(seed)
    pixels = rng.normal(level, 7, (DESK_SIZE[1], DESK_SIZE[0], 3))
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def _lay(desk: Image.Image, card: Image.Image, spin_deg: float, centre: tuple[int, int]
         ) -> None:  # fmt: skip
    """``card`` laid on ``desk`` turned ``spin_deg`` (counter-clockwise), its centre at
    ``centre``."""
    card = card.convert("RGB").resize((410, round(410 * card.height / card.width)))
    mask = Image.new("L", card.size, 255).rotate(spin_deg, expand=True)
    turned = card.rotate(spin_deg, expand=True)
    desk.paste(turned, (centre[0] - turned.width // 2, centre[1] - turned.height // 2), mask)


def _jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def _touching_pair(front_spin: float, back_spin: float, seed: int = 1) -> bytes:
    """A phone photo of a front and a back at their own angles, the back lying over
    the front's right edge (one blob in every mask, of neither card's shape)."""
    samples = make_samples()
    person = people(1, seed=seed)[0]
    desk = _desk(seed)
    _lay(desk, samples.draw_front(person)[0], front_spin, (400, 500))
    _lay(desk, samples.draw_back(person), back_spin, (800, 520))
    return _jpeg(desk)


@pytest.mark.parametrize(("front_spin", "back_spin"), [(11, 6), (8, -4), (-9, 4), (15, 2)])
def test_a_front_and_a_back_touching_at_an_angle_are_two_calls(front_spin: float,
                                                               back_spin: float) -> None:
    """Neither card's outline stands alone: the page search finds no card, and the
    photo sent whole would be answered one side. Parted where their outlines cross,
    each is cut out for a call of its own."""
    picture = Picture(_touching_pair(front_spin, back_spin))
    small, scale = picture.search()
    least = _layout.MIN_CARD_LONG_SIDE_PX * scale
    assert len(_layout.page_cards(small, min_long_side_px=least)) < 2
    assert card_search.count_cards(picture) == 2
    crops = card_search.card_crops(picture)
    assert len(crops) == 2
    for crop in crops:
        width, height = Image.open(io.BytesIO(crop.jpeg)).size
        # One card each, framed (1.54 whole); the one beneath shows only its part left
        # uncovered: never both cards (3.1), nor half of one.
        assert 1.3 < width / height < 1.8


def test_a_card_with_a_pen_across_its_edge_is_one_card() -> None:
    """A pen resting on a card notches its blob too, but the part it leaves is no
    card: one card, the photo sent whole, one call."""
    samples = make_samples()
    desk = _desk(2)
    _lay(desk, samples.draw_front(people(1, seed=2)[0])[0], 7, (560, 480))
    pixels = np.array(desk)
    cv2.line(pixels, (700, 300), (1100, 120), (30, 40, 140), 16)
    assert card_search.count_cards(Picture(_jpeg(Image.fromarray(pixels)))) == 0


@pytest.mark.slow
def test_the_harness_photos_of_two_cards_touching_or_in_shadow_are_cut_apart() -> None:
    """Phone photos of the accuracy harness that went whole to the API, a side lost:
    two cards crossing on a wavy desk (seed 3), and a back in a shadow that darkens
    the desk beside its front, its outline too faint for the page search until the
    light is evened out (seed 13)."""
    office_sets = module_at("office_sets", REPO / "tests" / "benchmarks" / "office_sets.py")
    for seed, index in ((3, 30), (13, 28)):
        case = office_sets.phone_photo_cases(32, seed)[index]
        assert case.side == "both"
        assert card_search.count_cards(Picture(case.image_bytes)) == 2
