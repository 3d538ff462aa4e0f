"""PDFs for tests, made in the test: scanner-style, PDFium-built, damaged, locked, empty."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence

import pypdfium2 as pdfium
from PIL import Image, ImageDraw

A4_PT = (595.0, 842.0)


def scan(index: int, size: tuple[int, int] = (1240, 1754), mode: str = "RGB") -> Image.Image:
    """A page-sized picture, distinct per ``index`` (its black box moves right)."""
    image = Image.new(mode, size, "white")
    ImageDraw.Draw(image).rectangle((100 + 40 * index, 100, 600, 400), fill="black")
    return image


def pillow_pdf(count: int = 0, images: Sequence[Image.Image] = ()) -> bytes:
    """A PDF as a scanner writes it: each page one JPEG filling the page (Pillow)."""
    pictures = list(images) or [scan(i) for i in range(count)]
    buffer = io.BytesIO()
    pictures[0].save(buffer, "PDF", save_all=True, append_images=pictures[1:], resolution=150)
    return buffer.getvalue()


def pdfium_pdf(*page_sizes_pt: tuple[float, float], small_jpeg: bool = False) -> bytes:
    """A PDF built with PDFium: blank pages of the given sizes (a small JPEG on the first)."""
    document = pdfium.PdfDocument.new()
    for width, height in page_sizes_pt:
        document.new_page(width, height)
    if small_jpeg:
        page = document[0]
        jpeg = io.BytesIO()
        scan(0, (400, 250)).save(jpeg, "JPEG")
        jpeg.seek(0)
        image = pdfium.PdfImage.new(document)
        image.load_jpeg(jpeg, inline=True)
        image.set_matrix(pdfium.PdfMatrix().scale(200, 125).translate(50, 600))
        page.insert_obj(image)
        page.gen_content()
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def pdf_from_objects(*objects: bytes) -> bytes:
    """A well-formed PDF of ``objects`` (numbered from 1, the first the catalog)."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


def empty_pdf() -> bytes:
    """A valid PDF without a single page."""
    return pdf_from_objects(b"<< /Type /Catalog /Pages 2 0 R >>",
                            b"<< /Type /Pages /Kids [] /Count 0 >>")


def encrypted(raw: bytes) -> bytes:
    """``raw`` with a standard-security /Encrypt entry whose user password is not empty."""
    encrypt = (b"/Encrypt << /Filter /Standard /V 1 /R 2 /P -4 /O <" + b"11" * 32
               + b"> /U <" + b"22" * 32 + b"> >> /ID [<" + b"33" * 16 + b"> <" + b"33" * 16
               + b">]")
    head, sep, tail = raw.rpartition(b"trailer")
    assert sep
    return head + sep + re.sub(rb"<<", b"<< " + encrypt, tail, count=1)
