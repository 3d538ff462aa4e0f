"""Room beside the card read for another side of the same card (``vision.room``)."""

from __future__ import annotations

from typing import Any

import pytest

np = pytest.importorskip("numpy")
pytest.importorskip("cv2")

PHOTO = (1500, 2000, 3)  # a landscape phone photo, as the engine reads it


def _card(centre: tuple[float, float], long_px: float, spin_deg: float = 0.0) -> Any:
    """A card's corners (4x2): ``long_px`` long, ID-1's proportions, turned ``spin_deg``."""
    short = long_px * 54.0 / 85.6
    corners = np.array([[-long_px / 2, -short / 2], [long_px / 2, -short / 2],
                        [long_px / 2, short / 2], [-long_px / 2, short / 2]])  # fmt: skip
    angle = np.radians(spin_deg)
    turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    return (corners @ turn.T + centre).astype(np.float32)


@pytest.mark.parametrize("spin", [0.0, 12.0, -15.0])
def test_a_card_filling_the_photo_leaves_no_room_for_another(spin: float) -> None:
    from batch_ocr.vision.room import room_for_another

    # 0.7 of the photo's width, in the middle: the margins are a third of a card high.
    assert not room_for_another(PHOTO, _card((1000, 750), 1400, spin))


@pytest.mark.parametrize("spin", [0.0, 12.0, 90.0])
def test_a_card_on_one_half_of_the_photo_leaves_room_for_its_other_side(spin: float) -> None:
    """A front and a back side by side, each 0.45 of the photo's width: the one read leaves
    the other half, where the other side lies."""
    from batch_ocr.vision.room import room_for_another

    assert room_for_another(PHOTO, _card((540, 750), 900, spin))


def test_a_small_card_in_the_middle_leaves_room_all_round() -> None:
    from batch_ocr.vision.room import room_for_another

    assert room_for_another(PHOTO, _card((1000, 750), 500))


@pytest.mark.parametrize(("margin", "room"), [(0.85, True), (0.6, False)])
def test_the_other_side_may_look_smaller_than_the_card_read(margin: float, room: bool) -> None:
    """The room looked for is that of a card a little smaller than the one read (further
    from the lens): below a card as wide as the photo, a strip 0.85 of its short side high
    is room enough, 0.6 of it is not."""
    from batch_ocr.vision.room import MIN_OTHER_CARD_SHARE, room_for_another

    assert 0.6 < MIN_OTHER_CARD_SHARE < 0.85
    card = _card((1000, 0), 2000)  # centred on the photo's top edge, its lower half seen
    short = 2000 * 54.0 / 85.6
    photo = (round(short / 2 + margin * short), 2000, 3)
    assert room_for_another(photo, card) is room
