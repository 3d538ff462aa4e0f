"""The one decoder: each view is the pixels its module decoded on its own, decoded once.

The references below are the decodes as each module wrote them before they shared one
decoder (the card search's, the crops', the image warnings', the review page's and the
fitting's); a card's crop is its identity in the journal, so the pixels must not move.
"""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageOps

from batch_ocr.vision.picture import (
    FULL_LONG_SIDE_PX,
    SEARCH_LONG_SIDE_PX,
    WARNINGS_LONG_SIDE_PX,
    Picture,
    UnreadableImageError,
    opaque_rgb,
    thumbnail_size,
)

np = pytest.importorskip("numpy", reason="views are numpy arrays: the 'local' extra")


def _bgr(image: Image.Image) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(opaque_rgb(image))[:, :, ::-1])


def reference_search(data: bytes) -> tuple[np.ndarray, float]:
    with Image.open(io.BytesIO(data)) as opened:
        decoded_long_side = min(FULL_LONG_SIDE_PX, max(opened.size))
        opened.thumbnail((SEARCH_LONG_SIDE_PX, SEARCH_LONG_SIDE_PX))
        small = _bgr(ImageOps.exif_transpose(opened))
    return small, max(small.shape[:2]) / decoded_long_side


def reference_full(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as opened:
        image = ImageOps.exif_transpose(opened)
        image.thumbnail((FULL_LONG_SIDE_PX, FULL_LONG_SIDE_PX))
        return _bgr(image)


def reference_warnings(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as opened:
        opened.draft("RGB", (WARNINGS_LONG_SIDE_PX, WARNINGS_LONG_SIDE_PX))
        image = ImageOps.exif_transpose(opened)
        image.thumbnail((WARNINGS_LONG_SIDE_PX, WARNINGS_LONG_SIDE_PX))
        return _bgr(image)


def reference_thumbnail(data: bytes, max_px: int = 160) -> Image.Image:
    with Image.open(io.BytesIO(data)) as opened:
        opened.draft("RGB", (max_px, max_px))
        rgb = opaque_rgb(ImageOps.exif_transpose(opened))
        rgb.thumbnail((max_px, max_px), Image.Resampling.LANCZOS)
        return rgb


def reference_upright(data: bytes, draft_px: int | None) -> Image.Image:
    source = Image.open(io.BytesIO(data))
    if draft_px is not None:
        source.draft("RGB", (draft_px, draft_px))
    return opaque_rgb(ImageOps.exif_transpose(source))


def _scene(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    """A picture with edges and smooth parts at every scale (cheap to make and encode)."""
    rng = np.random.default_rng(size[0] * 7 + size[1])
    coarse = rng.integers(0, 256, (9, 13, 3), dtype=np.uint8)
    image = Image.fromarray(coarse).resize(size, Image.Resampling.BICUBIC)
    return image.convert(mode)


def _encoded(image: Image.Image, fmt: str, orientation: int = 1, **options: object) -> bytes:
    buffer = io.BytesIO()
    if orientation != 1:
        exif = Image.Exif()
        exif[0x0112] = orientation
        options["exif"] = exif.tobytes()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _assert_views_match(data: bytes) -> None:
    picture = Picture(data)
    small, scale = picture.search()
    want_small, want_scale = reference_search(data)
    assert np.array_equal(small, want_small) and scale == want_scale
    assert np.array_equal(picture.full(), reference_full(data))
    assert np.array_equal(picture.for_warnings(), reference_warnings(data))
    assert np.array_equal(np.asarray(picture.thumbnail(160)),
                          np.asarray(reference_thumbnail(data)))
    for draft_px in (None, 2400):
        assert np.array_equal(np.asarray(opaque_rgb(picture.upright(draft_px))),
                              np.asarray(reference_upright(data, draft_px)))


#: JPEG sizes whose views share a decode scale, or not: under the search size, a card, a
#: phone photo's card, A4 at 200 and 300 dpi, sides not divisible by the DCT scale.
JPEG_SIZES = [(500, 320), (856, 540), (1045, 807), (1654, 2339), (2480, 3508), (2563, 2561),
              (4001, 3001)]


@pytest.mark.parametrize("size", JPEG_SIZES)
def test_jpeg_views_are_the_pixels_each_module_decoded(size: tuple[int, int]) -> None:
    _assert_views_match(_encoded(_scene(size), "JPEG", quality=80))


@pytest.mark.parametrize("orientation", range(2, 9))
def test_views_are_upright_as_exif_transpose_makes_them(orientation: int) -> None:
    _assert_views_match(_encoded(_scene((2563, 1603)), "JPEG", orientation, quality=80))


@pytest.mark.parametrize("fmt, mode", [("JPEG", "L"), ("JPEG", "CMYK"), ("PNG", "RGBA"),
                                       ("PNG", "P"), ("PNG", "I;16"), ("GIF", "P"),
                                       ("BMP", "RGB"), ("TIFF", "RGB")])
def test_other_formats_and_modes_give_the_same_pixels(fmt: str, mode: str) -> None:
    image = _scene((1300, 900), "RGB")
    if mode == "RGBA":
        image.putalpha(Image.linear_gradient("L").resize(image.size))
    elif mode == "I;16":
        image = Image.fromarray(np.asarray(image.convert("L")).astype(np.uint16) * 257)
    else:
        image = image.convert(mode)
    options: dict[str, object] = {"transparency": 0} if mode == "P" else {}
    _assert_views_match(_encoded(image, fmt, 6 if fmt == "TIFF" else 1, **options))


def test_views_of_one_scale_share_one_decode() -> None:
    # A4 at 200 dpi: the search, the cut and the warnings all want the 1/1 decode.
    picture = Picture(_encoded(_scene((1654, 2339)), "JPEG", quality=80))
    picture.search()
    picture.full()
    picture.for_warnings()
    assert picture.decodes == 1
    assert picture.holds_decode_for_warnings()
    picture.release()
    assert not picture.holds_decode_for_warnings()
    picture.full()
    assert picture.decodes == 2  # released, so decoded again


def test_views_of_other_scales_decode_apart() -> None:
    # A4 at 300 dpi: the warnings' JPEG scale is 1/2, the search's and the cut's 1/1.
    picture = Picture(_encoded(_scene((2480, 3508)), "JPEG", quality=80))
    picture.search()
    picture.full()
    assert picture.decodes == 1 and not picture.holds_decode_for_warnings()
    picture.for_warnings()
    assert picture.decodes == 2


def test_the_check_decodes_a_jpeg_at_an_eighth_and_keeps_it_in_grey() -> None:
    picture = Picture(_encoded(_scene((1600, 1000)), "JPEG", quality=80))
    assert picture.check(max_pixels=10**8, jpeg=True) == (1600, 1000)
    assert picture.preview is not None
    assert (picture.preview.mode, picture.preview.size) == ("L", (200, 125))


def test_unreadable_bytes_raise_one_error() -> None:
    for view in (Picture.search, Picture.full, Picture.for_warnings):
        with pytest.raises(UnreadableImageError):
            view(Picture(b"not an image at all"))


@pytest.mark.parametrize("size", [(641, 640), (640, 641), (3000, 7), (7, 3000), (1654, 2339),
                                  (2339, 1654), (999, 1000), (1001, 1000), (640, 640)])
def test_thumbnail_size_is_pillows(size: tuple[int, int]) -> None:
    image = Image.new("1", size)
    image.thumbnail((SEARCH_LONG_SIDE_PX, SEARCH_LONG_SIDE_PX))
    expected = None if image.size == size else image.size
    assert thumbnail_size(size, SEARCH_LONG_SIDE_PX) == expected


def test_take_upright_hands_over_the_decode_and_keeps_none() -> None:
    """For a caller done with the picture: no copy beside the decode, nothing held."""
    buffer = io.BytesIO()
    Image.new("RGB", (300, 200), (10, 20, 30)).save(buffer, "PNG")
    picture = Picture(buffer.getvalue())
    taken = picture.take_upright()
    assert taken.size == (300, 200) and taken.getpixel((5, 5)) == (10, 20, 30)
    assert picture.decodes == 1 and not picture.holds_pixels()
    again = picture.take_upright()
    assert again is not taken and picture.decodes == 2


def test_for_reading_decodes_a_jpeg_no_larger_than_the_cards_need() -> None:
    data = _encoded(_scene((2600, 1800)), "JPEG", orientation=6)
    whole = Picture(data)
    assert np.array_equal(whole.for_reading(), reference_full(data))
    half = Picture(data)
    pixels = half.for_reading(0.45)  # a card filling the photo keeps its 900 px at 1/2
    assert pixels.shape[:2] == (1300, 900)  # upright: EXIF turned it a quarter
    assert half.size() == (2600, 1800)
    small, scale = Picture(data).small(640)
    assert max(small.shape[:2]) == 640 and scale == pytest.approx(640 / 2600)


def test_a_big_photo_of_a_card_is_read_from_a_smaller_decode() -> None:
    from batch_ocr.engines.local._recognise import CARD_LONG_SIDE_PX, _card_scale

    page = Image.new("RGB", (2800, 2000), (70, 90, 60))
    card = Image.new("RGB", (2200, 1388), (236, 232, 220))
    for row in range(6):
        card.paste((30, 30, 30), (700, 200 + 180 * row, 1900, 250 + 180 * row))
    page.paste(card, (300, 300))
    data = _encoded(page, "JPEG")
    scale, found = _card_scale(Picture(data))
    assert found is not None and len(found.cards) == 1
    assert scale == pytest.approx(CARD_LONG_SIDE_PX / 2200, rel=0.05)
    assert _card_scale(Picture(_encoded(page.resize((1400, 1000)), "JPEG"))) == (1.0, None)
    assert _card_scale(Picture(_encoded(page, "PNG"))) == (1.0, None)
