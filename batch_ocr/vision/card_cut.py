"""One card cut out of a page for a call: as sharp as the page holds it, framed, upright.

The provider reads what it is sent as a photo of one card: it looks for the card's
outline first. A card cut exactly along its outline shows no outline, and the reader
may then take an inner rectangle for the card and lose a line (the dev set's
``bdci_photocopy_nixueting.jpg`` lost its ID number that way). So each card is sent:

- at the resolution the file holds it: cut from the file's own pixels (``page_pixels``),
  not from the page as fitted to be sent whole (a 300 dpi A4 scan is fitted to 2400 px,
  which would leave its cards 690 px wide instead of 1,010), never from a reduced view,
  and never smaller than the card the offline engine reads (``photo.CARD_WIDTH_PX``),
  within the API's limits (``imaging.MAX_SIDE_PX``, ``imaging.MAX_BYTES``);
- with a frame of the page around it (``FRAME_SHARE`` of its width on each side), so its
  own edge shows;
- straightened (its outline's perspective and tilt undone) and landscape: a card lying
  at a tilt or a quarter turn comes out level; and turned the right way up when where
  its print lies says it is upside down (``upside_down``: a copy's back copied the other
  way up, a page scanned upside down). A card whose print does not say clearly is sent
  as it lies: the reader turns it by its text, as the offline engine does.
"""

from __future__ import annotations

import io
import os
import threading
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from batch_ocr.vision import photo as _photo
from batch_ocr.vision.imaging import (
    MAX_BYTES,
    MAX_DECODE_PIXELS,
    MAX_SIDE_PX,
    admission,
    sniff_format,
)
from batch_ocr.vision.picture import WORK_MAX_SIDE_PX, Picture, cut_down, opaque_rgb
from batch_ocr.vision.strips import Admission

#: The page shown around a card, as a share of the card's width on each side: its edge
#: then shows to the provider's card finder (4% read the dev set's copies whole; 0 lost
#: a number; 8% read as well).
FRAME_SHARE = 0.04
#: The smallest long side a card is sent at: what the offline engine reads a card at.
MIN_CARD_LONG_SIDE_PX = _photo.CARD_WIDTH_PX
#: JPEG qualities tried in turn until a card fits ``MAX_BYTES`` (a card at 92 is
#: 100-400 KB), then the card is made smaller.
QUALITIES = (92, 85, 75)
SHRINK_STEP = 0.8


def landscape_corners(quad: np.ndarray) -> tuple[np.ndarray, float, float]:
    """The corners clockwise from the start of a long side, and the card's long and
    short sides in ``quad``'s pixels (means of the opposite sides)."""
    corners = _photo._order_clockwise(quad.astype(np.float32))
    sides = [float(np.linalg.norm(corners[i] - corners[(i + 1) % 4])) for i in range(4)]
    first, second = (sides[0] + sides[2]) / 2, (sides[1] + sides[3]) / 2
    if second > first:
        return np.roll(corners, -1, axis=0), second, first
    return corners, first, second


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


#: How many files' own pixels are decoded at once to cut cards from: one per core, as
#: the pre-flight check's readers do (``run.jobs.reader_pool``), whatever
#: ``--concurrency``, so that a full decode of up to ``DECODE_BUDGET_BYTES`` is held by at
#: most that many threads at a time (docs/survives.md, "Memory").
_ORIGINAL_DECODES = threading.BoundedSemaphore(max(1, _cores()))


def page_pixels(page: Picture, original: Picture | None) -> Image.Image:
    """The pixels the cards of ``page`` (the picture they were found on) are cut from,
    upright: its ``original``'s (the file's own, when ``page`` is a fitted re-encoding),
    at most about ``WORK_MAX_SIDE_PX`` long, else ``page``'s own full decode.

    The original's decode is handed over and let go by the picture: only the page it
    makes stays, for as long as the cards take to cut (docs/survives.md, "Memory"). A
    JPEG is decoded scaled by its DCT, by as many halvings as ``cut_down`` would take
    whole steps (a 600 dpi A4 scan at 1/2: 104 MB of pixels would be 26); any other
    format the way the pre-flight check decoded it, within its memory budget, cut down
    at once.
    """
    if original is None:
        return page.upright()
    with _ORIGINAL_DECODES:
        return _original_pixels(original)


