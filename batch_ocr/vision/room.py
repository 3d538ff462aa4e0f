"""Whether a photo leaves room beside the card read for another card of its size.

A front and a back photographed together are one card's two sides: ID-1 cards of one
size, lying apart on one desk at about the same distance from the phone. Where the card
read fills so much of the photo that no card of its size could lie anywhere else on it,
there is no other side to look for, however much print (a form, a bank card, a checked
cloth) lies in the margins around it.

The test is a necessary condition only, so it never rules out a card that fits: a
rectangle whose short side is ``s`` holds a disc ``s`` across, so a card fits only where
the photo outside the card read holds such a disc. The disc's size is the card read's
short side shrunk by ``MIN_OTHER_CARD_SHARE`` (the other card may lie further from the
phone, or tilted away from it, and look smaller). The photo's edge bounds the room: a
second card that the photo cuts off, lying beside a card that fills the rest of it, is
not looked for (nor was it where the card read covers more than
``_second_side.MAX_CARD_SHARE_FOR_TWO`` of the photo).
"""

from __future__ import annotations

import cv2
import numpy as np

#: The other side may look this much smaller than the card read, side for side: of two
#: cards half a photo's width apart on a desk tilted 20 degrees from the lens, the
#: further looks 0.88 as large (that depth at a phone's focal length of 1.3 photo
#: widths) and its side across the tilt 0.94 as long (cos 20 degrees): 0.83 in all.
MIN_OTHER_CARD_SHARE = 0.75
#: The free space is measured on the photo shrunk to this long side (a disc's radius is
#: known to a pixel, a few per cent of the smallest card that is looked for).
ROOM_LOOK_LONG_SIDE_PX = 256


def room_for_another(shape: tuple[int, ...], quad: np.ndarray) -> bool:
    """Whether a photo of this (height, width, ...) shape holds, outside the card ``quad``
    (4x2, the photo's pixels), a disc as wide as ``MIN_OTHER_CARD_SHARE`` of that card's
    short side: the least room another side of the same card would need."""
    height, width = shape[:2]
    scale = min(1.0, ROOM_LOOK_LONG_SIDE_PX / max(height, width))
    sides = [float(np.linalg.norm(quad[i] - quad[i - 1])) for i in range(4)]
    # Opposite sides averaged: a card seen in perspective is a trapezium.
    short = min((sides[0] + sides[2]) / 2, (sides[1] + sides[3]) / 2) * scale
    # The photo's free pixels, framed by one pixel of no room (the photo's edge).
    free = np.zeros((round(height * scale) + 2, round(width * scale) + 2), np.uint8)
    free[1:-1, 1:-1] = 1
    cv2.fillConvexPoly(free, np.round(quad * scale + 1).astype(np.int32), 0)
    widest = float(cv2.distanceTransform(free, cv2.DIST_L2, 5).max())
    return 2 * widest >= MIN_OTHER_CARD_SHARE * short
