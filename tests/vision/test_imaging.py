"""Pre-flight checks and fitting (``batch_ocr/vision/imaging.py``), on images made here."""

from __future__ import annotations

import io
import struct
import time
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageStat

from batch_ocr.errors import ImageRejected
from batch_ocr.vision import imaging
from batch_ocr.vision.picture import opaque_rgb


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def card_like(size: tuple[int, int] = (320, 200)) -> Image.Image:
    """A plain card-sized picture with some structure (not a real card)."""
    image = Image.new("RGB", size, (236, 228, 210))
    image.paste((40, 40, 40), (size[0] // 10, size[1] // 4, size[0] // 2, size[1] // 3))
    return image


def noise(width: int, height: int, channels: int = 3, seed: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (height, width, channels), dtype=np.uint8)


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def one_bit_png(width: int, height: int) -> bytes:
    """A valid all-black 1-bit greyscale PNG, built by hand (Pillow would need the pixels)."""
    compressor = zlib.compressobj(1)
    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte + packed bits
    rows_per_block = 1000
    blocks = [compressor.compress(row * rows_per_block) for _ in range(height // rows_per_block)]
    blocks.append(compressor.compress(row * (height % rows_per_block)))
    blocks.append(compressor.flush())
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", b"".join(blocks))
        + png_chunk(b"IEND", b"")
    )


def open_payload(payload: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(payload))
    image.load()
    return image


# --- accepted as is --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "mime", "lying_name"),
    [
        ("JPEG", "image/jpeg", "scan.png"),
        ("PNG", "image/png", "scan.jpg"),
        ("BMP", "image/bmp", "scan.gif"),
        ("GIF", "image/gif", "scan.tiff"),
        ("TIFF", "image/tiff", "scan.bmp"),
    ],
)
def test_each_accepted_format_keeps_its_bytes_and_gets_mime_from_content(
    tmp_path: Path, fmt: str, mime: str, lying_name: str
) -> None:
    path = tmp_path / lying_name
    path.write_bytes(encode(card_like(), fmt))
    raw = path.read_bytes()

    prepared = imaging.prepare(raw)

    assert prepared.mime == mime
    assert prepared.payload == raw
    assert prepared.fitted is False
    assert (prepared.width, prepared.height) == (320, 200)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "BMP", "GIF", "TIFF"])
def test_smallest_allowed_9x9_is_accepted_with_its_real_size(fmt: str) -> None:
    prepared = imaging.prepare(encode(Image.new("RGB", (9, 9), "white"), fmt))

    assert (prepared.width, prepared.height) == (9, 9)
    assert prepared.fitted is False


@pytest.mark.parametrize("size", [(20, 20), (400, 300), (3999, 1000)])
def test_jpeg_size_is_the_real_pixel_size(size: tuple[int, int]) -> None:
    # Regression: the JPEG draft used for a cheap decode used to shrink the reported size
    # to a quarter, so 20x20 was refused as 5x5 and 5000 px wide JPEGs were never fitted.
    prepared = imaging.prepare(encode(Image.new("RGB", size, "white"), "JPEG"))

    assert (prepared.width, prepared.height) == size


def test_a_jpeg_keeps_the_checks_own_small_grey_decode_for_the_card_search() -> None:
    # The decode that proves the file whole is at 1/8 scale; the card search reads it
    # instead of decoding again (engines/crops.py).
    jpeg = imaging.prepare(encode(card_like((800, 500)), "JPEG"))
    assert jpeg.preview is not None
    assert (jpeg.preview.mode, jpeg.preview.size) == ("L", (100, 63))
    # A fitted JPEG keeps it too: the same picture, before re-encoding.
    big = imaging.prepare(encode(Image.fromarray(noise(1600, 1200)), "JPEG", quality=95))
    assert big.fitted and big.preview is not None and big.preview.size == (200, 150)
    # Other formats are decoded whole: no small decode to keep.
    assert imaging.prepare(encode(card_like(), "PNG")).preview is None


