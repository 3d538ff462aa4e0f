"""A page over the API's limits: its cards are cut from the file's own pixels.

A 300 dpi A4 scan (2480 x 3508 px, several MB as PNG or TIFF) is over the API's 1 MB,
so it is fitted to 2400 px to be sent whole; cut from that, a card would go out at the
690 px the fitted page holds it (docs/documents.md, "What a page costs through the
API"). Its cards are cut from the file's own decode instead, at the ~1,010 px the scan
holds them; a page of one card still goes whole, fitted.
"""

from __future__ import annotations

import functools
import io
import random

import pytest
from PIL import Image

from batch_ocr.engines.api.engine import answer_key
from batch_ocr.vision import card_cut, crops
from batch_ocr.vision.imaging import FIT_LONG_SIDE_PX, MAX_BYTES, prepare
from batch_ocr.vision.picture import Picture
from tests.card_pages import make_samples, people
from tests.engines.api.test_api_cards import BACK, FRONT
from tests.engines.fake_api import FakeClient, api_engine

pytestmark = pytest.mark.skipif(not crops.available(), reason="OpenCV is not installed")
np = pytest.importorskip("numpy")

DPI = 300
#: The card's long side on the scan, and framed as it is sent.
CARD_PX = 85.6 / 25.4 * DPI
SENT_PX = CARD_PX * (1 + 2 * card_cut.FRAME_SHARE)
#: The card's framed long side on the page fitted to ``FIT_LONG_SIDE_PX``.
FITTED_SENT_PX = SENT_PX * FIT_LONG_SIDE_PX / (297 / 25.4 * DPI)


@functools.cache
def scan(sides: tuple[str, ...] = ("front", "back")) -> Image.Image:
    """A 300 dpi A4 copy of ``sides`` with a scanner's noise (so no format gets it
    under 1 MB)."""
    samples = make_samples()
    person = people(1, seed=5)[0]
    page = samples.CardPage("copy", tuple(samples.PageCard(side, person) for side in sides))
    image = samples.draw_card_page(page, random.Random(4), dpi=DPI).convert("RGB")
    pixels = np.asarray(image).astype(np.int16)
    noise = np.random.default_rng(4).normal(0, 2.5, pixels.shape[:2])[:, :, None]
    return Image.fromarray(np.clip(pixels + noise, 0, 255).astype(np.uint8))


