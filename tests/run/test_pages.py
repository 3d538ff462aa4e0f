"""Splitting files into pages: PDFs (embedded scans, rendered pages), TIFF frames, refusals."""

from __future__ import annotations

import io
import subprocess
from typing import Any

import pypdfium2 as pdfium
import pytest
from PIL import Image

from batch_ocr.run import pages
from batch_ocr.run.pages import Page, PageOutcome, PageRejected, split_pages
from tests.pdf_support import A4_PT, empty_pdf, encrypted, pdfium_pdf, pillow_pdf, scan


def tiff(frames: list[Image.Image]) -> bytes:
    buffer = io.BytesIO()
    frames[0].save(buffer, "TIFF", save_all=True, append_images=frames[1:],
                   compression="tiff_deflate")
    return buffer.getvalue()


def outcomes(raw: bytes) -> list[PageOutcome]:
    return list(split_pages(raw))


def rejection(raw: bytes) -> tuple[int | None, str, str]:
    (only,) = outcomes(raw)
    assert isinstance(only, PageRejected), only
    return only.number, only.error_code, only.message


def test_a_plain_image_is_one_unnumbered_page_holding_the_file_itself() -> None:
    jpeg = io.BytesIO()
    scan(0).save(jpeg, "JPEG")
    assert outcomes(jpeg.getvalue()) == [Page(None, jpeg.getvalue())]
    assert outcomes(b"not an image at all") == [Page(None, b"not an image at all")]


def test_a_scanned_pdf_gives_each_page_s_own_jpeg_unchanged() -> None:
    raw = pillow_pdf(3)
    found = outcomes(raw)
    assert [(p.number, p.page_count) for p in found] == [(1, 3), (2, 3), (3, 3)]
    for index, page in enumerate(found):
        assert isinstance(page, Page)
        with Image.open(io.BytesIO(page.image)) as image:
            assert (image.format, image.size) == ("JPEG", (1240, 1754))
            # The page's own picture (its black box starts further right on each page).
            assert image.convert("L").getpixel((100 + 40 * index + 5, 200)) < 60
    assert len({p.image for p in found if isinstance(p, Page)}) == 3


def test_a_page_that_is_not_one_full_page_scan_is_rendered_at_200_dpi() -> None:
    found = outcomes(pdfium_pdf(A4_PT, small_jpeg=True))
    (page,) = found
    assert isinstance(page, Page) and page.number == 1
    with Image.open(io.BytesIO(page.image)) as image:
        assert image.format == "PNG"
        # A4 at 200 dpi: an ID card (85.6 mm) on it is 674 px wide.
        assert image.size == (round(595 / 72 * 200), round(842 / 72 * 200))
        assert image.convert("L").getpixel((500, 600)) < 60  # the JPEG is drawn
    assert 85.6 / 25.4 * pages.RENDER_DPI >= 600


def test_a_scan_with_an_exif_turn_is_rendered_as_the_pdf_shows_it() -> None:
    image = scan(0, (400, 600))
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90": PDF readers ignore it, image readers obey it
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif.tobytes())
    document = pdfium.PdfDocument.new()
    page = document.new_page(400 * 72 / 150, 600 * 72 / 150)
    embedded = pdfium.PdfImage.new(document)
    buffer.seek(0)
    embedded.load_jpeg(buffer, inline=True)
    embedded.set_matrix(pdfium.PdfMatrix().scale(400 * 72 / 150, 600 * 72 / 150))
    page.insert_obj(embedded)
    page.gen_content()
    out = io.BytesIO()
    document.save(out)
    (found,) = outcomes(out.getvalue())
    assert isinstance(found, Page)
    with Image.open(io.BytesIO(found.image)) as rendered:
        assert rendered.format == "PNG" and rendered.height > rendered.width  # upright


def test_rendering_is_stable_so_an_unchanged_page_keeps_its_identity() -> None:
    first = outcomes(pdfium_pdf(A4_PT, small_jpeg=True))
    again = outcomes(pdfium_pdf(A4_PT, small_jpeg=True))
    assert first == again


def test_pages_of_a_grown_pdf_keep_their_bytes() -> None:
    two, three = outcomes(pillow_pdf(2)), outcomes(pillow_pdf(3))
    assert [(p.number, p.image) for p in three[:2]] == [(p.number, p.image) for p in two]  # type: ignore[union-attr]
    assert [p.page_count for p in two + three] == [2, 2, 3, 3, 3]


def test_a_huge_page_is_rendered_within_the_pixel_budget() -> None:
    (page,) = outcomes(pdfium_pdf((7200.0, 7200.0)))  # 100 x 100 inches
    assert isinstance(page, Page)
    with Image.open(io.BytesIO(page.image)) as image:
        assert image.width * image.height <= pages.MAX_RENDER_PIXELS


def test_absurd_page_sizes_are_refused_page_by_page() -> None:
    found = outcomes(pdfium_pdf(A4_PT, (20000.0, 800.0), (10.0, 10.0)))
    assert isinstance(found[0], Page)
    for number, outcome in zip((2, 3), found[1:], strict=True):
        assert isinstance(outcome, PageRejected)
        assert (outcome.number, outcome.error_code) == (number, "bad_page_size")
    assert found[1].message == (  # type: ignore[union-attr]
        "page 2 is 277.8 x 11.1 inches; a page holding an ID card is 1 to 200 inches on a side")