# --- refused ---------------------------------------------------------------------------


def test_empty_file_is_refused() -> None:
    with pytest.raises(ImageRejected) as caught:
        imaging.prepare(b"")

    assert caught.value.error_code == "empty_file"


@pytest.mark.parametrize(
    ("content", "looks_like"),
    [
        (b"name,id\nZhang San,110105\n", "a text file"),
        (b"<!DOCTYPE html>\n<html><head><title>404</title></head><body>gone</body></html>",
         "an HTML page"),
        (b"  \n<html><body>login</body></html>", "an HTML page"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "a PDF document"),
    ],
)
def test_non_image_named_jpg_is_refused_saying_what_it_looks_like(
    tmp_path: Path, content: bytes, looks_like: str
) -> None:
    path = tmp_path / "card.jpg"
    path.write_bytes(content)

    with pytest.raises(ImageRejected) as caught:
        imaging.prepare(path.read_bytes())

    assert caught.value.error_code == "unsupported_format"
    assert caught.value.message.endswith(f"looks like {looks_like}")


@pytest.mark.parametrize(
    ("size", "fmt"),
    [((6, 6), "PNG"), ((1, 1000), "PNG"), ((1000, 8), "JPEG"), ((8, 9), "BMP")],
)
def test_sides_of_8_px_or_less_are_bad_dimensions(size: tuple[int, int], fmt: str) -> None:
    with pytest.raises(ImageRejected) as caught:
        imaging.prepare(encode(Image.new("RGB", size, "white"), fmt))

    assert caught.value.error_code == "bad_dimensions"
    assert f"{size[0]}x{size[1]} px" in caught.value.message


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(encode(Image.fromarray(noise(600, 400)), "JPEG", quality=90), id="jpeg"),
        pytest.param(encode(Image.fromarray(noise(600, 400)), "PNG"), id="png"),
    ],
)
def test_truncated_file_is_corrupt_image(raw: bytes) -> None:
    with pytest.raises(ImageRejected) as caught:
        imaging.prepare(raw[: len(raw) // 2])

    assert caught.value.error_code == "corrupt_image"


@pytest.mark.serial  # times the refusal
def test_decompression_bomb_is_refused_quickly() -> None:
    bomb = one_bit_png(20000, 20000)  # 400 Mpx, a few tens of KB on disk
    assert len(bomb) < 1024 * 1024

    started = time.perf_counter()
    with pytest.raises(ImageRejected) as caught:
        imaging.prepare(bomb)

    assert caught.value.error_code == "image_too_large"
    assert time.perf_counter() - started < 1.0


def test_image_just_over_our_own_pixel_cap_is_refused() -> None:
    # 9000x9000 = 81 Mpx: above MAX_DECODE_PIXELS but below Pillow's own bomb warning.
    with pytest.raises(ImageRejected) as caught:
        imaging.prepare(one_bit_png(9000, 9000))

    assert caught.value.error_code == "image_too_large"


# --- fitted ----------------------------------------------------------------------------


def assert_fits_limits(prepared: imaging.PreparedImage) -> Image.Image:
    assert prepared.fitted is True
    assert prepared.mime == "image/jpeg"
    assert len(prepared.payload) <= imaging.MAX_BYTES
    image = open_payload(prepared.payload)
    assert image.format == "JPEG"
    assert (image.width, image.height) == (prepared.width, prepared.height)
    assert max(image.size) <= imaging.MAX_SIDE_PX
    assert min(image.size) >= imaging.MIN_SIDE_PX
    return image


@pytest.mark.parametrize(
    ("raw", "size"),
    [
        pytest.param(
            encode(Image.fromarray(noise(1800, 1200)), "JPEG", quality=95),
            (1800, 1200),
            id="photo-over-1MB",
        ),
        pytest.param(encode(card_like((5000, 3000)), "JPEG"), (5000, 3000), id="5000x3000-jpeg"),
        pytest.param(encode(card_like((800, 4200)), "PNG"), (800, 4200), id="800x4200-png"),
    ],
)
def test_too_big_image_is_fitted_keeping_aspect_and_original(
    raw: bytes, size: tuple[int, int]
) -> None:
    original = bytes(raw)

    prepared = imaging.prepare(raw)

    assert_fits_limits(prepared)
    assert raw == original
    assert prepared.width / prepared.height == pytest.approx(size[0] / size[1], rel=0.01)


def test_cmyk_jpeg_is_accepted_and_fitted() -> None:
    small = encode(Image.new("CMYK", (300, 200), (0, 60, 100, 0)), "JPEG")
    assert imaging.prepare(small).mime == "image/jpeg"

    speckled = Image.fromarray(noise(900, 600, 4), "CMYK")
    speckled.paste((0, 0, 0, 255), (90, 150, 450, 200))  # a line of print: not blank
    big = encode(speckled, "JPEG", quality=95)
    assert len(big) > imaging.MAX_BYTES
    assert assert_fits_limits(imaging.prepare(big)).mode == "RGB"


def grey16(width: int, height: int, level: int) -> Image.Image:
    rng = np.random.default_rng(3)
    pixels = (rng.integers(0, 4096, (height, width)) + level).astype(np.uint16)
    pixels[height // 4 : height // 3, width // 10 : width // 2] = level // 4  # print
    image = Image.fromarray(pixels)
    assert image.mode == "I;16"
    return image


def test_16_bit_png_is_accepted() -> None:
    prepared = imaging.prepare(encode(grey16(120, 80, 30000), "PNG"))

    assert (prepared.mime, prepared.fitted) == ("image/png", False)


@pytest.mark.parametrize("fmt", ["PNG", "TIFF"])
def test_fitted_16_bit_grey_keeps_its_tones(fmt: str) -> None:
    # Regression: Pillow clips 16-bit to 8 bits on convert, so a mid-grey scan was sent
    # (and billed) as a blank white picture.
    raw = encode(grey16(1200, 900, 30000), fmt)
    assert len(raw) > imaging.MAX_BYTES

    image = assert_fits_limits(imaging.prepare(raw))

    below_the_print = image.convert("L").crop((0, image.height // 2, image.width, image.height))
    mean = ImageStat.Stat(below_the_print).mean[0]
    assert mean == pytest.approx((30000 + 2048) / 256, abs=3)


def test_palette_bmp_is_accepted() -> None:
    palette = card_like().convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    raw = encode(palette, "BMP")

    prepared = imaging.prepare(raw)

    assert (prepared.mime, prepared.payload) == ("image/bmp", raw)


def test_rgba_png_over_1mb_is_fitted_onto_white() -> None:
    pixels = noise(900, 700, 4)
    pixels[:, :, 3] = 255
    pixels[:100, :100, 3] = 0  # a transparent corner
    raw = encode(Image.fromarray(pixels, "RGBA"), "PNG")
    assert len(raw) > imaging.MAX_BYTES

    image = assert_fits_limits(imaging.prepare(raw))

    corner = ImageStat.Stat(image.crop((0, 0, 60, 60))).mean
    assert min(corner) > 240


@pytest.mark.parametrize(("orientation", "swapped"), [(1, False), (3, False), (6, True), (8, True)])
def test_exif_rotated_jpeg_that_needs_fitting_comes_out_upright(
    orientation: int, swapped: bool
) -> None:
    exif = Image.Exif()
    exif[0x0112] = orientation
    raw = encode(Image.fromarray(noise(1400, 900)), "JPEG", quality=95, exif=exif.tobytes())
    assert len(raw) > imaging.MAX_BYTES

    image = assert_fits_limits(imaging.prepare(raw))

    assert (image.width < image.height) is swapped
    assert image.getexif().get(0x0112, 1) == 1


def _phone_photo(fmt: str, size: tuple[int, int] = (600, 400)) -> bytes:
    """A WebP or HEIC picture as a phone saves it: left half dark, right half light."""
    if fmt == "HEIF":
        from pillow_heif import register_heif_opener

        register_heif_opener()
    image = Image.new("RGB", size, (230, 230, 230))
    image.paste((20, 20, 20), (0, 0, size[0] // 2, size[1]))
    buffer = io.BytesIO()
    image.save(buffer, fmt, quality=90)
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", ["WEBP", "HEIF"])
def test_webp_and_heic_are_read_and_converted_to_jpeg_for_the_api(fmt: str) -> None:
    prepared = imaging.prepare(_phone_photo(fmt))

    assert prepared.mime == "image/jpeg" and prepared.fitted
    assert (prepared.width, prepared.height) == (600, 400)
    with Image.open(io.BytesIO(prepared.payload)) as converted:
        assert converted.format == "JPEG"
        left = ImageStat.Stat(converted.crop((0, 0, 250, 400))).mean[0]
        right = ImageStat.Stat(converted.crop((350, 0, 600, 400))).mean[0]
    assert left < 60 and right > 200  # the picture itself, not a blank


def test_an_iphone_heic_brand_is_recognised() -> None:
    assert imaging.sniff_format(_phone_photo("HEIF")[:16]) == "HEIF"


@pytest.mark.parametrize("fmt", ["WEBP", "HEIF"])
def test_a_damaged_webp_or_heic_is_corrupt_image(fmt: str) -> None:
    raw = _phone_photo(fmt)
    damaged = raw[:40] + bytes(len(raw) - 40)

    with pytest.raises(ImageRejected) as caught:
        imaging.prepare(damaged)

    assert caught.value.error_code == "corrupt_image"


@pytest.mark.slow  # 2.5 s of full-size lossless encoding
@pytest.mark.parametrize("fmt", ["WEBP", "HEIF"])
def test_without_limits_webp_and_heic_become_a_full_size_lossless_png(fmt: str) -> None:
    """The offline engine takes original pixels: no shrinking, no JPEG loss."""
    prepared = imaging.prepare(_phone_photo(fmt, size=(4600, 3000)), None)

    assert prepared.mime == "image/png" and prepared.fitted
    assert (prepared.width, prepared.height) == (4600, 3000)
    with Image.open(io.BytesIO(prepared.payload)) as converted:
        assert converted.format == "PNG" and converted.size == (4600, 3000)


def test_a_palette_png_with_transparency_lies_on_white_paper_without_a_warning() -> None:
    # Pillow's convert("RGB") drops such transparency onto black, with a UserWarning
    # on the user's terminal; every decode goes through picture.opaque_rgb.
    image = Image.new("P", (40, 20), 0)
    image.putpalette([0, 0, 0, 200, 30, 30] + [0] * 762)
    image.paste(1, (0, 0, 20, 20))
    image.info["transparency"] = bytes([0] + [255] * 255)  # index 0 transparent
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with Image.open(io.BytesIO(buffer.getvalue())) as opened:
            flat = opaque_rgb(opened)
    assert flat.mode == "RGB"
    assert flat.getpixel((30, 10)) == (255, 255, 255)  # transparent: paper
    assert flat.getpixel((5, 10)) == (200, 30, 30)


def test_a_transparent_webp_reaches_the_offline_engine_on_white_paper() -> None:
    # WebP is re-encoded as PNG for an engine without limits (imaging._lossless).
    image = Image.new("RGBA", (160, 80), (0, 0, 0, 0))
    image.paste((200, 30, 30, 255), (0, 0, 80, 80))
    buffer = io.BytesIO()
    image.save(buffer, "WEBP", lossless=True)
    prepared = imaging.prepare(buffer.getvalue(), None)
    with Image.open(io.BytesIO(prepared.payload)) as sent:
        assert sent.mode == "RGB"
        assert sent.getpixel((120, 40)) == (255, 255, 255)
        assert sent.getpixel((20, 40)) == (200, 30, 30)
