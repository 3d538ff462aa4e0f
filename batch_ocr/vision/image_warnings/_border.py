"""Border and occlusion: whether all of the card is in the picture, uncovered.

``border_incomplete`` decides ``border_incomplete``, ``occluder_area`` decides
``occluded``; ``occluder_spots`` says where the objects lie.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from batch_ocr.vision.image_warnings._card import (
    LIGHT_MIN_SHARE,
    LightBlob,
    _inset,
    light_blob,
    looks_like_whole_card,
)

if TYPE_CHECKING:
    import numpy as np


#: Where a card's own pictures sit, as (x0, y0, x1, y1) fractions of the upright card,
#: with a margin: the portrait on the front, the emblem on the back; each also turned
#: 180°, since the outline alone cannot tell which way up the card is.
_PORTRAIT_ZONE = (0.56, 0.03, 0.99, 0.9)
_EMBLEM_ZONE = (0.04, 0.05, 0.3, 0.44)
_PICTURE_ZONES: tuple[tuple[float, float, float, float], ...] = tuple(
    zone
    for x0, y0, x1, y1 in (_PORTRAIT_ZONE, _EMBLEM_ZONE)
    for zone in ((x0, y0, x1, y1), (1 - x1, 1 - y1, 1 - x0, 1 - y0))
)
#: How far from the card's typical colour (CIELAB distance) a pixel is "something else".
OCCLUDER_MIN_COLOUR_DISTANCE = 32.0
#: A blob along more than this share of one side of the card is background.
OCCLUDER_MAX_EDGE_SHARE = 0.5


def occluder_area(card: np.ndarray) -> float:
    """Share of the card covered by a solid blob of another colour over the fields.

    Text strokes are thin and vanish under a morphological opening; a finger or an
    object does not. The card's own picture (portrait or emblem) is wherever most of
    such pixels sit among its known places; that place is left out.
    """
    labels, areas = _occluders(_inset(card, OCCLUDER_INSET))
    return max(areas.values(), default=0) / float(labels.size)


def occluder_spots(card: np.ndarray) -> np.ndarray:
    """Where ``occluder_area`` sees an object on ``card``: every blob it weighs (not the
    largest alone), uint8 0/1 at ``card``'s size, its rim 0."""
    import numpy as np

    inner = _inset(card, OCCLUDER_INSET)
    labels, areas = _occluders(inner)
    spots = np.zeros(card.shape[:2], np.uint8)
    top = (card.shape[0] - inner.shape[0]) // 2
    left = (card.shape[1] - inner.shape[1]) // 2
    spots[top : top + inner.shape[0], left : left + inner.shape[1]] = np.isin(labels, list(areas))
    return spots


#: The rim of the card the occlusion measures leave out (share of each side).
OCCLUDER_INSET = 0.03


def _occluders(inner: np.ndarray) -> tuple[np.ndarray, dict[int, int]]:
    """The solid blobs of another colour on the card (``occluder_area``): the labels
    image, and the area of each blob that lies on the card (not along its edge)."""
    import cv2
    import numpy as np

    lab = cv2.cvtColor(inner.astype(np.float32) / 255.0, cv2.COLOR_BGR2LAB)
    reference = np.median(lab[::3, ::3].reshape(-1, 3), axis=0)
    distance = np.linalg.norm(lab - reference, axis=2)
    other = (distance > OCCLUDER_MIN_COLOUR_DISTANCE).astype(np.uint8)
    other = cv2.morphologyEx(other, cv2.MORPH_OPEN, np.ones((9, 9), np.uint8))
    height, width = other.shape
    counts = [
        int(other[int(y0 * height) : int(y1 * height), int(x0 * width) : int(x1 * width)].sum())
        for x0, y0, x1, y1 in _PICTURE_ZONES
    ]
    x0, y0, x1, y1 = _PICTURE_ZONES[int(np.argmax(counts))]
    other[int(y0 * height) : int(y1 * height), int(x0 * width) : int(x1 * width)] = 0
    count, labels, stats, _ = cv2.connectedComponentsWithStats(other, connectivity=8)
    # How much of each side of the card each blob runs along: a strip along most of
    # one side is background that an outline a little off took in, not something lying
    # on the card (a thumb covers a short stretch).
    along = [np.bincount(side, minlength=count) / side.size
             for side in (labels[0], labels[-1], labels[:, 0], labels[:, -1])]  # fmt: skip
    return labels, {label: int(stats[label, cv2.CC_STAT_AREA]) for label in range(1, count)
                    if max(share[label] for share in along) <= OCCLUDER_MAX_EDGE_SHARE
                    and not _lit_card(lab[labels == label], reference)}


#: A blob whose mean colour is within this CIELAB distance of the card's in a* and b* ...
LIT_MAX_CHROMA_DISTANCE = 6.0