def test_a_damaged_pdf_is_refused_whole() -> None:
    assert rejection(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< >>\nendobj\ntrailer\n%%EOF\n") == (
        None, "corrupt_pdf", "the PDF is damaged: it cannot be opened")
    raw = pillow_pdf(2)
    assert rejection(raw[: len(raw) // 3])[1] == "corrupt_pdf"


def test_an_empty_pdf_is_refused() -> None:
    assert rejection(empty_pdf()) == (None, "empty_pdf", "the PDF has no pages")


def test_a_password_protected_pdf_is_refused_with_its_own_code() -> None:
    assert rejection(encrypted(pillow_pdf(1))) == (
        None, "encrypted_pdf", "the PDF is protected by a password: save an unprotected copy")


def test_too_many_pages_are_refused_before_any_is_rendered() -> None:
    assert rejection(pdfium_pdf(*[A4_PT] * (pages.MAX_PAGES + 1))) == (
        None, "too_many_pages", f"the PDF has {pages.MAX_PAGES + 1} pages; at most "
        f"{pages.MAX_PAGES} are read")


def test_a_renderer_that_hangs_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pages, "_RENDERER_MAIN", "import time; time.sleep(60)")
    monkeypatch.setattr(pages, "PAGE_TIMEOUT_S", 0.5)
    assert rejection(pillow_pdf(1)) == (
        None, "render_timeout", "the PDF renderer took more than 0 s")


_SENDS_COUNT_THEN_DIES = (
    "import os, sys; from multiprocessing.connection import Connection; "
    "sys.stdin.buffer.read(); "
    "Connection(int(sys.argv[1]), readable=False).send(('count', 5)); os._exit(9)"
)


def test_a_renderer_that_crashes_costs_its_page_and_is_restarted_a_few_times(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pages, "_RENDERER_MAIN", _SENDS_COUNT_THEN_DIES)
    found = outcomes(pillow_pdf(1))
    assert [(o.number, o.error_code) for o in found if isinstance(o, PageRejected)] == [
        (n, "render_failed") for n in range(1, 6)]
    assert found[0].message == (  # type: ignore[union-attr]
        "page 1: the PDF renderer stopped (exit code 9): the file is damaged or needs too "
        "much memory")
    assert found[4].message == (  # type: ignore[union-attr]
        "page 5 was not rendered: the renderer failed 3 times on earlier pages of this file")


def test_the_renderer_gets_no_setting_of_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BATCH_OCR_SECRET_KEY", "demo-secret-key-0000000000000000")
    monkeypatch.setenv("LANG", "C.UTF-8")
    environment = pages._renderer_environment()
    assert "BATCH_OCR_SECRET_KEY" not in environment and environment["LANG"] == "C.UTF-8"
    assert isinstance(outcomes(pillow_pdf(1))[0], Page)


def test_stopping_early_ends_the_renderer(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[subprocess.Popen[bytes]] = []
    real_popen = subprocess.Popen

    def recording_popen(*args: Any, **kwargs: Any) -> subprocess.Popen[bytes]:
        started.append(real_popen(*args, **kwargs))
        return started[-1]

    monkeypatch.setattr(pages.subprocess, "Popen", recording_popen)
    iterator = split_pages(pillow_pdf(3))
    first = next(iterator)
    assert isinstance(first, Page) and first.number == 1
    (renderer,) = started
    iterator.close()
    assert renderer.returncode is not None  # killed and reaped, not left running


def test_each_frame_of_a_multi_page_tiff_is_a_numbered_lossless_page() -> None:
    frames = [scan(0, (800, 500), "L"), scan(1, (800, 500), "L")]
    found = outcomes(tiff(frames))
    assert [(p.number, p.page_count) for p in found] == [(1, 2), (2, 2)]
    for frame, page in zip(frames, found, strict=True):
        assert isinstance(page, Page)
        with Image.open(io.BytesIO(page.image)) as image:
            assert image.format == "PNG"
            assert image.tobytes() == frame.tobytes()


def test_a_single_frame_tiff_is_the_file_itself() -> None:
    raw = tiff([scan(0, (300, 200))])
    assert outcomes(raw) == [Page(None, raw)]


def test_a_16_bit_tiff_frame_keeps_its_greys() -> None:
    frame = Image.new("I;16", (100, 60), 32768)
    found = outcomes(tiff([frame, frame.copy()]))
    page = found[0]
    assert isinstance(page, Page)
    with Image.open(io.BytesIO(page.image)) as image:
        assert image.mode == "L" and image.getpixel((5, 5)) == 128


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
def test_a_damaged_tiff_is_left_to_the_image_checks() -> None:
    raw = tiff([scan(0, (300, 200)), scan(1, (300, 200))])
    damaged = raw[:40]
    assert outcomes(damaged) == [Page(None, damaged)]
