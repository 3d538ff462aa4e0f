"""page_views: each row's page (PDF page, TIFF frame, image) and the cards found on it."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest
from PIL import Image
from report_fakes import SHEET_PX, base_row, draw_card, draw_sheet, is_mosaic

from batch_ocr.report.entries import build_entry
from batch_ocr.report.page_views import (
    cards_numbered_by_page,
    own_outlines,
    page_views,
    view_of_image,
)
from batch_ocr.report.thumbs import THUMB_MAX_PX
from batch_ocr.vision import crops
from tests.pdf_support import encrypted, pillow_pdf

needs_finder = pytest.mark.skipif(not crops.available(), reason="needs the 'local' extra")


def _image(data_uri: str) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(data_uri.split(",", 1)[1])))


def _jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


@needs_finder
def test_each_pdf_page_is_its_own_thumbnail_with_its_cards(tmp_path: Path) -> None:
    pdf = tmp_path / "day.pdf"
    pdf.write_bytes(pillow_pdf(images=[draw_sheet(2), draw_sheet(4, columns=2, seed=3),
                                       draw_sheet(1, seed=5)]))  # fmt: skip
    views = page_views([(pdf, 1), (pdf, 2), (pdf, 3)], masked=False)
    counts = [len(views[(pdf, n)].outlines or ()) for n in (1, 2, 3)]
    assert counts == [2, 4, 1]
    page2 = views[(pdf, 2)]
    assert max(page2.width, page2.height) == THUMB_MAX_PX
    assert _image(page2.data_uri).size == (page2.width, page2.height)
    # Outlines in thumbnail pixels, in reading order: two rows of two.
    corners = [min(zip(q[0::2], q[1::2], strict=True)) for q in page2.outlines or ()]
    assert corners[0][0] < corners[1][0] and corners[2][0] < corners[3][0]
    assert corners[0][1] < corners[2][1] and corners[1][1] < corners[3][1]


@needs_finder
def test_tiff_frames_and_plain_images(tmp_path: Path) -> None:
    tiff = tmp_path / "copies.tif"
    first, second = draw_sheet(2), draw_sheet(3, seed=2)
    first.save(tiff, "TIFF", save_all=True, append_images=[second], compression="tiff_deflate")
    photo = draw_card(tmp_path / "photo.jpg")
    views = page_views([(tiff, 1), (tiff, 2), (photo, None)], masked=False)
    assert [len(views[(tiff, n)].outlines or ()) for n in (1, 2)] == [2, 3]
    assert len(views[(photo, None)].outlines or ()) == 1


def test_unreadable_pages_get_a_reason_never_an_exception(tmp_path: Path) -> None:
    locked = tmp_path / "locked.pdf"
    locked.write_bytes(encrypted(pillow_pdf(1)))
    damaged = tmp_path / "damaged.jpg"
    damaged.write_bytes(_jpeg(draw_sheet(1))[:2000])
    short = tmp_path / "short.pdf"
    short.write_bytes(pillow_pdf(2))
    views = page_views([(locked, 1), (damaged, None), (short, 5), (tmp_path / "gone.png", None),
                        (short, None)], masked=False)  # fmt: skip
    assert "password" in views[(locked, 1)].problem
    assert views[(damaged, None)].problem.startswith("cannot read image")
    assert views[(short, 5)].problem == "the file has no page 5 now"
    assert views[(tmp_path / "gone.png", None)].problem == "image not found"
    # A --pair card row names a file, not a page: of a two-page PDF that is not enough.
    assert "which one" in views[(short, None)].problem
    assert not any(view.data_uri for view in views.values())


def test_a_masked_view_is_a_mosaic_with_the_same_outlines() -> None:
    page = _jpeg(draw_sheet(2))
    clear, masked = view_of_image(page, masked=False), view_of_image(page, masked=True)
    assert masked.masked and is_mosaic(masked.data_uri)
    assert not is_mosaic(clear.data_uri)
    assert masked.outlines == clear.outlines
    assert (masked.width, masked.height) == (clear.width, clear.height)


def test_without_opencv_there_is_the_thumbnail_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(crops, "available", lambda: False)
    view = view_of_image(_jpeg(draw_sheet(2)), masked=False)
    assert view.data_uri and view.outlines is None
    assert round(view.width / view.height, 2) == round(SHEET_PX[0] / SHEET_PX[1], 2)


@pytest.mark.parametrize(
    ("card", "side", "outlines", "numbered", "mine"),
    [
        (3, "front", 4, 4, [2]),  # a page of four numbered sides
        (2, "front", 3, 2, []),  # two fronts and a bank card: which is which is not known
        (None, "both", 2, 0, [0, 1]),  # a front and a back: both are the row's
        (None, "front", 1, 0, [0]),  # one card on the picture
        (None, "front", 2, 0, []),  # an ID card beside a bank card: not guessed
        (None, "both", 0, 0, []),  # no outline seen (a copy as grey as its cards)
        (5, "back", 4, 5, []),  # the finder missed a card
    ],
)
def test_the_rows_own_card(
    card: int | None, side: str, outlines: int, numbered: int, mine: list[int]
) -> None:
    assert own_outlines(card=card, side=side, outline_count=outlines,
                        cards_numbered=numbered) == mine  # fmt: skip


def test_cards_numbered_by_page() -> None:
    rows = [base_row("a.pdf", page=1, card=1), base_row("a.pdf", page="1", card="2"),
            base_row("a.pdf", page=2), base_row("b.png", card=3)]
    entries = [build_entry(row, index) for index, row in enumerate(rows)]
    assert cards_numbered_by_page(entries) == {("a.pdf", 1): 2, ("b.png", None): 3}


def test_a_rendered_pdf_page_has_a_thumbnail(tmp_path: Path) -> None:
    from tests.pdf_support import A4_PT, pdfium_pdf

    pdf = tmp_path / "drawn.pdf"
    pdf.write_bytes(pdfium_pdf(A4_PT, A4_PT))  # no embedded scan: PDFium renders the page
    view = page_views([(pdf, 2)], masked=False)[(pdf, 2)]
    assert view.problem == "" and _image(view.data_uri).height == THUMB_MAX_PX
