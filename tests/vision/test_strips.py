"""Reading a picture a band of rows at a time (``batch_ocr/vision/strips.py``): the same
pixels as decoding it whole and cutting it down, for every PNG filter and TIFF layout."""

from __future__ import annotations

import io
import zlib

import numpy as np
import pytest
from PIL import Image, ImageChops

from batch_ocr.vision import strips
from batch_ocr.vision.picture import REDUCIBLE_MODES, opaque_rgb, reduced


def busy(mode: str, width: int = 301, height: int = 257) -> Image.Image:
    """Noise over gradients: the PNG encoder picks every filter somewhere on it."""
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[0:height, 0:width]
    base = (xx * 3 + yy * 2) % 256
    noise = rng.integers(0, 40, (height, width, 4))
    pixels = np.clip(base[..., None] + noise - 20, 0, 255).astype(np.uint8)
    pixels[height // 3 : height // 2] = 255  # a flat band: filter None and Up
    rgba = Image.fromarray(pixels, "RGBA")
    if mode == "P":
        return rgba.convert("RGB").quantize(64)
    return rgba.convert(mode)


def whole_cut_down(image: Image.Image, factor: int) -> Image.Image:
    image.load()
    if image.mode not in REDUCIBLE_MODES:
        image = opaque_rgb(image)
    return image.reduce(factor) if factor > 1 else image


def same(a: Image.Image, b: Image.Image) -> bool:
    return a.mode == b.mode and a.size == b.size and ImageChops.difference(
        a.convert("RGBA"), b.convert("RGBA")).getbbox() is None


@pytest.fixture(autouse=True)
def small_bands(monkeypatch: pytest.MonkeyPatch) -> None:
    # A band of a few rows: every picture here is read in many bands.
    monkeypatch.setattr(strips, "BAND_BYTES", 6000)


@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA", "LA", "P"])
@pytest.mark.parametrize("factor", [1, 2, 3])
def test_a_png_read_in_bands_is_the_whole_decode_cut_down(mode: str, factor: int) -> None:
    buffer = io.BytesIO()
    busy(mode).save(buffer, "PNG")
    data = buffer.getvalue()
    banded = strips.png(data, factor, reduced)
    assert banded is not None
    assert same(banded, whole_cut_down(Image.open(io.BytesIO(data)), factor))


def test_a_png_with_transparency_keeps_it() -> None:
    image = busy("RGB")
    buffer = io.BytesIO()
    image.save(buffer, "PNG", transparency=(255, 255, 255))
    banded = strips.png(buffer.getvalue(), 1, reduced)
    assert banded is not None and same(banded, image)


@pytest.mark.parametrize("kind", ["interlaced", "16-bit"])
def test_a_png_of_another_kind_is_not_read_in_bands(kind: str) -> None:
    buffer = io.BytesIO()
    if kind == "interlaced":
        # Pillow writes no Adam7: the header's interlace flag is what is looked at.
        busy("L").save(buffer, "PNG")
        data = bytearray(buffer.getvalue())
        data[28] = 1
        data[29:33] = zlib.crc32(bytes(data[12:29])).to_bytes(4, "big")
        assert strips.png(bytes(data), 2, reduced) is None
    else:
        Image.new("I;16", (40, 30), 1000).save(buffer, "PNG")
        assert strips.png(buffer.getvalue(), 2, reduced) is None


def test_a_truncated_png_is_an_error_not_a_picture() -> None:
    buffer = io.BytesIO()
    busy("RGB").save(buffer, "PNG")
    data = buffer.getvalue()
    with pytest.raises((ValueError, OSError)):
        strips.png(data[: len(data) // 2], 2, reduced)


@pytest.mark.parametrize("compression", ["raw", "tiff_lzw", "tiff_adobe_deflate", "packbits"])
@pytest.mark.parametrize("factor", [1, 3])
def test_each_frame_of_a_tiff_read_in_bands_is_its_whole_decode_cut_down(
        compression: str, factor: int) -> None:
    frames = [busy("RGB"), busy("L").convert("RGB"),
              busy("RGB").transpose(Image.Transpose.ROTATE_180)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "TIFF", save_all=True, append_images=frames[1:],
                   compression=compression)
    data = buffer.getvalue()
    with Image.open(io.BytesIO(data)) as opened:
        for index, frame in enumerate(frames):
            opened.seek(index)
            banded = strips.tiff_frame(data, opened, factor, reduced)
            assert banded is not None, index
            assert same(banded, whole_cut_down(frame, factor)), index
