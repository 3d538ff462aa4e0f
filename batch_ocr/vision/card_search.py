"""The cards an engine paying per card cuts out of a picture, each for a call of its own.

The page search (``layout.page_cards``) finds each card by its outline or its print, as
the offline engine finds them. An engine paying per call has no other way to a side the
search leaves out than sending the picture whole and getting one side back: the other
would be lost (docs/documents.md, "What a page costs through the API"). So, on a
picture where the search finds fewer than two cards, two more looks are taken, here and
only for the cards cut out for calls (the offline engine reads such a side by the print
beside the card, and its search stays as it is):

- ``_parted``: two cards touching at an angle close into one blob of neither card's
  shape, notched where their outlines cross; cut between its two deepest notches, each
  part is a card (``touching_cards``);
- ``_with_one_beside``: a card found alone is painted out and the picture searched again
  beside it, and once more with its light evened out (``_evened``: a back in a shadow).

A picture where one card is found and nothing beside it is sent whole, not that card cut
out: the cut would cost the same one call and lose a side the looks missed just the
same, and the rest of the picture sent too would cost a call on every photo with a note
or a bank card beside its one card.
"""

from __future__ import annotations

import hashlib

import cv2
import numpy as np

from batch_ocr.vision import card_cut, layout, touching_cards
from batch_ocr.vision.card_cut import CROP_JPEG_QUALITY, CardCrop, card_key
from batch_ocr.vision.geometry import MIN_CARD_LONG_SIDE_PX
from batch_ocr.vision.layout import FoundCard
from batch_ocr.vision.picture import Picture, UnreadableImageError


def search(picture: Picture) -> tuple[list[FoundCard], np.ndarray, float]:
    """The cards on the picture's search view, that view, and its scale to ``full``'s."""
    small, scale = picture.search()
    least = MIN_CARD_LONG_SIDE_PX * scale
    cards = layout.page_cards(small, min_long_side_px=least)
    if len(cards) < 2:
        cards = _parted(small, cards, least)
    if len(cards) == 1:
        cards = _with_one_beside(small, cards[0], least)
    return cards, small, scale


def _parted(small: np.ndarray, cards: list[FoundCard], least: float) -> list[FoundCard]:
    """``cards`` (none or one), or the two cards of a blob of two touching at an angle
    (``touching_cards``) with any of ``cards`` that is neither, in reading order."""
    pair = touching_cards.parted(small, least)
    if not pair:
        return cards
    found = [card for card in cards
             if all(layout.overlap_share(card.quad, quad) < layout.MAX_OVERLAP for quad in pair)]
    found += [FoundCard(quad) for quad in pair]
    return [found[i] for i in layout.reading_order_indices([card.quad for card in found])]


#: A card found alone is painted out this much larger than its outline (its edge, its
#: shadow) before the search looks again beside it (``_with_one_beside``).
PAINT_GROWTH = 1.04
#: A card found there lies whole on the picture, this share of its long side clear of
#: its edges: a patch of a patterned desk cut off by the frame is no card paid for.
BESIDE_EDGE_MARGIN = 0.01


def _with_one_beside(small: np.ndarray, card: FoundCard, least: float) -> list[FoundCard]:
    """``card``, found alone, and a card beside it that its outline hid, in reading order.

    Two cards touching on a desk at an angle, or joined by a glare spot across their
    edges, make one blob whose only card-shaped outline is one of them. With that one
    painted out in the page's colour, the other's outline stands alone. The offline
    engine finds such a side by reading the print beside the card; an engine paying
    per card sent must find it by its outline, or send the picture whole and get one
    side back (docs/documents.md, "What a page costs through the API"). Where nothing
    is found so, the look is taken again with the light evened out (``_evened``).
    """
    painted = small.copy()
    colour = np.median(np.concatenate(layout.border_bands(cv2.medianBlur(small, 5))), axis=0)
    centre = card.quad.mean(axis=0)
    grown = (centre + (card.quad - centre) * PAINT_GROWTH).astype(np.int32)
    cv2.fillConvexPoly(painted, grown, colour.tolist())
    area = cv2.contourArea(card.quad)
    height, width = small.shape[:2]
    margin = BESIDE_EDGE_MARGIN * max(height, width)
    beside: list[np.ndarray] = []
    for view in (painted, _evened(painted)):
        beside = [quad for quad in layout.find_cards(view, min_long_side_px=least)
                  if layout.overlap_share(quad, card.quad) < layout.MAX_OVERLAP
                  and cv2.contourArea(quad) >= layout.MIN_SHARE_OF_LARGEST * area
                  and quad.min() >= margin and (quad[:, 0] <= width - margin).all()
                  and (quad[:, 1] <= height - margin).all()]
        if beside:
            break
    if not beside:
        return [card]
    cards = [card, FoundCard(max(beside, key=cv2.contourArea))]
    return [cards[i] for i in layout.reading_order_indices([found.quad for found in cards])]


