"""Where the card is in a picture: its outline warped flat, or its largest light shape.

The measurements every detector shares: ``card_view`` (the card warped to a fixed
size), ``looks_like_whole_card`` (a tight scan), ``light_blob`` (the card as the
picture's largest light shape, when no outline was found).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from batch_ocr.vision.geometry import looks_like_whole_card

if TYPE_CHECKING:
    import numpy as np

#: The card is measured warped to this size (ID-1 proportions): large enough for the
#: text's edges, small enough to stay within a few milliseconds.
CARD_WIDTH_PX = 480
CARD_HEIGHT_PX = 303


def _order_corners(quad: np.ndarray) -> np.ndarray:
    """Four corners clockwise from the top-left, the first side a long one."""
    import numpy as np

    points = np.asarray(quad, dtype=np.float32).reshape(4, 2)
    center = points.mean(axis=0)
    angles = np.arctan2(points[:, 1] - center[1], points[:, 0] - center[0])
    ordered = points[np.argsort(angles)]
    ordered = np.roll(ordered, -int(np.argmin(ordered.sum(axis=1))), axis=0)
    first = np.linalg.norm(ordered[0] - ordered[1]) + np.linalg.norm(ordered[2] - ordered[3])
    second = np.linalg.norm(ordered[1] - ordered[2]) + np.linalg.norm(ordered[3] - ordered[0])
    return np.roll(ordered, -1, axis=0) if second > first else ordered


def card_view(image: np.ndarray, quad: np.ndarray | None) -> np.ndarray | None:
    """The card warped to ``CARD_WIDTH_PX`` x ``CARD_HEIGHT_PX`` (landscape), or None.

    From ``quad`` when the card was found in the picture; the whole picture when it has
    a card's proportions; None otherwise (the card is somewhere, or cut short).
    """
    import cv2
    import numpy as np

    if quad is not None:
        corners = _order_corners(quad)
        target = np.array([[0, 0], [CARD_WIDTH_PX - 1, 0],
                           [CARD_WIDTH_PX - 1, CARD_HEIGHT_PX - 1], [0, CARD_HEIGHT_PX - 1]],
                          dtype=np.float32)  # fmt: skip
        matrix = cv2.getPerspectiveTransform(corners, target)
        warped: np.ndarray = cv2.warpPerspective(
            image, matrix, (CARD_WIDTH_PX, CARD_HEIGHT_PX), flags=cv2.INTER_AREA,
            borderMode=cv2.BORDER_REPLICATE,
        )  # fmt: skip
        return warped
    if not looks_like_whole_card(image.shape):
        return None
    if image.shape[0] > image.shape[1]:
        image = cv2.rotate(image, cv2.ROTATE_90_CLOCKWISE)
    resized: np.ndarray = cv2.resize(image, (CARD_WIDTH_PX, CARD_HEIGHT_PX),
                                     interpolation=cv2.INTER_AREA)  # fmt: skip
    return resized


def _central(image: np.ndarray, share: float = 0.7) -> np.ndarray:
    """The middle ``share`` of a picture on each axis (where a card usually is)."""
    height, width = image.shape[:2]
    dy, dx = int(height * (1 - share) / 2), int(width * (1 - share) / 2)
    return image[dy : height - dy, dx : width - dx]


def _inset(card: np.ndarray, share: float = 0.04) -> np.ndarray:
    """The card without its rim (rounded corners, the outline's own pixels)."""
    height, width = card.shape[:2]
    dy, dx = int(height * share), int(width * share)
    return card[dy : height - dy, dx : width - dx]



@dataclass(frozen=True)
class LightBlob:
    """The largest light shape of a picture, at ``LIGHT_SEARCH_LONG_SIDE_PX``.

    Cards are lighter than most backgrounds (the outline search relies on it too);
    text and the portrait are closed over, so a card is one shape.
    """

    grey: np.ndarray  # the picture, small and grey
    mask: np.ndarray  # bool, the shape (all False when there is none)
    share: float  # of the picture
    contacts: tuple[float, float, float, float]  # share of top, bottom, left, right edges

    @property
    def fills_picture(self) -> bool:
        """Whether the picture is all light shape: a tight scan, or a card cut short."""
        return self.share >= 0.85 and min(self.contacts) > 0.8

    def box(self, shape: tuple[int, ...]) -> tuple[int, int, int, int] | None:
        """The shape's bounding box in a picture of ``shape`` (x0, y0, x1, y1)."""
        import numpy as np

        if self.share < LIGHT_MIN_SHARE:
            return None
        rows, cols = np.nonzero(self.mask)
        scale_y, scale_x = shape[0] / self.mask.shape[0], shape[1] / self.mask.shape[1]
        return (int(cols.min() * scale_x), int(rows.min() * scale_y),
                int((cols.max() + 1) * scale_x), int((rows.max() + 1) * scale_y))  # fmt: skip


#: The light-shape search works at this long side (edges and proportions only).
LIGHT_SEARCH_LONG_SIDE_PX = 240
#: A light shape smaller than this share of the picture is no card.
LIGHT_MIN_SHARE = 0.15


def light_blob(image: np.ndarray) -> LightBlob:
    """The largest light shape of ``image`` (see ``LightBlob``)."""
    import cv2
    import numpy as np

    height, width = image.shape[:2]
    scale = LIGHT_SEARCH_LONG_SIDE_PX / max(height, width)
    small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    grey = cv2.medianBlur(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY), 3)
    _, bright = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    bright = cv2.morphologyEx(bright, cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(bright, connectivity=8)
    if count <= 1:
        return LightBlob(grey, np.zeros(grey.shape, bool), 0.0, (0.0, 0.0, 0.0, 0.0))
    blob = labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    edges = (blob[0], blob[-1], blob[:, 0], blob[:, -1])
    top, bottom, left, right = (float(edge.mean()) for edge in edges)
    return LightBlob(grey, blob, float(blob.mean()), (top, bottom, left, right))

