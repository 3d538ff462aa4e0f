"""The pre-flight's blank check (``imaging.no_card``): blank, uniform or tiny pictures
are never sent, and no real card is taken for one (docs/reference.md, "Statuses")."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from batch_ocr.run.pages import Page, split_pages
from batch_ocr.vision import blank, imaging
from batch_ocr.vision.picture import small_rgb
from tests.card_pages import DOCUMENTS, REPO, make_samples

SPECIMENS = DOCUMENTS.parent / "specimens"


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def reason(raw: bytes) -> str | None:
    found = imaging.prepare(raw).no_card
    assert found == imaging.prepare(raw, None).no_card  # one decision for every engine
    return None if found is None else found.error_code


@pytest.mark.parametrize(("image", "fmt", "code"), [
    (Image.new("RGB", (16, 16), "white"), "PNG", "image_too_small"),
    (Image.new("RGB", (9, 9), "black"), "PNG", "image_too_small"),
    (Image.new("L", (16, 16), 128), "TIFF", "image_too_small"),
    (Image.new("RGB", (1240, 1754), "white"), "JPEG", "blank_image"),
    (Image.new("L", (1654, 2339), 250), "PNG", "blank_image"),
    (Image.new("RGB", (1240, 1754), (236, 228, 210)), "PNG", "blank_image"),
    (Image.new("RGBA", (400, 250), (0, 0, 0, 0)), "PNG", "blank_image"),  # on white paper
])
def test_blank_uniform_and_tiny_pictures_hold_no_card(image: Image.Image, fmt: str,
                                                      code: str) -> None:
    assert reason(encode(image, fmt)) == code


def test_a_scanned_white_page_with_a_shadow_line_and_dust_is_blank() -> None:
    page = Image.effect_noise((1240, 1754), 3).point(lambda v: v + 116)  # paper grain
    draw = ImageDraw.Draw(page)
    draw.rectangle((0, 0, 6, 1754), fill=80)  # the scanner's shadow line
    for x, y in ((300, 400), (900, 1200), (610, 1500)):
        draw.ellipse((x, y, x + 3, y + 3), fill=40)  # specks of dust
    assert reason(encode(page, "JPEG", quality=75)) == "blank_image"


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_one_line_of_print_on_a_white_page_is_not_blank(fmt: str) -> None:
    page = Image.new("L", (1240, 1754), 255)
    ImageDraw.Draw(page).rectangle((200, 400, 700, 412), fill=90)  # a line, pale print
    assert reason(encode(page, fmt)) is None


def test_a_small_card_picture_is_not_tiny() -> None:
    card = Image.new("RGB", (100, 63), (230, 225, 210))
    ImageDraw.Draw(card).rectangle((10, 10, 60, 20), fill=(40, 40, 40))
    assert reason(encode(card, "PNG")) is None


def pictures_of(folder: Path) -> list[tuple[str, bytes]]:
    """Every page of every picture and document in ``folder``."""
    found = []
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() in (".json", ".jsonl", ".md", ".py", ".txt") or \
                path.name == "broken.jpg":
            continue
        for page in split_pages(path.read_bytes()):
            assert isinstance(page, Page), path
            found.append((f"{path.name}#{page.number or 1}", page.image))
    return found


def _no_card_is_found_on(pictures: list[tuple[str, bytes]]) -> None:
    lost = [name for name, raw in pictures if reason(raw) is not None]
    assert lost == []
    # And with room to spare: each holds 20 times the ink a blank may have at most.
    for name, raw in pictures:
        with Image.open(io.BytesIO(raw)) as image:
            if image.format == "JPEG":
                image.draft("RGB", (image.width // 8, image.height // 8))
            share = blank.ink_share(small_rgb(image, blank.BLANK_CHECK_SIDE_PX))
        assert share > 20 * blank.BLANK_MAX_INK_SHARE, name


def test_no_sample_card_is_taken_for_a_blank() -> None:
    _no_card_is_found_on(pictures_of(REPO / "samples" / "cards"))


@pytest.mark.slow
@pytest.mark.skipif(not DOCUMENTS.is_dir() or not SPECIMENS.is_dir(),
                    reason="../shared/documents and ../shared/specimens are not beside "
                    "the project")
def test_no_card_of_the_dev_sets_is_taken_for_a_blank() -> None:
    _no_card_is_found_on(pictures_of(SPECIMENS) + pictures_of(DOCUMENTS))


@pytest.mark.slow
def test_no_generated_document_or_card_page_is_taken_for_a_blank(tmp_path: Path) -> None:
    samples = make_samples()
    samples.write_documents(tmp_path / "documents")
    samples.write_card_pages(tmp_path / "pages")
    _no_card_is_found_on(pictures_of(tmp_path / "documents")
                         + pictures_of(tmp_path / "pages"))


def test_the_benchmarks_tiny_pictures_are_sent_not_taken_for_blanks() -> None:
    """The benchmarks time calls (docs/performance.md): pictures the pre-flight check
    calls blank would be rows with no call, and a run of them would time nothing."""
    from tests.card_pages import module_at

    images = module_at("bench_images", REPO / "tests" / "benchmarks" / "images.py")
    for template in images.tiny_templates():
        assert reason(template) is None


@pytest.mark.parametrize(("same_pixels", "blank_expected"), [(True, True), (False, False)])
def test_ink_in_two_channels_counts_once_per_pixel(same_pixels: bool,
                                                   blank_expected: bool) -> None:
    """Two channels each marked on 0.07% of a grey picture: on the same pixels that is
    0.07% ink (blank: under 0.1%); on different pixels 0.14% (something is there). The
    channels' histograms alone cannot tell these apart: the pixels are measured."""
    image = Image.new("RGB", (500, 500), (128, 128, 128))
    marked = int(0.0007 * 470 * 470)  # the check looks inside a 3% margin of a 500 px side
    for index in range(marked):
        x, y = 20 + index % 400, 20 + index // 400
        red, green = (x, y), ((x, y) if same_pixels else (x, y + 100))
        image.putpixel(red, (250, 128, 128))
        image.putpixel(green, (250 if same_pixels else 128, 250, 128))
    assert blank.is_blank(image) is blank_expected
    assert (blank.ink_share(image) < blank.BLANK_MAX_INK_SHARE) is blank_expected
