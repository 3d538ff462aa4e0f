"""Blur and glare: whether the card can be read.

``blur_score`` decides ``blur``, ``glare_area`` decides ``glare``; ``glare_spots`` says
where the reflections lie.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from batch_ocr.vision.image_warnings._card import _inset

if TYPE_CHECKING:
    import numpy as np


def blur_score(card: np.ndarray) -> float:
    """The no-reference blur metric of Crete et al. 2007, 0 (sharp) to 1 (flat).

    "The blur effect: perception and estimation with a new no-reference perceptual blur
    metric" (SPIE 6492): blur the image again and see how much of its pixel-to-pixel
    variation survives; a sharp image loses much, a blurred one little. Measured on the
    card at a fixed width, so blur is judged against the size of the text.
    """
    import cv2
    import numpy as np

    grey = cv2.cvtColor(card, cv2.COLOR_BGR2GRAY)
    # Sensor noise and JPEG grain look like detail: take them out first.
    grey = cv2.medianBlur(grey, 3).astype(np.float32)
    scores = []
    for axis, kernel in ((0, (1, 9)), (1, (9, 1))):
        # |differences| between neighbours along ``axis``, written in place where it can
        # be: on a page read whole (no card outline) each array is 16 MB.
        d_blur = _neighbour_steps(cv2.blur(grey, kernel), axis)
        d_image = _neighbour_steps(grey, axis)
        total = float(d_image.sum())
        if total <= 0:
            return 1.0
        np.subtract(d_image, d_blur, out=d_blur)
        kept = float(np.maximum(d_blur, 0.0, out=d_blur).sum())
        scores.append((total - kept) / total)
    return max(scores)


def _neighbour_steps(grey: np.ndarray, axis: int) -> np.ndarray:
    """``abs(np.diff(grey, axis=axis))`` in one new array, not two."""
    import cv2

    if axis == 0:
        return cv2.absdiff(grey[1:], grey[:-1])
    return cv2.absdiff(grey[:, 1:], grey[:, :-1])


def glare_area(card: np.ndarray) -> float:
    """Share of the card covered by its largest saturated-white blob (a reflection).

    White means every channel at the sensor's top; the blob must also be clearly
    brighter than the card around it, so a copy on white paper is not a reflection.
    """
    bright = _glare_pixels(_inset(card))
    return _largest_component(bright) / float(bright.size)


def glare_spots(card: np.ndarray) -> np.ndarray:
    """Where ``glare_area`` sees a reflection on ``card``: uint8 0/1 at ``card``'s size
    (its rim, which ``glare_area`` leaves out, is 0)."""
    import numpy as np

    inner = _inset(card)
    spots = np.zeros(card.shape[:2], np.uint8)
    top = (card.shape[0] - inner.shape[0]) // 2
    left = (card.shape[1] - inner.shape[1]) // 2
    spots[top : top + inner.shape[0], left : left + inner.shape[1]] = _glare_pixels(inner)
    return spots


def _glare_pixels(inner: np.ndarray) -> np.ndarray:
    """Saturated-white pixels clearly brighter than the card around them (uint8 0/1)."""
    import cv2
    import numpy as np

    darkest = inner.min(axis=2)
    background = float(np.median(darkest[::3, ::3]))
    if background > 240:
        return np.zeros(darkest.shape, np.uint8)  # the card is (nearly) white: nothing stands out
    bright = ((darkest >= 248) & (darkest > background + 15)).astype(np.uint8)
    return cv2.morphologyEx(bright, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))


def _largest_component(mask: np.ndarray) -> int:
    import cv2

    count, _labels, stats, _centroids = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if count <= 1:
        return 0
    return int(stats[1:, cv2.CC_STAT_AREA].max())