#: The light is evened out over this share of the picture's long side (a Gaussian's
#: sigma): wider than a card's print, narrower than a shadow across the desk.
EVEN_LIGHT_SHARE = 0.1
LIGHT_STEP = 8


def _evened(image: np.ndarray) -> np.ndarray:
    """``image`` with its light evened out: each pixel over the blurred picture around
    it, at the picture's median level. A card lying in a shadow that darkens the desk
    towards one side (a phone held over it) shows its outline no more than the shadow's
    edge does, and the page's colour sampled at the border is no colour of the desk
    around it: with the light even, the card stands out from the desk beside it as one
    in the light does."""
    height, width = image.shape[:2]
    # Blurred at an eighth of the size, where the kernel is an eighth as wide (the light
    # changes over tens of pixels: nothing is lost), then brought back; integer
    # arithmetic throughout (125 ms of float work a 640 px picture -> a few ms).
    reduced = cv2.resize(image, (max(1, width // LIGHT_STEP), max(1, height // LIGHT_STEP)),
                         interpolation=cv2.INTER_AREA)
    sigma = EVEN_LIGHT_SHARE * max(height, width) / LIGHT_STEP
    light = cv2.resize(cv2.GaussianBlur(reduced, (0, 0), sigma), (width, height),
                       interpolation=cv2.INTER_LINEAR)
    level = float(np.median(image))
    evened: np.ndarray = cv2.divide(image, cv2.max(light, 1), scale=level)
    return evened


def card_crops(picture: Picture, *, legacy_keys: bool = False,
               original: Picture | None = None) -> list[CardCrop]:
    """Each card on a page of several as the JPEG sent for it; empty for one card or none.

    Found on the small view (most images are one card and cost no more than that), cut
    from the full-scale decode, or from ``original``'s when ``picture`` was fitted from
    it (``card_cut.page_pixels``), keyed by ``picture`` either way. An image of one card
    (or none found) is left whole: that is what the API expects. ``legacy_keys``: also
    say what each card's answer was kept under by earlier versions (``legacy_key``; a
    rerun of a journal they wrote). Raises ``UnreadableImageError`` for bytes that are not an image.
    """
    cards, small, scale = search(picture)
    if len(cards) < 2:
        return []
    try:
        page = card_cut.page_pixels(picture, original)
    except Exception as exc:  # Pillow raises many types for bad data: all "unreadable"
        raise UnreadableImageError(f"cannot decode image: {exc}") from exc
    to_page = page.width / small.shape[1]
    page_sha256 = hashlib.sha256(picture.data).hexdigest()
    try:
        jpegs = [card_cut.cut(page, card.quad * to_page) for card in cards]
    except ValueError:
        return []
    del page
    legacy = _legacy_keys(picture, cards, scale) if legacy_keys else [None] * len(cards)
    return [CardCrop(jpeg, card.by_print, card_key(page_sha256, number, len(cards)), old)
            for number, (card, jpeg, old) in enumerate(zip(cards, jpegs, legacy, strict=True),
                                                       start=1)]  # fmt: skip


def _legacy_keys(picture: Picture, cards: list[FoundCard], scale: float) -> list[str | None]:
    """The sha256 of each card's crop as earlier versions cut it, the key they kept its
    answer under: straightened to ``photo.CARD_WIDTH_PX`` from the ``full`` view, as JPEG
    at ``CROP_JPEG_QUALITY``."""
    image = picture.full()
    keys: list[str | None] = []
    for card in cards:
        ok, encoded = cv2.imencode(".jpg", layout.crop_card(image, card.quad / scale),
                                   [cv2.IMWRITE_JPEG_QUALITY, CROP_JPEG_QUALITY])  # fmt: skip
        keys.append(hashlib.sha256(encoded.tobytes()).hexdigest() if ok else None)
    return keys


def count_cards(picture: Picture) -> int:
    """How many cards ``card_crops`` would cut out of the image (0 or at least 2)."""
    cards, _, _ = search(picture)
    return len(cards) if len(cards) >= 2 else 0


def card_outlines(picture: Picture) -> list[list[tuple[float, float]]]:
    """The corners of every card ``page_cards`` finds on the image, one card too.

    Each corner is a share (0-1) of the upright image's width and height, so it lies
    on any copy of the image at any size (a review page's thumbnail). Found exactly as
    ``card_crops`` finds the cards it cuts, in the same reading order.
    Raises ``UnreadableImageError`` for bytes that are not an image.
    """
    cards, small, _ = search(picture)
    height, width = small.shape[:2]
    return [[(float(x) / width, float(y) / height) for x, y in card.quad] for card in cards]