def _original_pixels(original: Picture) -> Image.Image:
    """``page_pixels`` of a fitted page's ``original``, its decodes let go."""
    try:
        if sniff_format(original.data[:16]) != "JPEG":
            # Cut down to 4,000 px; read a band of rows at a time past the budget, as the
            # pre-flight check read it (``imaging.admission``).
            original.check(max_pixels=MAX_DECODE_PIXELS, jpeg=False,
                           admit=lambda mode, width, height: Admission(
                               WORK_MAX_SIDE_PX, admission(mode, width, height).in_bands))
            return original.take_upright()
        with Image.open(io.BytesIO(original.data)) as opened:
            width, height = opened.size
        # ``draft`` scales by the smaller of the sizes' ratios: asking for the short
        # side over the steps the long side needs gives those steps (or fewer).
        steps = -(-max(width, height) // WORK_MAX_SIDE_PX)
        return cut_down(original.take_upright(max(1, min(width, height) // steps)))
    finally:
        original.release()


def cut(page: Image.Image, quad: np.ndarray) -> bytes:
    """The card under ``quad`` (corners in ``page``'s pixels) as the JPEG sent for it.

    Only the part of ``page`` around the card is turned into an array: a page's own
    copy is never made.
    """
    corners, long_px, short_px = landscape_corners(quad)
    scale = max(1.0, MIN_CARD_LONG_SIDE_PX / max(long_px, 1.0))
    scale = min(scale, MAX_SIDE_PX / (long_px * (1 + 2 * FRAME_SHARE)))
    region, origin = _region(page, corners, FRAME_SHARE * long_px)
    framed = _warp(region, corners - origin, long_px * scale, short_px * scale)
    del region
    frame = round(FRAME_SHARE * long_px * scale)
    if upside_down(framed[frame : framed.shape[0] - frame, frame : framed.shape[1] - frame]):
        framed = cv2.rotate(framed, cv2.ROTATE_180)
    return _encode(framed)


def _region(page: Image.Image, corners: np.ndarray, frame_px: float
            ) -> tuple[np.ndarray, np.ndarray]:
    """The part of ``page`` holding the card and its frame, as BGR, and its top-left."""
    # The frame measured along the card may reach further across the page at a tilt:
    # a diagonal's worth keeps it in.
    reach = frame_px * 1.5
    left = max(0, int(np.floor(corners[:, 0].min() - reach)))
    top = max(0, int(np.floor(corners[:, 1].min() - reach)))
    right = min(page.width, int(np.ceil(corners[:, 0].max() + reach)) + 1)
    bottom = min(page.height, int(np.ceil(corners[:, 1].max() + reach)) + 1)
    part = opaque_rgb(page.crop((left, top, right, bottom)))
    bgr = np.ascontiguousarray(np.asarray(part)[:, :, ::-1])
    return bgr, np.array([left, top], np.float32)


def _warp(region: np.ndarray, corners: np.ndarray, width: float, height: float) -> np.ndarray:
    """The card straightened to ``width`` x ``height`` px inside its frame."""
    frame = FRAME_SHARE * width
    out_width, out_height = round(width + 2 * frame), round(height + 2 * frame)
    target = np.array([[frame, frame], [frame + width - 1, frame],
                       [frame + width - 1, frame + height - 1], [frame, frame + height - 1]],
                      np.float32)  # fmt: skip
    matrix = cv2.getPerspectiveTransform(corners.astype(np.float32), target)
    # Bicubic, though the offline engine enlarges its own cut bilinearly: bilinear read
    # the dev set's nixueting page saved as a PDF (its JPEG at quality 75) right where
    # bicubic lost 渭 to 清, but it lost 2-4 fields of the generated copies' pale backs a
    # seed (docs/documents.md, "The API path against the offline engine").
    return cv2.warpPerspective(region, matrix, (out_width, out_height), flags=cv2.INTER_CUBIC,
                               borderMode=cv2.BORDER_REPLICATE)  # fmt: skip


def _encode(card: np.ndarray) -> bytes:
    """``card`` as a JPEG under ``MAX_BYTES``: lower qualities first, then smaller."""
    while True:
        for quality in QUALITIES:
            ok, encoded = cv2.imencode(".jpg", card, [cv2.IMWRITE_JPEG_QUALITY, quality])
            if not ok:
                raise ValueError("the card could not be encoded as JPEG")
            if encoded.size <= MAX_BYTES:
                return encoded.tobytes()
        card = cv2.resize(card, None, fx=SHRINK_STEP, fy=SHRINK_STEP,
                          interpolation=cv2.INTER_AREA)



#: Where each side of an ID card carries its print, as (x0, y0, x1, y1) shares of the
#: upright card and a weight (the specimen cards' layout, as ``samples/make_samples.py``
#: draws it): the front's five rows of labels and values, its number, its portrait; the
#: back's emblem, its two title lines and its two rows.
FRONT_PRINT = (((0.07, 0.10, 0.35, 0.19), 1.0), ((0.07, 0.22, 0.50, 0.30), 1.0),
               ((0.07, 0.34, 0.60, 0.42), 1.0), ((0.07, 0.455, 0.65, 0.69), 1.0),
               ((0.07, 0.81, 0.96, 0.89), 1.5), ((0.67, 0.115, 0.93, 0.615), 1.0))
BACK_PRINT = (((0.065, 0.085, 0.266, 0.404), 1.5), ((0.318, 0.115, 0.93, 0.204), 1.5),
              ((0.306, 0.278, 0.93, 0.407), 1.5), ((0.234, 0.70, 0.82, 0.78), 1.0),
              ((0.234, 0.81, 0.82, 0.89), 1.0))
#: The grid (rows, columns) the print is compared on: coarse, so that a stamp, a
#: long address or a card cut a little off its outline moves it little.
PRINT_GRID = (8, 12)
#: Ink: darker than its neighbourhood (a 21 px box at a 480 px wide card) by this many
#: grey levels; a copy's pale guilloche stays under it, its text does not.
INK_CONTRAST = 15
INK_WIDTH_PX = 480
#: A card is turned only when its print matches a side turned over by this much more
#: (correlation) than upright. Measured on 33 card sides (the dev set's two copies and
#: five specimens, 24 generated copy sides), each also turned over: backs differ by
#: 0.57-0.69, fronts by 0.12-0.35, two colour specimen fronts by 0.01-0.02 (left as
#: they lie, the right way up or not); no side was turned the wrong way.
TURN_MIN_MARGIN = 0.05


def _print_grid(boxes: tuple[tuple[tuple[float, float, float, float], float], ...]
                ) -> np.ndarray:
    """``boxes`` (shares of the card, weights) as the weight of print in each cell."""
    rows, columns = PRINT_GRID
    grid = np.zeros(PRINT_GRID, np.float32)
    for (x0, y0, x1, y1), weight in boxes:
        for row in range(rows):
            for column in range(columns):
                across = min(x1, (column + 1) / columns) - max(x0, column / columns)
                down = min(y1, (row + 1) / rows) - max(y0, row / rows)
                grid[row, column] += weight * max(0.0, across) * max(0.0, down) * rows * columns
    return grid


_LAYOUTS = (_print_grid(FRONT_PRINT), _print_grid(BACK_PRINT))


def _ink_grid(card: np.ndarray) -> np.ndarray:
    """The share of ink in each cell of ``PRINT_GRID`` over a straightened card."""
    grey = cv2.cvtColor(card, cv2.COLOR_BGR2GRAY) if card.ndim == 3 else card
    height = max(1, round(INK_WIDTH_PX * grey.shape[0] / max(1, grey.shape[1])))
    grey = cv2.resize(grey, (INK_WIDTH_PX, height), interpolation=cv2.INTER_AREA)
    background = cv2.blur(grey, (21, 21))
    ink = (cv2.subtract(background, grey) > INK_CONTRAST).astype(np.float32)
    rows, columns = PRINT_GRID
    return cv2.resize(ink, (columns, rows), interpolation=cv2.INTER_AREA)


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    norm = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum()) / norm if norm else 0.0


def upside_down(card: np.ndarray) -> bool:
    """Whether a straightened, landscape card (BGR, no frame) lies upside down: its print
    matches an ID side turned over clearly better than either side upright."""
    ink = _ink_grid(card)
    upright = max(_correlation(ink, layout) for layout in _LAYOUTS)
    turned = max(_correlation(ink, layout[::-1, ::-1]) for layout in _LAYOUTS)
    return turned - upright > TURN_MIN_MARGIN


#: JPEG quality of a card as earlier versions cut it for a call (``legacy_key``).
CROP_JPEG_QUALITY = 92


@dataclass(frozen=True)
class CardCrop:
    """One card cut out of a page for a call (``cut``), and what its answer is kept
    under."""

    jpeg: bytes
    #: Found by its print alone (``FoundCard.by_print``).
    by_print: bool = False
    #: What the card's paid answer is kept and recalled under: the page's sha256 and the
    #: card's place among the cards found on it (``card_key``), not the bytes sent, so
    #: that a better cut never pays again for a card already answered.
    key: str = ""
    #: The key an earlier version kept the card's answer under (the sha256 of its crop as
    #: cut then: ``legacy_key``); None when not asked for.
    legacy_key: str | None = None


def card_key(page_sha256: str, number: int, count: int) -> str:
    """The key a card's answer is kept under: card ``number`` of ``count`` found on the
    page whose bytes (as sent whole) hash to ``page_sha256``."""
    return f"{page_sha256}:card {number} of {count}"
