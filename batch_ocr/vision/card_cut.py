"""One card cut out of a page for a call: as sharp as the page holds it, framed, upright.

The provider reads what it is sent as a photo of one card: it looks for the card's
outline first. A card cut exactly along its outline shows no outline, and the reader
may then take an inner rectangle for the card and lose a line (the dev set's
``bdci_photocopy_nixueting.jpg`` lost its ID number that way). So each card is sent:

- at the resolution the page holds it (cut from the full decode of what would be sent
  whole, never from a reduced view), and never smaller than the card the offline engine
  reads (``photo.CARD_WIDTH_PX``), within the API's limits (``imaging.MAX_SIDE_PX``,
  ``imaging.MAX_BYTES``);
- with a frame of the page around it (``FRAME_SHARE`` of its width on each side), so its
  own edge shows;
- straightened (its outline's perspective and tilt undone) and landscape: a card lying
  at a tilt or a quarter turn comes out level. Which way up it then is (0° or 180°) is
  left to the reader, as the offline engine leaves it to the text (``photo``): a card's
  outline cannot tell.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import cv2
import numpy as np

from batch_ocr.vision import photo as _photo
from batch_ocr.vision.imaging import MAX_BYTES, MAX_SIDE_PX
from batch_ocr.vision.picture import opaque_rgb

if TYPE_CHECKING:
    from PIL import Image

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


def cut(page: Image.Image, quad: np.ndarray) -> bytes:
    """The card under ``quad`` (corners in ``page``'s pixels) as the JPEG sent for it.

    Only the part of ``page`` around the card is turned into an array: a page's own
    copy is never made.
    """
    corners, long_px, short_px = landscape_corners(quad)
    scale = max(1.0, MIN_CARD_LONG_SIDE_PX / max(long_px, 1.0))
    scale = min(scale, MAX_SIDE_PX / (long_px * (1 + 2 * FRAME_SHARE)))
    region, origin = _region(page, corners, FRAME_SHARE * long_px)
    return _encode(_warp(region, corners - origin, long_px * scale, short_px * scale))


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

