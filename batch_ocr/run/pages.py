"""One input file, its page images: a PDF's pages, a multi-page TIFF's frames.

Each page is recognised as an image of its own (docs/documents.md). A PDF page that is
one embedded JPEG scan filling the page is taken as that JPEG, byte for byte; any other
page is rendered by PDFium at ``RENDER_DPI``, which gives an ID card (85.6 mm wide) about
670 px across. A TIFF with more than one frame gives one page per frame, re-encoded
losslessly as PNG. Anything else is one page, the file itself, with no page number.

PDFium is C++ reading untrusted files, so PDFs are opened in a child process (one per
file) with a memory ceiling and a time limit per page: a damaged file that would crash,
hang or exhaust the renderer costs a ``rejected`` row, never the run. Pages stream back
one at a time, so memory does not grow with the page count.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import resource
import subprocess
import sys
import warnings
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from PIL import Image

from batch_ocr.errors import ImageRejected
from batch_ocr.vision import imaging, strips
from batch_ocr.vision.picture import reduced

#: More pages than this in one file is no stack of ID card copies: the file is refused.
MAX_PAGES = 500
#: 200 dpi puts an ID card (85.6 mm) at about 670 px wide, over the ~600 px OCR needs.
RENDER_DPI = 200
#: A page is at most 200 inches on a side (PDF's own limit is 14,400 units of 1/72 in)
#: and at least one inch: anything else cannot be a page holding an ID card.
MAX_PAGE_SIDE_PT = 14_400.0
MIN_PAGE_SIDE_PT = 72.0
#: A rendered page holds at most this many pixels (4000 x 4000, the API's own limit);
#: larger pages are rendered at a lower resolution rather than refused.
MAX_RENDER_PIXELS = 16_000_000
#: Past this many pixels a TIFF frame is not decoded at all (decompression bombs).
MAX_FRAME_PIXELS = 80_000_000
#: The renderer may take this long per page (and to open the file) before it is stopped.
PAGE_TIMEOUT_S = 30.0
#: The renderer process's address space; past it PDFium fails instead of the machine.
RENDERER_MEMORY_BYTES = 2 * 1024**3
#: After this many renderer crashes or timeouts in one file, its other pages are refused.
MAX_RENDERER_RESTARTS = 3
#: An embedded image this close to covering the page is "the page" (scanners add margins
#: of a few points).
EMBEDDED_COVER_FRACTION = 0.9

_EXIF_ORIENTATION = 0x0112

# PDFium's document-loading error codes (fpdfview.h, FPDF_ERR_*). A document with no
# page fails to load with "success": PDFium refuses it without naming an error.
_ERR_SUCCESS = 0
_ERR_PASSWORD = 4
_ERR_SECURITY = 6


@dataclass(frozen=True, slots=True)
class Page:
    """One image to recognise: ``number`` is 1-based in a document, None for an image.

    ``page_count`` is how many outcomes the file gives (1 for an image).
    """

    number: int | None
    image: bytes
    page_count: int = 1


@dataclass(frozen=True, slots=True)
class PageRejected:
    """A page (``number``) or a whole file (``number`` None) refused before any call.

    Plain strings, not the ``ImageRejected`` itself: it crosses a process boundary, and
    exceptions with keyword-less custom constructors do not survive pickling.
    """

    number: int | None
    error_code: str
    message: str
    page_count: int = 1

    @classmethod
    def of(cls, number: int | None, error: ImageRejected, page_count: int = 1) -> PageRejected:
        return cls(number, error.error_code, error.message, page_count)

    @property
    def error(self) -> ImageRejected:
        return ImageRejected(self.error_code, self.message)


PageOutcome = Page | PageRejected


def is_pdf(head: bytes) -> bool:
    """True for a PDF (its header may follow up to 1 KB of junk, as readers allow)."""
    return b"%PDF-" in head[:1024]


def split_pages(raw: bytes) -> Generator[PageOutcome, None, None]:
    """The pages of one file's bytes, lazily, in order.

    Never raises for bad content: what cannot be read becomes a ``PageRejected``. A file
    that is no PDF and no multi-frame TIFF is one ``Page`` holding ``raw`` itself, so its
    checks (``imaging.prepare``) and its identity (the sha256 of the file) are unchanged.
    Close the iterator when stopping early: it stops the renderer.
    """
    if is_pdf(raw[:1024]):
        yield from _pdf_pages_isolated(raw)
    elif raw.startswith((b"II*\x00", b"MM\x00*")):
        yield from _tiff_pages(raw)
    else:
        yield Page(None, raw)


# -- TIFF ----------------------------------------------------------------------------


def _frame_count(raw: bytes) -> int:
    """How many frames a TIFF holds; 1 when that cannot be told (checks say why later)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(raw)) as image:
                return int(getattr(image, "n_frames", 1))
    except Exception:  # noqa: BLE001 - any damage: imaging.prepare names it on the whole file
        return 1


