"""Portrait crops behind ``image_url``: rendered once per image, served by random token.

A token is only ever looked up in an in-memory dict, never turned into a file path, so
the route cannot be used for path traversal. Tokens expire after a TTL (the provider's
URL is valid for one hour) and at most ``max_items`` are kept, oldest evicted first.
"""

from __future__ import annotations

import functools
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO

from PIL import Image, ImageDraw

#: Longest side of a served portrait; keeps each one a few KB however big the upload.
PORTRAIT_MAX_SIDE_PX = 256


@dataclass(frozen=True, slots=True)
class _Entry:
    jpeg: bytes
    expires_at_s: float


class PortraitStore:
    """Token -> JPEG bytes with a TTL and an LRU bound."""

    def __init__(
        self,
        *,
        ttl_s: float,
        max_items: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl_s = ttl_s
        self._max_items = max_items
        self._clock = clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, jpeg: bytes) -> str:
        """Store ``jpeg`` under a fresh random token and return the token."""
        now_s = self._clock()
        # Entries are added in expiry order (one TTL for all), so expired ones sit in front.
        while self._entries:
            first = next(iter(self._entries.values()))
            if first.expires_at_s > now_s and len(self._entries) < self._max_items:
                break
            self._entries.popitem(last=False)
        token = secrets.token_urlsafe(18)
        self._entries[token] = _Entry(jpeg, now_s + self._ttl_s)
        return token

    def get(self, token: str) -> bytes | None:
        """The JPEG for ``token``, or None if it is unknown or expired."""
        entry = self._entries.get(token)
        if entry is None:
            return None
        if entry.expires_at_s <= self._clock():
            del self._entries[token]
            return None
        return entry.jpeg


def _encode_jpeg(image: Image.Image) -> bytes:
    out = BytesIO()
    image.convert("RGB").save(out, format="JPEG", quality=85)
    return out.getvalue()


@functools.cache
def placeholder_portrait() -> bytes:
    """A simple head-and-shoulders silhouette, drawn once."""
    width, height = 179, 220  # the ID card portrait's 358x441 aspect, halved
    image = Image.new("RGB", (width, height), (222, 232, 242))
    draw = ImageDraw.Draw(image)
    grey = (120, 128, 140)
    draw.ellipse((52, 30, 127, 118), fill=grey)  # head
    draw.pieslice((14, 120, 165, 290), start=180, end=360, fill=grey)  # shoulders
    return _encode_jpeg(image)


def crop_portrait(image_bytes: bytes, box: tuple[int, int, int, int] | None) -> bytes:
    """The JPEG portrait for an uploaded image: ``box`` cropped from it, or the placeholder.

    A box outside the image, an empty one, or an image Pillow cannot decode falls back to
    the placeholder: the URL must always serve a picture.
    """
    if box is None:
        return placeholder_portrait()
    try:
        with Image.open(BytesIO(image_bytes)) as opened:
            x0, y0, x1, y1 = box
            x0, x1 = max(0, min(x0, x1)), min(opened.width, max(x0, x1))
            y0, y1 = max(0, min(y0, y1)), min(opened.height, max(y0, y1))
            if x1 - x0 < 1 or y1 - y0 < 1:
                return placeholder_portrait()
            crop = opened.crop((x0, y0, x1, y1))
            crop.thumbnail((PORTRAIT_MAX_SIDE_PX, PORTRAIT_MAX_SIDE_PX))
            return _encode_jpeg(crop)
    except Exception:  # a truncated upload can pass the header checks yet fail to decode
        return placeholder_portrait()
