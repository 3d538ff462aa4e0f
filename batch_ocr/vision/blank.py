"""Nothing card-like on a picture: blank, uniform or too small (docs/reference.md, "Statuses").

Decided by the pre-flight check (``imaging.prepare``) for every engine alike: such a
picture gets a ``not_id_card`` row with no call. Pillow alone: a run without the
``local`` extra decides it the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image, ImageChops

#: A picture whose long side is under this holds no card anyone could read: at 100 px an
#: ID card's address characters (about a twentieth of its height) are under 3 px tall.
MIN_CARD_PICTURE_PX = 100
#: The blank check looks at the picture box-filtered to at most this long side ...
BLANK_CHECK_SIDE_PX = 512
#: ... inside a margin of this share on each side (a scanner's shadow line along the
#: edge, punched holes: never a card) ...
BLANK_MARGIN_SHARE = 0.03
#: ... where a pixel that differs from the picture's median colour by more than this in
#: any channel is ink; with fewer ink pixels than this share, nothing card-like is
#: there. Measured at that size: every real and generated card, photo and page 2.5% or
#: more (an A4 copy of two fronts, the lowest), blank pages 0 (a 300 dpi scan of a white
#: page with noise and a shadow line, 0 once the margin is left out).
BLANK_INK_LEVELS = 24
BLANK_MAX_INK_SHARE = 0.001


@dataclass(frozen=True, slots=True)
class NoCard:
    """Why a picture holds no card: its row is ``not_id_card`` and nothing is paid."""

    error_code: str
    message: str


def _median_level(histogram: list[int]) -> int:
    half, seen = sum(histogram) / 2, 0
    for level, count in enumerate(histogram):
        seen += count
        if seen >= half:
            return level
    return 255


def _inner(small: Image.Image) -> Image.Image:
    """``small`` inside the blank check's margin."""
    margin_x = int(small.width * BLANK_MARGIN_SHARE)
    margin_y = int(small.height * BLANK_MARGIN_SHARE)
    return small.crop((margin_x, margin_y, small.width - margin_x, small.height - margin_y))


def _band_ink_shares(inner: Image.Image) -> list[float]:
    """Per channel, the share of ``inner`` (RGB) that differs from that channel's median
    by more than ``BLANK_INK_LEVELS``: from one histogram, no pass over the pixels."""
    histogram, area = inner.histogram(), inner.width * inner.height
    shares = []
    for band in range(3):
        counts = histogram[256 * band:256 * (band + 1)]
        median = _median_level(counts)
        shares.append(sum(counts[:max(0, median - BLANK_INK_LEVELS)])
                      + sum(counts[median + BLANK_INK_LEVELS + 1:]))
    return [share / area for share in shares]


def ink_share(small: Image.Image) -> float:
    """The share of ``small`` (RGB) inside the blank check's margin that is ink: differs
    from the median colour by more than ``BLANK_INK_LEVELS`` in some channel."""
    inner = _inner(small)
    marks: Image.Image | None = None
    for band in inner.split():
        median = _median_level(band.histogram())
        lut = [255 if abs(level - median) > BLANK_INK_LEVELS else 0 for level in range(256)]
        mark = band.point(lut)
        marks = mark if marks is None else ImageChops.lighter(marks, mark)
    assert marks is not None
    return marks.histogram()[255] / (inner.width * inner.height)


def is_blank(small: Image.Image) -> bool:
    """Whether ``small`` (RGB) holds less ink than ``BLANK_MAX_INK_SHARE``.

    Pixel ink is ink in some channel, so its share lies between the largest channel's
    share and their sum: the channels' histograms decide almost every picture (any card
    at once), and only one in between is measured pixel by pixel (``ink_share``). That
    check ran on every picture before any call (docs/performance.md).
    """
    shares = _band_ink_shares(_inner(small))
    if max(shares) >= BLANK_MAX_INK_SHARE:
        return False
    if sum(shares) < BLANK_MAX_INK_SHARE:
        return True
    return ink_share(small) < BLANK_MAX_INK_SHARE


def no_card(width: int, height: int, small: Image.Image) -> NoCard | None:
    """Why a picture of ``width`` x ``height`` px holds nothing card-like: too small for
    a readable card, or one flat colour (blank, uniform); None when it may hold one."""
    if max(width, height) < MIN_CARD_PICTURE_PX:
        return NoCard("image_too_small",
                      f"the picture is {width}x{height} px: too small to hold a readable "
                      "card (no call made)")
    if is_blank(small):
        return NoCard("blank_image", "the picture is blank: one flat colour, nothing "
                      "card-like on it (no call made)")
    return None