def _tiff_pages(raw: bytes) -> Iterator[PageOutcome]:
    frames = _frame_count(raw)
    if frames <= 1:
        yield Page(None, raw)
        return
    if frames > MAX_PAGES:
        yield PageRejected.of(None, ImageRejected(
            "too_many_pages", f"the TIFF has {frames} pages; at most {MAX_PAGES} are read"))
        return
    with Image.open(io.BytesIO(raw)) as image:
        for index in range(frames):
            yield _tiff_frame(raw, image, index, frames)


def _tiff_frame(raw: bytes, image: Image.Image, index: int, frames: int) -> PageOutcome:
    number = index + 1
    try:
        image.seek(index)
        width, height = image.size
        if width * height > MAX_FRAME_PIXELS:
            return PageRejected.of(number, ImageRejected(
                "image_too_large", f"{width}x{height} px is too many pixels to decode safely"),
                frames)
        # One frame decoded at a time, cut down before it is encoded: a stack of large
        # frames costs the memory of one; a frame too big to hold whole is read a band
        # of rows at a time, cut down as it is read (docs/survives.md, "Memory").
        if imaging.admission(image.mode, width, height).in_bands:
            factor = -(-max(width, height) // imaging.WORK_MAX_SIDE_PX)
            small = strips.tiff_frame(raw, image, factor, reduced)
            if small is None:
                raise imaging.decode_refusal(image.mode, width, height)
            return Page(number, _png_bytes(small), frames)
        image.load()
        return Page(number, _png_bytes(imaging.cut_down(image)), frames)
    except ImageRejected as exc:
        return PageRejected.of(number, exc, frames)
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        return PageRejected.of(number, ImageRejected(
            "corrupt_image", f"TIFF page {number} is damaged: {exc}"), frames)


def _png_bytes(image: Image.Image) -> bytes:
    """Lossless PNG of one frame; modes PNG cannot hold become RGB (or 8-bit grey)."""
    if image.mode.startswith("I;16") or image.mode in ("I", "F"):
        # Scale 16/32-bit grey to 8 bits: a plain convert clips a mid-grey scan to white.
        image = image.convert("I").point(lambda value: value / 256).convert("L")
    elif image.mode not in ("1", "L", "LA", "P", "RGB", "RGBA"):
        image = image.convert("RGB")
    buffer = io.BytesIO()
    # compress_level 1: a frame is re-encoded for sending anyway; speed beats size here.
    image.save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


# -- PDF, in the renderer process ----------------------------------------------------


_EMPTY = ImageRejected("empty_pdf", "the PDF has no pages")


def _rejection_for_open_error(exc: Exception) -> ImageRejected:
    code = getattr(exc, "err_code", None)
    if code in (_ERR_PASSWORD, _ERR_SECURITY):
        return ImageRejected("encrypted_pdf",
                             "the PDF is protected by a password: save an unprotected copy")
    if code == _ERR_SUCCESS:
        return _EMPTY
    return ImageRejected("corrupt_pdf", "the PDF is damaged: it cannot be opened")


def _embedded_scan(page: Any, width_pt: float, height_pt: float) -> bytes | None:
    """The page's JPEG when the page is nothing but one upright JPEG covering it."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    if page.get_rotation() != 0:
        return None
    objects = list(page.get_objects(max_depth=1))
    if len(objects) != 1 or objects[0].type != pdfium_c.FPDF_PAGEOBJ_IMAGE:
        return None
    image: pdfium.PdfImage = objects[0]
    if image.get_filters() != ["DCTDecode"]:
        return None
    matrix = image.get_matrix()
    if matrix.b != 0 or matrix.c != 0 or matrix.a <= 0 or matrix.d <= 0:
        return None  # turned or mirrored: rendering puts it the right way up
    left, bottom, right, top = image.get_bounds()
    if (right - left) * (top - bottom) < EMBEDDED_COVER_FRACTION * width_pt * height_pt:
        return None
    data = bytes(image.get_data(decode_simple=False))
    try:
        with Image.open(io.BytesIO(data)) as jpeg:
            if jpeg.format != "JPEG" or jpeg.mode not in ("L", "RGB"):
                return None  # CMYK JPEGs in PDFs are often stored inverted: render instead
            if jpeg.getexif().get(_EXIF_ORIENTATION, 1) != 1:
                return None  # PDF readers ignore EXIF turns; an image reader would not
    except Exception:  # noqa: BLE001 - not a JPEG Pillow reads: let PDFium draw it
        return None
    return data


def _render_scale(width_pt: float, height_pt: float) -> float:
    scale = RENDER_DPI / 72
    if width_pt * height_pt * scale * scale > MAX_RENDER_PIXELS:
        scale = math.sqrt(MAX_RENDER_PIXELS / (width_pt * height_pt))
    return scale


def _pdf_page(document: Any, index: int, count: int) -> PageOutcome:
    number = index + 1
    try:
        page = document[index]
        try:
            width_pt, height_pt = page.get_size()
            if not (min(width_pt, height_pt) >= MIN_PAGE_SIDE_PT
                    and max(width_pt, height_pt) <= MAX_PAGE_SIDE_PT):
                return PageRejected.of(number, ImageRejected(
                    "bad_page_size",
                    f"page {number} is {width_pt / 72:.1f} x {height_pt / 72:.1f} inches; "
                    "a page holding an ID card is 1 to 200 inches on a side"), count)
            scan = _embedded_scan(page, width_pt, height_pt)
            if scan is not None:
                return Page(number, scan, count)
            bitmap = page.render(scale=_render_scale(width_pt, height_pt), may_draw_forms=False)
            return Page(number, _png_bytes(bitmap.to_pil()), count)
        finally:
            page.close()
    except MemoryError:
        return PageRejected.of(number, ImageRejected(
            "render_failed", f"page {number} needs more memory to render than is allowed"),
            count)
    except Exception as exc:  # noqa: BLE001 - PdfiumError and friends: this page is damaged
        return PageRejected.of(number, ImageRejected(
            "corrupt_pdf", f"page {number} of the PDF is damaged: {exc}"), count)


def _renderer(conn: Connection, raw: bytes, first_page: int) -> None:
    """The renderer process: send ``("count", n)``, then one outcome per page, then done."""
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (RENDERER_MEMORY_BYTES, RENDERER_MEMORY_BYTES))
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(raw)
    except Exception as exc:  # noqa: BLE001 - PdfiumError: damaged or encrypted
        conn.send(PageRejected.of(None, _rejection_for_open_error(exc)))
        return
    try:
        count = len(document)
        conn.send(("count", count))
        if count == 0:
            conn.send(PageRejected.of(None, _EMPTY))
            return
        if count > MAX_PAGES:
            conn.send(PageRejected.of(None, ImageRejected(
                "too_many_pages", f"the PDF has {count} pages; at most {MAX_PAGES} are read")))
            return
        for index in range(first_page - 1, count):
            conn.send(_pdf_page(document, index, count))
    finally:
        document.close()
        conn.send(("done", 0))


# -- PDF, in the run's process -------------------------------------------------------


class _RendererStopped(Exception):
    """The renderer died or ran out of time on the page it was drawing."""

    def __init__(self, error: ImageRejected) -> None:
        super().__init__(error.message)
        self.error = error


def _messages(raw: bytes, first_page: int) -> Iterator[Any]:
    """What one renderer process sends, each within ``PAGE_TIMEOUT_S``.

    A plain child interpreter (about 0.2 s to start), not ``multiprocessing``: its
    spawn and forkserver methods re-run the parent's main script in every child.
    """
    read_fd, write_fd = os.pipe()
    try:
        process = subprocess.Popen(
            [sys.executable, "-c", _RENDERER_MAIN, str(write_fd), str(first_page)],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            pass_fds=(write_fd,), env=_renderer_environment(),
        )
    finally:
        os.close(write_fd)
    receiver = Connection(read_fd, writable=False)
    try:
        assert process.stdin is not None
        with contextlib.suppress(BrokenPipeError):  # it died at once: EOF below says so
            process.stdin.write(raw)
        with contextlib.suppress(BrokenPipeError):
            process.stdin.close()
        while True:
            if not receiver.poll(PAGE_TIMEOUT_S):
                raise _RendererStopped(ImageRejected(
                    "render_timeout",
                    f"the PDF renderer took more than {PAGE_TIMEOUT_S:.0f} s"))
            try:
                message = receiver.recv()
            except EOFError:
                # Its pipe closed: it is exiting. Wait for the status it exits with.
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(5)
                if process.returncode is None:
                    process.kill()
                    process.wait()
                raise _RendererStopped(ImageRejected(
                    "render_failed",
                    f"the PDF renderer stopped (exit code {process.returncode}): the file "
                    "is damaged or needs too much memory")) from None
            if message == ("done", 0):
                return
            yield message
    finally:
        receiver.close()
        if process.poll() is None:
            process.kill()
        process.wait()


def _renderer_environment() -> dict[str, str]:
    """The run's environment without batch-ocr's own settings: the renderer needs no key."""
    return {name: value for name, value in os.environ.items()
            if not name.startswith("BATCH_OCR_")}


_RENDERER_MAIN = (
    "import sys; from batch_ocr.run.pages import renderer_main; renderer_main(sys.argv[1:])")


def renderer_main(argv: list[str]) -> None:
    """Entry point of the renderer process: the PDF on stdin, messages on fd ``argv[0]``."""
    message_fd, first_page = int(argv[0]), int(argv[1])
    raw = sys.stdin.buffer.read()
    with Connection(message_fd, readable=False) as conn:
        _renderer(conn, raw, first_page)


def _pdf_pages_isolated(raw: bytes) -> Iterator[PageOutcome]:
    """The pages of a PDF, rendered in child processes; failures become rejections."""
    next_page = 1
    count: int | None = None
    restarts = 0
    while count is None or next_page <= count:
        try:
            for message in _messages(raw, next_page):
                if isinstance(message, tuple):
                    count = message[1]
                    continue
                yield message
                if message.number is None:
                    return  # the whole file was refused
                next_page = message.number + 1
            return
        except _RendererStopped as stopped:
            if count is None:
                yield PageRejected.of(None, stopped.error)
                return
            restarts += 1
            failed = next_page
            next_page += 1
            yield PageRejected(failed, stopped.error.error_code,
                               f"page {failed}: {stopped.error.message}", count)
            if restarts >= MAX_RENDERER_RESTARTS:
                for number in range(next_page, count + 1):
                    yield PageRejected(number, stopped.error.error_code,
                                       f"page {number} was not rendered: the renderer failed "
                                       f"{restarts} times on earlier pages of this file",
                                       count)
                return