def encoded(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


@functools.cache
def scan_file(fmt: str) -> bytes:
    """The two-sided scan as a PNG or a deflated TIFF, as scanners save them (encoded
    once a session: 2 s a PNG, and five tests of three modules read the same bytes)."""
    options = {"compression": "tiff_deflate"} if fmt == "TIFF" else {}
    return encoded(scan(), fmt, **options)


def _sizes(sent: list[bytes]) -> list[tuple[int, int]]:
    return [Image.open(io.BytesIO(jpeg)).size for jpeg in sent]


@pytest.mark.parametrize("fmt", ["PNG", "TIFF"])
async def test_the_cards_of_a_fitted_page_go_out_at_the_scan_s_resolution(fmt: str) -> None:
    raw = scan_file(fmt)
    image = prepare(raw)
    assert len(raw) > MAX_BYTES and image.fitted and max(image.width, image.height) == 2400
    client = FakeClient(FRONT, BACK)
    result = await api_engine(client).recognise(image)
    assert result.data.side == "both" and len(client.images) == 2
    for width, height in _sizes(client.images):
        # Cut from the fitted page they would be ~1,310 / 1.42: ~925 px (stretched to
        # the 856 px floor) holding ~690 px of the scan's card.
        assert width >= 0.97 * SENT_PX > 1.3 * FITTED_SENT_PX
        assert width > height
    assert all(len(jpeg) <= MAX_BYTES for jpeg in client.images)
    # Nothing decoded is held while the calls are out, of either picture.
    assert image.original is not None
    assert not image.original.holds_pixels() and not image.picture.holds_pixels()


def test_a_page_within_the_limits_keeps_no_second_picture() -> None:
    """A page sent as it is has no other pixels than its own."""
    small = scan().reduce(3)  # 100 dpi
    image = prepare(encoded(small, "JPEG", quality=85))
    assert not image.fitted and image.original is None


def test_cards_cut_from_the_file_are_the_cards_found_on_the_fitted_page() -> None:
    """Found on the fitted page, cut from the file: the same cards, in the same order,
    under the same keys, only sharper."""
    image = prepare(scan_file("PNG"))
    before = crops.card_crops(Picture(image.payload))
    now = crops.card_crops(image.picture, original=image.original)
    assert [c.key for c in now] == [c.key for c in before]
    digest = answer_key(image.payload)
    assert [c.key for c in now] == [f"{digest}:card 1 of 2", f"{digest}:card 2 of 2"]
    for sharp, blurred in zip(_sizes([c.jpeg for c in now]), _sizes([c.jpeg for c in before]),
                              strict=True):
        assert sharp[0] > 1.1 * blurred[0]
        assert sharp[0] / sharp[1] == pytest.approx(blurred[0] / blurred[1], rel=0.03)


def test_a_phone_photo_turned_by_exif_is_cut_upright_from_its_own_pixels() -> None:
    """The fitted page is upright; the file's pixels are turned by their EXIF
    orientation before the cards are cut (else the outlines would fall elsewhere)."""
    stored = scan().transpose(Image.Transpose.ROTATE_90)  # what orientation 6 turns back
    exif = Image.Exif()
    exif[0x0112] = 6
    raw = encoded(stored, "JPEG", quality=92, exif=exif)
    image = prepare(raw)
    assert image.fitted and image.height > image.width
    upright = crops.card_crops(Picture(encoded(scan(), "JPEG", quality=92)))
    now = crops.card_crops(image.picture, original=image.original)
    assert len(now) == len(upright) == 2
    for cut, reference in zip(now, upright, strict=True):
        (width, height), (ref_width, ref_height) = _sizes([cut.jpeg, reference.jpeg])
        assert width == pytest.approx(ref_width, rel=0.03)
        assert height == pytest.approx(ref_height, rel=0.03)
        same, turned = _grey(cut.jpeg), _grey(reference.jpeg)
        assert _likeness(same, turned) > max(0.5, _likeness(same, turned[::-1, ::-1]))


def _grey(jpeg: bytes) -> np.ndarray:
    picture = Image.open(io.BytesIO(jpeg)).convert("L").resize((240, 160))
    return np.asarray(picture, np.float32)


def _likeness(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    return float((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum()))


async def test_a_page_of_one_card_still_goes_whole_and_fitted() -> None:
    image = prepare(encoded(scan(("front",)), "PNG"))
    assert image.fitted
    client = FakeClient(FRONT)
    await api_engine(client).recognise(image)
    assert client.images == [image.payload] and len(image.payload) <= MAX_BYTES


def test_the_original_s_decode_is_let_go_once_the_page_is_cut(
        monkeypatch: pytest.MonkeyPatch) -> None:
    image = prepare(scan_file("TIFF"))
    assert image.original is not None and not image.original.holds_pixels()
    seen: list[bool] = []
    cut = card_cut.cut

    def cut_and_look(page: Image.Image, quad: object) -> bytes:
        assert image.original is not None
        seen.append(image.original.holds_pixels())
        assert page.size == (2480, 3508)  # the scan's own pixels
        return cut(page, quad)  # type: ignore[arg-type]

    monkeypatch.setattr(card_cut, "cut", cut_and_look)
    assert len(crops.card_crops(image.picture, original=image.original)) == 2
    assert seen == [False, False]  # only the page made of it stays while cards are cut



@pytest.mark.parametrize(("size", "decoded"), [
    ((4000, 3000), (4000, 3000)),  # a 12 MP photo: whole, the API's own long side
    ((4960, 7016), (2480, 3508)),  # a 600 dpi A4 JPEG: at 1/2 from its DCT, not 104 MB
    ((3000, 8900), (750, 2225)),  # a long strip: at 1/2, then cut down under 4000 px
])
def test_a_jpeg_s_own_pixels_are_decoded_at_most_as_large_as_cards_need(
        size: tuple[int, int], decoded: tuple[int, int]) -> None:
    original = Picture(encoded(Image.new("RGB", size, "white"), "JPEG", quality=80))
    page = card_cut.page_pixels(Picture(b""), original)
    assert page.size == decoded
    assert original.decodes == 1 and not original.holds_pixels()
