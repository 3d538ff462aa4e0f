"""The card's geometry: one home for the proportions every card search measures against.

A resident ID card is an ISO/IEC 7810 ID-1 card (85.6 mm x 54 mm); a photocopy page is
A4. Pure numbers, no OpenCV, so that a check made before any search (``crops``) shares
them with the search itself (``layout``, ``photo``, ``text_cards``) and the image warnings.
"""

from __future__ import annotations

#: ID-1 card and A4 paper, width x height in millimetres.
CARD_MM = (85.6, 54.0)
A4_MM = (210.0, 297.0)
#: The card's long side over its short side (1.585).
CARD_ASPECT = CARD_MM[0] / CARD_MM[1]

#: The smallest card a page search keeps, as a share of the page's area ...
MIN_CARD_AREA = 0.035
#: ... and as its long side in pixels at the search's scale: smaller text cannot be read.
MIN_CARD_LONG_SIDE_PX = 240

#: A blob is card-shaped when its convex hull fills its rotated rectangle this well
#: (rounded corners) ...
MIN_RECT_FILL = 0.88
#: ... and it fills its hull this well (a card is solid, not a ring of text).
MIN_SOLIDITY = 0.6

#: A whole picture this close to a card's proportions is taken to be the card itself
#: (a tight scan of one card).
WHOLE_CARD_ASPECT_TOLERANCE = 0.12


def looks_like_whole_card(shape: tuple[int, ...]) -> bool:
    """Whether a picture of this (height, width, ...) shape has a card's proportions."""
    height, width = shape[:2]
    aspect = max(height, width) / max(1, min(height, width))
    return abs(aspect - CARD_ASPECT) / CARD_ASPECT < WHOLE_CARD_ASPECT_TOLERANCE
