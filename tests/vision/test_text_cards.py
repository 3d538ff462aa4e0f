"""Cards found by their print where no outline shows (``_text_cards``), no OCR.

A back copied as pale as the paper shows no edge but its print; a page of one card,
a margin, a blank template or a note written on the copy must not gain a card (through
the API every card found is a paid call).
"""

from __future__ import annotations

import random

import pytest
from PIL import ImageDraw

from tests.card_pages import (
    DOCUMENTS,
    PALE_BACK,
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

from batch_ocr.vision import card_search  # noqa: E402
from batch_ocr.vision import layout as _layout  # noqa: E402
from batch_ocr.vision.picture import Picture  # noqa: E402


def _found(image_bytes: bytes) -> list[bool]:
    """How each card on the page was found, in reading order: True by its print."""
    return [card.by_print for card in _layout.page_cards(Picture(image_bytes).full())]


def _copy(*cards: object, note: tuple[str, ...] = (), **options: object) -> bytes:
    """An office's scan (150 dpi, shadow line, JPEG 75) of ``cards``, with ``note``
    written below them in a hand-sized script."""
    samples = make_samples()
    page = samples.CardPage("copy", cards, scan_edge=True, **options)
    image = samples.draw_card_page(page, random.Random(5), dpi=150)
    draw = ImageDraw.Draw(image)
    for row, line in enumerate(note):
        draw.text((200, 1300 + 60 * row), line, font=samples.card_font(40), fill=(40, 40, 40))
    return page_image(encode_page(image, "jpeg75"))


@pytest.mark.parametrize("washed_out", [0.45, PALE_BACK, 0.65, 0.7])
def test_a_back_as_pale_as_the_paper_is_found_by_its_print(washed_out: float) -> None:
    image_bytes = scanned_copy("jpeg75", washed_out=washed_out)
    image = Picture(image_bytes).full()
    (front,) = _layout.find_cards(image)  # its outline is gone
    cards = _layout.page_cards(image)
    assert [c.by_print for c in cards] == [False, True]
    assert card_search.count_cards(Picture(image_bytes)) == 2
    # A card's size, below the front, level with it.
    (fx, fy), front_size, _ = cv2.minAreaRect(front.astype("float32"))
    (bx, by), back_size, _ = cv2.minAreaRect(cards[1].quad.astype("float32"))
    assert by > fy + max(front_size) * 0.5 and abs(bx - fx) < 0.15 * max(front_size)
    assert sorted(back_size) == pytest.approx(sorted(front_size), rel=0.1)


def test_a_pale_back_is_cut_out_for_its_own_call() -> None:
    crops = card_search.card_crops(Picture(scanned_copy("jpeg75", washed_out=PALE_BACK)))
    assert [c.by_print for c in crops] == [False, True]


@pytest.mark.parametrize("options", [{"page_turns": 1}, {"upside_down": True}])
def test_a_pale_back_is_found_on_a_page_turned_or_copied_upside_down(options: dict) -> None:
    samples = make_samples()
    person = people(1)[0]
    upside_down = bool(options.pop("upside_down", False))
    image = _copy(samples.PageCard("front", person),
                  samples.PageCard("back", person, washed_out=PALE_BACK, upside_down=upside_down),
                  **options)  # fmt: skip
    assert sorted(_found(image)) == [False, True]


def test_a_pale_front_above_a_visible_back() -> None:
    samples = make_samples()
    person = people(1)[0]
    image = _copy(samples.PageCard("front", person, washed_out=PALE_BACK),
                  samples.PageCard("back", person))  # fmt: skip
    assert _found(image) == [True, False]


def test_both_sides_pale_on_an_a4_page_take_their_size_from_the_page() -> None:
    samples = make_samples()
    person = people(1)[0]
    image = _copy(samples.PageCard("front", person, washed_out=PALE_BACK),
                  samples.PageCard("back", person, washed_out=PALE_BACK))  # fmt: skip
    assert _found(image) == [True, True]


@pytest.mark.parametrize("kind", ["front", "back"])
@pytest.mark.parametrize("grey", [True, False])
def test_one_card_alone_on_a_page_gains_no_card(kind: str, grey: bool) -> None:
    samples = make_samples()
    image = _copy(samples.PageCard(kind, people(1)[0]), grey=grey)
    assert _found(image) == [False]
    assert card_search.count_cards(Picture(image)) == 0


def test_a_note_written_on_the_copy_is_no_card() -> None:
    """此复印件仅供…使用, a signature, a date: lines of text, but not a card's print."""
    samples = make_samples()
    card = samples.PageCard("front", people(1)[0])
    for note in (("复印件与原件一致", "签名：张三", "日期：2024年3月1日"),
                 ("此复印件仅供办理入职使用", "再次复印无效", "签名：张三", "日期：2024年3月1日")):
        assert _found(_copy(card, note=note)) == [False], note


def test_a_card_beside_a_bank_card_on_a_desk_gains_no_card() -> None:
    samples = make_samples()
    page = samples.CardPage("desk", (samples.PageCard("front", people(1)[0]),
                                     samples.PageCard("bank")),
                            columns=2, grey=False, stamps=False, desk=True)  # fmt: skip
    assert _found(page_bytes(page)) == [False, False]


def test_an_empty_a4_page_gains_no_card() -> None:
    from PIL import Image

    samples = make_samples()
    blank = Image.new("RGB", (1240, 1754), samples.COPY_PAPER_RGB)
    assert _found(page_image(encode_page(blank, "jpeg75"))) == []


@needs_documents
@pytest.mark.parametrize("name", ["a4_photocopy_blank_template.png", "bdci_photocopy_huangwu.jpg",
                                  "bdci_photocopy_nixueting.jpg",
                                  "grey_specimen_daiyongming.jpg"])  # fmt: skip
def test_dev_set_pages_gain_no_card(name: str) -> None:
    image = Picture((DOCUMENTS / name).read_bytes()).full()
    assert not any(_found((DOCUMENTS / name).read_bytes()))
    assert len(_layout.page_cards(image)) == len(_layout.find_cards(image))


def test_a_pale_back_whose_stamp_joins_two_lines_is_still_found() -> None:
    """Both sides copied pale (no outline), a framed 复印无效 across the back's period:
    the stamp's box joins the authority's line to the period's, yet the back is still
    a card's print (four lines beside the emblem), cut out for its own call rather than
    the page sent whole, which the API answers with one side."""
    office_sets = module_at("office_sets", REPO / "tests" / "benchmarks" / "office_sets.py")
    case = office_sets.copy_page_cases(13, 21, first=12)[0]
    assert "stamp-timelimit" in case.degradations and case.side == "both"
    crops = card_search.card_crops(Picture(case.image_bytes))
    assert [c.by_print for c in crops] == [True, True]
