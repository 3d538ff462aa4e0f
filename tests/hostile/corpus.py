"""A generated corpus of hostile inputs: every kind is built from scratch by code.

Nothing here is hand-picked to pass: each builder makes the damaged or odd file the
way it happens in the wild (a copy cut short, a flipped byte, a web page saved under
an image name, a phone's rotated JPEG) and ``EXPECTED`` says what batch-ocr must make
of it. Builders are deterministic (seeded), so a failure replays.
"""

from __future__ import annotations

import io
import os
import random
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

from tests import pdf_support

#: A row that went through the API: the emulator answers a non-fixture picture so.
SENT = ("not_id_card", "")


def _rng(name: str) -> random.Random:
    return random.Random(name)


def _picture(size: tuple[int, int] = (320, 200), mode: str = "RGB", seed: str = "x"
             ) -> Image.Image:
    """A picture with some structure (so JPEG/PNG sizes are realistic), as busy at any
    size: a blank or uniform picture is never sent (docs/reference.md, "Statuses")."""
    rng = _rng(seed)
    image = Image.new("RGB", size, tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x0, y0 = rng.randrange(size[0]), rng.randrange(size[1])
        draw.rectangle((x0, y0, x0 + rng.randrange(1, max(2, size[0] // 5)),
                        y0 + rng.randrange(1, max(2, size[1] // 5))),
                       fill=tuple(rng.randrange(256) for _ in range(3)))
    draw.text((6, 6), seed, fill="black")
    return image if mode == "RGB" else image.convert(mode)


def _encoded(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def jpeg_bytes(seed: str = "jpeg", size: tuple[int, int] = (320, 200)) -> bytes:
    return _encoded(_picture(size, seed=seed), "JPEG", quality=85)


def png_bytes(seed: str = "png", size: tuple[int, int] = (320, 200)) -> bytes:
    return _encoded(_picture(size, seed=seed), "PNG")


def _png_chunks(data: bytes) -> list[tuple[int, bytes, bytes]]:
    """(offset, type, payload) of each chunk of a PNG."""
    chunks, offset = [], 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset:offset + 4])
        kind = data[offset + 4:offset + 8]
        chunks.append((offset, kind, data[offset + 8:offset + 8 + length]))
        offset += 12 + length
    return chunks


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return (struct.pack(">I", len(payload)) + kind + payload
            + struct.pack(">I", zlib.crc32(kind + payload)))


# -- builders: each writes one file (or link) at ``path`` ---------------------------------

def zero_byte(path: Path) -> None:
    path.write_bytes(b"")


def truncated_jpeg(path: Path) -> None:
    data = jpeg_bytes("truncated-jpeg")
    path.write_bytes(data[: len(data) * 2 // 3])  # a copy cut short


def truncated_png(path: Path) -> None:
    data = png_bytes("truncated-png")
    path.write_bytes(data[: len(data) * 2 // 3])


def _flip_crc(data: bytes, chunk: bytes) -> bytes:
    """The PNG with one bit of ``chunk``'s stored CRC flipped (its payload intact)."""
    damaged = bytearray(data)
    offset, _, payload = next(c for c in _png_chunks(data) if c[1] == chunk)
    damaged[offset + 8 + len(payload)] ^= 0x01
    return bytes(damaged)


def png_bad_idat_crc(path: Path) -> None:
    """The pixels' chunk fails its CRC: a decoder that skips the check sees nothing wrong."""
    path.write_bytes(_flip_crc(png_bytes("bad-crc"), b"IDAT"))


def png_bad_header_crc(path: Path) -> None:
    path.write_bytes(_flip_crc(png_bytes("bad-header-crc"), b"IHDR"))


def png_flipped_pixel_bit(path: Path) -> None:
    """One bit flipped inside the compressed pixels (CRC and deflate both disagree)."""
    data = bytearray(png_bytes("flipped"))
    offset, _, payload = next(c for c in _png_chunks(bytes(data)) if c[1] == b"IDAT")
    data[offset + 8 + len(payload) // 2] ^= 0x10
    path.write_bytes(bytes(data))


def text_as_jpg(path: Path) -> None:
    path.write_text("name,id\n张三,110101199003070000\n" * 20, encoding="utf-8")


def html_as_png(path: Path) -> None:
    path.write_text("<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head>"
                    "<body><h1>Not Found</h1></body></html>\n", encoding="utf-8")


def strip_1x1000(path: Path) -> None:
    Image.new("L", (1, 1000), 128).save(path)


def long_thin_strip(path: Path) -> None:
    """6000x12: too long for the API, and fitted to 2400 px it would be 4.8 px high."""
    Image.new("RGB", (6000, 12), (200, 200, 200)).save(path, quality=80)


def huge_5000(path: Path) -> None:
    _picture((5000, 5000), seed="5000").save(path, quality=70)


def thirty_mb(path: Path) -> None:
    """An uncompressed BMP of a bit more than 30 MB (a scanner's raw output)."""
    image = Image.effect_noise((3400, 3100), 64).convert("RGB")
    image.save(path, "BMP")
    assert path.stat().st_size > 30 * 2**20


def oversize_sparse(path: Path) -> None:
    """70 MB (sparse, costs no disk): over the 64 MB ceiling, refused unread."""
    with path.open("wb") as handle:
        handle.write(jpeg_bytes("sparse")[:64])
        handle.truncate(70 * 2**20)


def decompression_bomb(path: Path) -> None:
    """A 40 KB PNG that claims 30000x30000 px of 1-bit pixels (900 M px, 112 MB raw)."""
    width = height = 30000
    row = b"\x00" + b"\x00" * (width // 8)
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr)
                     + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b""))


def animated_gif(path: Path) -> None:
    frames = [_picture((200, 120), seed=f"gif{i}").convert("P") for i in range(4)]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)


def multipage_tiff(path: Path) -> None:
    pages = [_picture((240, 160), seed=f"tiff{i}") for i in range(3)]
    pages[0].save(path, save_all=True, append_images=pages[1:], compression="tiff_lzw")


def cmyk_jpeg(path: Path) -> None:
    _picture(seed="cmyk").convert("CMYK").save(path, "JPEG", quality=85)


def png_16bit(path: Path) -> None:
    image = Image.new("I", (300, 200), 30000)
    ImageDraw.Draw(image).rectangle((60, 50, 240, 150), outline=5000, width=6)
    image.convert("I;16").save(path)


def palette_bmp(path: Path) -> None:
    _picture(seed="palette").convert("P", palette=Image.Palette.ADAPTIVE, colors=16).save(path)


def exif_rotated_jpeg(path: Path) -> None:
    image = _picture((400, 250), seed="exif")
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 CW to display
    image.save(path, quality=85, exif=exif.tobytes())


def tiny_8px(path: Path) -> None:
    Image.new("RGB", (8, 8), "white").save(path)


def webp_as_jpg(path: Path) -> None:
    """A WebP header with nothing but zeros after it."""
    path.write_bytes(b"RIFF" + struct.pack("<I", 100) + b"WEBPVP8 " + bytes(92))


def webp_photo(path: Path) -> None:
    _picture(seed="webp").save(path, "WEBP", quality=80)


def heic_photo(path: Path) -> None:
    """What an iPhone saves by default (HEIC), made with pillow-heif's encoder."""
    from pillow_heif import register_heif_opener

    register_heif_opener()
    _picture(seed="heic").save(path, "HEIF", quality=80)


def pdf_as_jpg(path: Path) -> None:
    path.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< >>\nendobj\ntrailer\n%%EOF\n")


def scanned_pdf(path: Path) -> None:
    path.write_bytes(pdf_support.pillow_pdf(
        images=[_picture((620, 877), seed=f"pdf{i}") for i in range(2)]))


def damaged_pdf(path: Path) -> None:
    """A scanner's PDF cut short in transfer: no cross-reference table is left."""
    raw = pdf_support.pillow_pdf(images=[_picture((620, 877), seed="cut")])
    path.write_bytes(raw[: len(raw) // 3])


def locked_pdf(path: Path) -> None:
    path.write_bytes(pdf_support.encrypted(
        pdf_support.pillow_pdf(images=[_picture((620, 877), seed="locked")])))


def empty_pdf(path: Path) -> None:
    path.write_bytes(pdf_support.empty_pdf())


def too_many_pages_pdf(path: Path) -> None:
    path.write_bytes(pdf_support.pdfium_pdf(*[pdf_support.A4_PT] * 1001))


def giant_page_pdf(path: Path) -> None:
    """One page 20,000 points (23 feet) on a side."""
    path.write_bytes(pdf_support.pdfium_pdf((20_000.0, 20_000.0)))


def random_bytes(path: Path) -> None:
    path.write_bytes(_rng("random").randbytes(4096))


def jpeg_header_garbage(path: Path) -> None:
    """A JPEG start-of-image marker followed by noise (a file with a lying header)."""
    path.write_bytes(b"\xff\xd8\xff\xe0" + _rng("garbage").randbytes(20000))


def plain_ok(path: Path) -> None:
    path.write_bytes(jpeg_bytes(path.name))


@dataclass(frozen=True)
class Kind:
    """One kind of hostile input: how to make it and what its row must say."""

    name: str  # the file name in the corpus folder
    build: Callable[[Path], None]
    status: str
    error_code: str = ""
    #: A fragment the error message must contain (specific, not a generic "failed").
    message: str = ""
    sent: bool = False  # may reach the API (a normal picture)
    #: Rows it gives, one per page, numbered 1..pages; None: one row, no page number.
    pages: int | None = None


KINDS: tuple[Kind, ...] = (
    Kind("zero_byte.jpg", zero_byte, "rejected", "empty_file", "the file is empty (0 bytes)"),
    Kind("truncated.jpg", truncated_jpeg, "rejected", "corrupt_image", "JPEG data is damaged"),
    Kind("truncated.png", truncated_png, "rejected", "corrupt_image", "PNG data is damaged"),
    Kind("bad_crc.png", png_bad_idat_crc, "rejected", "corrupt_image",
         "PNG data is damaged: bad CRC in its IDAT chunk"),
    Kind("bad_header_crc.png", png_bad_header_crc, "rejected", "corrupt_image",
         "PNG data is damaged"),
    Kind("flipped_bit.png", png_flipped_pixel_bit, "rejected", "corrupt_image",
         "PNG data is damaged"),
    Kind("text.jpg", text_as_jpg, "rejected", "unsupported_format", "looks like a text file"),
    Kind("page.png", html_as_png, "rejected", "unsupported_format", "looks like an HTML page"),
    Kind("webp.jpg", webp_as_jpg, "rejected", "corrupt_image", "WEBP data is damaged"),
    # Content decides, not the name: a PDF under an image name is read as a PDF.
    Kind("document.jpg", pdf_as_jpg, "rejected", "corrupt_pdf", "the PDF is damaged"),
    Kind("scanned.pdf", scanned_pdf, *SENT, sent=True, pages=2),
    Kind("damaged.pdf", damaged_pdf, "rejected", "corrupt_pdf",
         "the PDF is damaged: it cannot be opened"),
    Kind("locked.pdf", locked_pdf, "rejected", "encrypted_pdf",
         "the PDF is protected by a password"),
    Kind("empty.pdf", empty_pdf, "rejected", "empty_pdf", "the PDF has no pages"),
    Kind("too_many_pages.pdf", too_many_pages_pdf, "rejected", "too_many_pages",
         "the PDF has 1001 pages; at most 500 are read"),
    Kind("giant_page.pdf", giant_page_pdf, "rejected", "bad_page_size",
         "page 1 is 277.8 x 277.8 inches", pages=1),
    Kind("noise.jpg", random_bytes, "rejected", "unsupported_format",
         "an unknown binary format"),
    Kind("lying_header.jpg", jpeg_header_garbage, "rejected", "corrupt_image",
         "JPEG data is damaged"),
    Kind("strip_1x1000.png", strip_1x1000, "rejected", "bad_dimensions", "the image is 1x1000 px"),
    Kind("tiny_8x8.png", tiny_8px, "rejected", "bad_dimensions", "the image is 8x8 px"),
    Kind("thin_6000x12.jpg", long_thin_strip, "rejected", "bad_dimensions", "6000x12 px"),
    Kind("bomb.png", decompression_bomb, "rejected", "image_too_large", "too many pixels"),
    Kind("oversize_70mb.jpg", oversize_sparse, "rejected", "file_too_large",
         "larger than 64 MB"),
    Kind("huge_5000px.jpg", huge_5000, *SENT, sent=True),
    Kind("raw_30mb.bmp", thirty_mb, *SENT, sent=True),
    Kind("animated.gif", animated_gif, *SENT, sent=True),
    Kind("multipage.tiff", multipage_tiff, *SENT, sent=True, pages=3),
    Kind("cmyk.jpg", cmyk_jpeg, *SENT, sent=True),
    Kind("deep_16bit.png", png_16bit, *SENT, sent=True),
    Kind("palette.bmp", palette_bmp, *SENT, sent=True),
    Kind("exif_rotated.jpg", exif_rotated_jpeg, *SENT, sent=True),
    Kind("phone.webp", webp_photo, *SENT, sent=True),
    Kind("phone.heic", heic_photo, *SENT, sent=True),
    Kind("with space.jpg", plain_ok, *SENT, sent=True),
    Kind("comma,name.jpg", plain_ok, *SENT, sent=True),
    Kind('quote"and\'apostrophe.jpg', plain_ok, *SENT, sent=True),
    Kind("new\nline.jpg", plain_ok, *SENT, sent=True),
    Kind("=HYPERLINK(1).jpg", plain_ok, *SENT, sent=True),
    Kind("身份证 正面.jpg", plain_ok, *SENT, sent=True),
)


def build_all(folder: Path) -> dict[str, Kind]:
    """Write every kind into ``folder``; returns file name -> kind."""
    folder.mkdir(parents=True, exist_ok=True)
    for kind in KINDS:
        kind.build(folder / kind.name)
    return {kind.name: kind for kind in KINDS}


def non_utf8_name(folder: Path) -> tuple[Path, str]:
    """A JPEG whose name is Latin-1 bytes (a Windows share); returns (path, shown name)."""
    raw = os.fsencode(folder) + b"/caf\xe9_\xff.jpg"
    with open(raw, "wb") as handle:
        handle.write(jpeg_bytes("latin1"))
    return Path(os.fsdecode(raw)), "caf\\xe9_\\xff.jpg"