def _lit_card(pixels: np.ndarray, reference: np.ndarray) -> bool:
    """Whether a blob's ``pixels`` (CIELAB) are the card's own colour, only lighter: the
    part of a card a shadow leaves lit, when the shadow covers most of it (the card's
    typical colour is then the shadow's). A shadow only darkens what it falls on; an
    object lying on the card has a colour of its own (a finger, a dark or coloured
    thing), and is seldom of the card's pale tint and lighter still."""
    import numpy as np

    mean = pixels.reshape(-1, 3).mean(axis=0)
    chroma = float(np.linalg.norm(mean[1:] - reference[1:]))
    return chroma <= LIT_MAX_CHROMA_DISTANCE and float(mean[0]) > float(reference[0])


#: How close to the picture's edge (share of its long side) a card corner is "on" it.
BORDER_MARGIN = 0.008


def border_incomplete(
    image: np.ndarray, quad: np.ndarray | None, light: LightBlob | None = None
) -> bool:
    """Whether the card runs off the picture.

    With an outline: a corner on the picture's edge, unless the outline is the whole
    picture with a card's proportions (a tight scan); an outline with every corner on
    the edge is the picture's frame, and is no outline. Without one, from the largest
    light shape (``LightBlob``): a solid shape running off one or two sides is a card
    on a desk, cut; a shape that fills a picture of a card's proportions is a tight
    scan; one that fills a picture of other proportions is a card cut short, unless a
    whole card lies inside it (a light desk or page) or nothing runs into its edges.
    """
    import cv2
    import numpy as np

    height, width = image.shape[:2]
    if quad is not None:
        margin = max(2.0, BORDER_MARGIN * max(height, width))
        points = np.asarray(quad, dtype=np.float32).reshape(4, 2)
        on_edge = (
            (points[:, 0] < margin) | (points[:, 1] < margin)
            | (points[:, 0] > width - 1 - margin) | (points[:, 1] > height - 1 - margin)
        )  # fmt: skip
        if not on_edge.any():
            return False
        area = float(cv2.contourArea(points))
        if area > 0.85 * width * height and looks_like_whole_card(image.shape):
            return False
        if not on_edge.all():
            return True
        # Every corner on the edge: the outline is the picture's own frame (a busy
        # desk's texture closes into it), which says nothing of where the card lies;
        # the light shape does.
    light = light if light is not None else light_blob(image)
    if light.share < LIGHT_MIN_SHARE:
        return False  # no card-sized light shape: nothing to say
    grey, blob = light.grey, light.mask
    touched = sum(contact > 0.2 for contact in light.contacts)
    if 1 <= touched <= 2 and light.share <= 0.8:
        # A card on a darker background, running off one or two sides: its shape is
        # solid (a card), not the ragged shape of a lit background.
        hull = cv2.convexHull(np.argwhere(blob)[:, ::-1].astype(np.int32))
        return float(blob.sum()) / max(1.0, cv2.contourArea(hull)) > 0.85
    if touched == 4 and light.fills_picture:
        if looks_like_whole_card(image.shape):
            return False  # a tight scan of the card
        # The picture is all light, and not a card's proportions: a card cut short,
        # or a whole card on a light desk or page that the outline search missed.
        if _card_inside(grey, blob):
            return False
        if max(height, width) / max(1, min(height, width)) > CUT_CARD_MIN_ASPECT:
            return True  # wider than any card: its top or bottom is cut off
        # Cut short if its text or portrait runs into the edge (a page or a desk has
        # a blank margin).
        ink = grey < float(np.median(grey[blob])) - 80
        band = max(1, round(0.02 * max(grey.shape)))
        edges = (ink[:band], ink[-band:], ink[:, :band], ink[:, -band:])
        return any(float(edge.mean()) > 0.01 for edge in edges)
    return False


#: A light picture wider than this (long side / short side) is no whole card.
CUT_CARD_MIN_ASPECT = 1.9


def _card_inside(grey: np.ndarray, light: np.ndarray) -> bool:
    """Whether a card-shaped, slightly darker region lies wholly inside a light picture.

    A pale card on a white desk or an A4 page: the light blob is the desk, and the card
    is a darker shape of a card's proportions that touches no edge.
    """
    import cv2
    import numpy as np

    split, _ = cv2.threshold(grey[light].reshape(-1, 1), 0, 255,
                             cv2.THRESH_BINARY + cv2.THRESH_OTSU)  # fmt: skip
    darker = ((grey < split) & light).astype(np.uint8)
    darker = cv2.morphologyEx(darker, cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(darker, connectivity=8)
    for label in range(1, count):
        x, y, w, h, area = (int(v) for v in stats[label])
        if area < 0.05 * grey.size:
            continue
        if x == 0 or y == 0 or x + w >= grey.shape[1] or y + h >= grey.shape[0]:
            continue
        points = np.argwhere(labels == label)[:, ::-1].astype(np.int32)
        (_cx, _cy), (side_a, side_b), _angle = cv2.minAreaRect(points)
        aspect = max(side_a, side_b) / max(1.0, min(side_a, side_b))
        if 1.3 <= aspect <= 2.0:
            return True
    return False

