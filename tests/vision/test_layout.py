"""Finding every card on a page by its outline (no OCR): counts, order, crops."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.card_pages import (
    DOCUMENTS,
    PAGE_ENCODINGS,
    REPO,
    encode_page,
    make_samples,
    module_at,
    page_bytes,
    page_image,
    people,
    scanned_copy,
)
from tests.skips import needs_documents

cv2 = pytest.importorskip("cv2")

from batch_ocr.vision import card_cut, card_search  # noqa: E402
from batch_ocr.vision import layout as _layout  # noqa: E402
from batch_ocr.vision.picture import Picture  # noqa: E402


def _cards(image_bytes: bytes) -> list:
    return _layout.find_cards(Picture(image_bytes).full())


def _page(*kinds: str, **options: object) -> bytes:
    samples = make_samples()
    a, b = people(2)
    owners = {"front": a, "back": a, "front2": b, "back2": b}
    cards = tuple(
        samples.PageCard(kind.rstrip("2"), None if kind == "bank" else owners[kind])
        for kind in kinds
    )
    return page_bytes(samples.CardPage("test", cards, **options))


def test_a_grey_a4_copy_holds_two_cards_front_first() -> None:
    quads = _cards(_page("front", "back"))
    assert len(quads) == 2
    assert quads[0].mean(axis=0)[1] < quads[1].mean(axis=0)[1]


def test_four_sides_come_in_reading_order() -> None:
    quads = _cards(_page("front", "back", "front2", "back2", columns=2))
    centres = [q.mean(axis=0) for q in quads]
    assert len(quads) == 4
    (x1, y1), (x2, y2), (x3, y3), (x4, y4) = centres
    assert x1 < x2 and x3 < x4 and max(y1, y2) < min(y3, y4)


def test_a_page_scanned_sideways_still_holds_two_cards() -> None:
    assert len(_cards(_page("front", "back", page_turns=1))) == 2


def test_an_id_card_beside_a_bank_card_on_a_desk() -> None:
    quads = _cards(_page("front", "bank", columns=2, grey=False, stamps=False, desk=True))
    assert len(quads) == 2


def test_each_card_is_cut_out_straight_for_a_call() -> None:
    crops = card_search.card_crops(Picture(_page("front", "back")))
    assert len(crops) == 2
    for crop in crops:
        width, height = Image.open(io.BytesIO(crop.jpeg)).size
        assert not crop.by_print
        frame = 2 * card_cut.FRAME_SHARE * width / (1 + 2 * card_cut.FRAME_SHARE)
        assert width > height and abs((width - frame) / (height - frame) - 856 / 540) < 0.03
    assert card_search.count_cards(Picture(_page("front", "back"))) == 2


def test_a_photo_of_one_card_is_not_cut() -> None:
    samples = make_samples()
    front, _ = samples.draw_front(people(1)[0])
    buffer = io.BytesIO()
    front.save(buffer, "JPEG")
    assert len(_cards(buffer.getvalue())) <= 1
    assert card_search.card_crops(Picture(buffer.getvalue())) == []
    assert card_search.count_cards(Picture(buffer.getvalue())) == 0


def test_small_coloured_rectangles_are_no_cards() -> None:
    from tests.hostile.corpus import jpeg_bytes

    for seed in ("with space.jpg", "=HYPERLINK(1).jpg", "a", "b", "c"):
        assert card_search.count_cards(Picture(jpeg_bytes(seed))) == 0


@needs_documents
@pytest.mark.parametrize(
    ("name", "count"),
    [("bdci_photocopy_nixueting.jpg", 2), ("bdci_photocopy_huangwu.jpg", 2),
     ("a4_photocopy_blank_template.png", 2), ("grey_specimen_daiyongming.jpg", 1)],
)  # fmt: skip
def test_dev_set_pages(name: str, count: int) -> None:
    assert len(_cards((DOCUMENTS / name).read_bytes())) == count


def _two_sided_dev_pages() -> list[str]:
    return ["bdci_photocopy_huangwu.jpg", "bdci_photocopy_nixueting.jpg"]


def _fast_only(values: tuple[str, ...] | list[str], fast: str) -> list[object]:
    """``values`` as parameters, all but ``fast`` marked slow (the fast suite's budget)."""
    return [value if value == fast else pytest.param(value, marks=pytest.mark.slow)
            for value in values]  # fmt: skip


@needs_documents
@pytest.mark.parametrize("encoding", _fast_only(PAGE_ENCODINGS, "jpeg75"))
@pytest.mark.parametrize("name", _two_sided_dev_pages())
def test_dev_set_pages_hold_two_cards_in_every_encoding(name: str, encoding: str) -> None:
    """The offline engine (full decode) and the API's crops (small decode) agree."""
    image = page_image(encode_page(Image.open(DOCUMENTS / name), encoding))
    assert len(_cards(image)) == 2
    assert card_search.count_cards(Picture(image)) == 2


@pytest.mark.parametrize("encoding", _fast_only(["jpeg60", "jpeg75", "jpeg85", "png"], "jpeg75"))
def test_a_scanners_edge_is_not_taken_for_the_papers_noise(encoding: str) -> None:
    """The scan's shadow line rings in a lossy JPEG; the paler back must still be seen."""
    assert len(_cards(scanned_copy(encoding))) == 2


@pytest.mark.parametrize("turns", [2, pytest.param(0, marks=pytest.mark.slow),
                                   pytest.param(1, marks=pytest.mark.slow)])  # fmt: skip
def test_cards_a_finger_apart_are_two_cards(turns: int) -> None:
    image = scanned_copy("jpeg75", washed_out=0.0, row_gap=0.04, page_turns=turns)
    quads = _cards(image)
    assert len(quads) == 2
    for quad in quads:
        (_, _), (width, height), _ = cv2.minAreaRect(quad.astype("float32"))
        assert abs(max(width, height) / min(width, height) - 856 / 540) < 0.1


@pytest.mark.parametrize("turns", [0, pytest.param(2, marks=pytest.mark.slow)])
def test_touching_cards_are_cut_along_their_seam(turns: int) -> None:
    """No page between them, but the paler back's edge runs between the two."""
    quads = _cards(scanned_copy("jpeg75", row_gap=0.0, page_turns=turns))
    assert len(quads) == 2
    assert card_search.count_cards(Picture(scanned_copy("jpeg75", row_gap=0.0, page_turns=turns))) == 2


@pytest.mark.parametrize(("width", "height", "quality"),
                         [(1000, 1000, 90), (800, 600, 50),
                          pytest.param(2000, 1500, 75, marks=pytest.mark.slow)])  # fmt: skip
def test_noise_has_no_patch_a_card_could_be_in_and_a_page_has(
    width: int, height: int, quality: int
) -> None:
    import numpy as np

    from batch_ocr.vision import crops, imaging

    pixels = np.random.default_rng(width).integers(0, 256, (height, width, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=quality)
    preview = imaging.prepare(buffer.getvalue()).preview
    assert preview is not None and not crops.has_smooth_patch(np.asarray(preview))
    # A blank picture is all smooth; so is a copy page, however it was scanned.
    assert crops.has_smooth_patch(np.full((height // 8, width // 8), 200, np.uint8))
    page = imaging.prepare(encode_page(Image.open(io.BytesIO(_page("front", "back"))), "jpeg60"))
    assert page.preview is not None and crops.has_smooth_patch(np.asarray(page.preview))


def _lit_desk(box: tuple[int, int, int, int]) -> bytes:
    """A grey desk 1000 x 400 whose part ``box`` (left, top, right, bottom) is lit pale,
    with lines of print in it."""
    import numpy as np

    rng = np.random.default_rng(7)
    desk = np.clip(rng.normal(110, 6, (400, 1000, 3)), 0, 255).astype(np.uint8)
    left, top, right, bottom = box
    desk[top:bottom, left:right] = 225
    for y in range(top + 60, bottom - 40, 45):
        cv2.rectangle(desk, (left + 60, y), (right - 90, y + 12), (40, 40, 40), -1)
    ok, encoded = cv2.imencode(".png", desk)
    return encoded.tobytes()


def test_a_lit_part_of_the_desk_cut_by_the_frame_is_no_card() -> None:
    # A shadow's edge across a pale desk: the lit part, with print on it, runs off the
    # picture on three sides; a card lying on the desk has desk around it.
    assert _cards(_lit_desk((360, 0, 1000, 400))) == []
    assert len(_cards(_lit_desk((340, 30, 840, 345)))) == 1


def _checked_cloth(cell_px: int, gap_px: int) -> bytes:
    """Two plain cards with lines of print, ``gap_px`` apart, on a checked cloth whose
    light squares are as light as the cards (640 x 480, the search's own size)."""
    import numpy as np

    yy, xx = np.mgrid[0:480, 0:640]
    light = ((xx // cell_px + yy // cell_px) % 2).astype(bool)[..., None]
    cloth = np.where(light, np.array([230, 230, 235], np.uint8),
                     np.array([40, 60, 160], np.uint8)).astype(np.uint8)  # fmt: skip
    for left in (50, 50 + 250 + gap_px):
        cloth[150:308, left : left + 250] = (215, 220, 225)
        for row in range(5):
            top = 170 + 25 * row
            cloth[top : top + 10, left + 30 : left + 180 - 17 * row] = (30, 30, 30)
    ok, encoded = cv2.imencode(".png", cloth)
    return encoded.tobytes()


@pytest.mark.parametrize(("cell_px", "gap_px"), [(6, 6), (10, 30)])
def test_cards_on_a_check_that_closes_around_them_are_found(cell_px: int, gap_px: int) -> None:
    # Every square's edge is an edge: the closed-edge mask is one blob with the cards as
    # its holes, the light squares join the cards in the brightness mask, and the
    # picture's border has no one colour to tell the desk by.
    assert len(_cards(_checked_cloth(cell_px, gap_px))) == 2


def _card_with_a_bump() -> tuple[object, object]:
    """A 900x1200 photo: a card of print on a checked desk, in perspective, a glare spot
    as light as the card run over its top edge; and the card's true corners."""
    import numpy as np

    yy, xx = np.mgrid[0:1200, 0:900]
    photo = np.where((((xx // 24) + (yy // 24)) % 2)[..., None] == 1,
                     np.array([70, 140, 200], np.uint8), np.array([60, 70, 90], np.uint8))
    photo = photo.astype(np.uint8)
    width, height = 520, 328
    card = np.full((height, width, 3), 235, np.uint8)
    for row in range(6):
        for col in range(8):
            cv2.putText(card, "ABC", (30 + col * 60, 50 + row * 45), cv2.FONT_HERSHEY_SIMPLEX,
                        0.7, (40, 40, 40), 2)  # fmt: skip
    corners = np.array([[217, 529], [765, 578], [716, 885], [193, 861]], np.float32)
    matrix = cv2.getPerspectiveTransform(
        np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32), corners)
    warped = cv2.warpPerspective(card, matrix, (900, 1200))
    inside = cv2.warpPerspective(np.full((height, width), 255, np.uint8), matrix, (900, 1200))
    photo = np.where(inside[..., None] > 0, warped, photo)
    cv2.ellipse(photo, (330, 540), (80, 70), 0, 0, 360, (245, 245, 245), -1)
    return photo, corners


def test_a_card_with_a_glare_spot_over_its_edge_is_one_card_not_two_halves() -> None:
    """The spot makes the card's blob too tall for a card and about as tall as two
    stacked: it is still found as the one card it is (each half read as a card lost
    the back's fields)."""
    photo, corners = _card_with_a_bump()
    (card,) = _layout.page_cards(photo)
    found = card.quad.astype("float32")
    shared, _ = cv2.intersectConvexConvex(corners, found)
    union = cv2.contourArea(corners) + cv2.contourArea(found) - shared
    assert shared / union > 0.8


def test_a_back_touching_the_front_across_a_glare_spot_is_cut_out_for_its_own_call() -> None:
    """A phone photo of a front and a back laid touching at an angle, a glare spot
    across where they meet: one blob, whose only card-shaped outline is the front's.
    With the front painted out, the back's outline stands alone, so the API is sent
    each side (two calls) rather than the photo whole (one side answered, one lost)."""
    office_sets = module_at("office_sets", REPO / "tests" / "benchmarks" / "office_sets.py")
    case = office_sets.phone_photo_cases(32, 22)[31]
    assert case.side == "both" and "glare85" in case.degradations
    picture = Picture(case.image_bytes)
    small, scale = picture.search()
    assert len(_layout.page_cards(small, min_long_side_px=_layout.MIN_CARD_LONG_SIDE_PX * scale)) == 1
    assert card_search.count_cards(picture) == 2
    assert len(card_search.card_crops(picture)) == 2
