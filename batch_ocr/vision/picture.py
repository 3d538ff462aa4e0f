"""The one decoder: an image's bytes and the pixels decoded from them, each decode made once.

An image travels through a run with its ``Picture`` (``imaging.PreparedImage.picture``),
and whatever needs its pixels asks the picture for the view it needs::

    check         pre-flight (``imaging``): all of the data decoded, so damage shows
                  before a call is paid for; a JPEG at 1/8 scale, kept in grey as
                  ``preview`` (the card search's noise check, ``crops``); any other
                  format within a memory budget, kept cut down to ``WORK_MAX_SIDE_PX``
    for_blank_check  the check's decode, small, in RGB (``blank``)
    upright       the whole picture upright, for re-encoding (``imaging``'s fitting)
    search        the page at the card search's size (``layout``: 640 px)
    full          the picture cards are cut from and read from (``layout``, the
                  offline engine: 2000 px)
    for_warnings  the picture the image warnings measure (``image_warnings``: 1200 px)
    thumbnail     the review page's (``report``: 160 px)

Each view is made as it was when each module decoded on its own: the same Pillow calls,
sizes and order. A card's crop must come out byte for byte the same (its sha256 is its
identity in the journal, docs/documents.md), and so must a warning's measure.

What views share is the decode under them. Pillow decodes a JPEG at the DCT scale
(1/1, 1/2, 1/4 or 1/8) its ``draft`` picks for the size asked, so views that ask for
sizes with the same scale get one decode: on an A4 copy at 200 dpi or a photo fitted to
the API's limits, search, full and for_warnings are all one decode at 1/1. Other
formats have one scale. A decode is held until ``release()``: whoever has finished with
the pixels lets them go (the API engine before its calls, the run once an image's rows
are made), so a picture waiting for its answer holds only its bytes and its preview
(docs/performance.md).
"""

from __future__ import annotations

import io
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PIL import ExifTags, Image

from batch_ocr.vision import strips

if TYPE_CHECKING:
    import numpy as np

#: Long side the card search works at (``layout``): a card on an A4 page is ~180 px wide.
SEARCH_LONG_SIDE_PX = 640
#: Long side cards are cut from and read at (bounds memory and time on big photos).
FULL_LONG_SIDE_PX = 2000
#: Long side the image warnings measure at (JPEG DCT scaling makes it cheap).
WARNINGS_LONG_SIDE_PX = 1200
#: The JPEG scale of the pre-flight decode: every coefficient is still decoded.
CHECK_SCALE = 8
#: Pillow's ``thumbnail`` asks its decoder for this many times the size it makes.
THUMBNAIL_REDUCING_GAP = 2.0
#: Pixels the pre-flight check keeps of a picture it decoded in full (any format but
#: JPEG): what re-encoding starts from, so the file is never decoded twice, and all a
#: card needs (it is read at a fraction of this; docs/survives.md, "Memory").
WORK_MAX_SIDE_PX = 4000
#: Modes Pillow's ``reduce`` takes; others are turned into RGB before they are cut down.
REDUCIBLE_MODES = frozenset({"L", "LA", "RGB", "RGBA", "I", "F", "CMYK"})

#: What turns a picture upright for each EXIF orientation (``ImageOps.exif_transpose``).
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


class UnreadableImageError(ValueError):
    """The bytes are not an image we can decode."""


class TooManyPixelsError(ValueError):
    """The image claims more pixels than the pre-flight check will decode."""

    def __init__(self, width: int, height: int) -> None:
        super().__init__(f"{width}x{height} px")
        self.width = width
        self.height = height


def opaque_rgb(image: Image.Image) -> Image.Image:
    """``image`` as 8-bit RGB, as a scan is read: what is transparent lies on white paper.

    Every view goes through here: a palette PNG whose transparency Pillow's
    ``convert("RGB")`` drops came out on black, with Pillow's warning on the terminal.
    """
    if image.mode in ("RGBA", "LA", "PA", "P") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, "white")
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    if image.mode.startswith("I;16"):
        # 16-bit grey: Pillow's convert clips to 0..255 instead of scaling, so a mid-grey
        # scan would come out pure white. Scale to 8 bits first.
        return image.convert("I").point(lambda value: value / 256).convert("RGB")
    return image if image.mode == "RGB" else image.convert("RGB")


def thumbnail_size(size: tuple[int, int], box_px: int) -> tuple[int, int] | None:
    """The size ``Image.thumbnail((box_px, box_px))`` gives an image of ``size``; None
    when it leaves the image as it is (Pillow's own rounding, kept to the pixel)."""
    width, height = size
    if box_px >= width and box_px >= height:
        return None
    aspect = width / height

    def rounded(number: float, key: Callable[[int], float]) -> int:
        return max(min(math.floor(number), math.ceil(number), key=key), 1)

    if aspect <= 1:
        return rounded(box_px * aspect, lambda n: abs(aspect - n / box_px)), box_px
    return box_px, rounded(box_px / aspect,
                           lambda n: 0 if n == 0 else abs(aspect - box_px / n))


def cut_down(image: Image.Image, long_side_px: int = WORK_MAX_SIDE_PX) -> Image.Image:
    """``image`` (decoded) at most ``long_side_px`` long, by whole steps (box filter);
    itself when it is small enough."""
    longest = max(image.size)
    if longest <= long_side_px:
        return image
    return reduced(image, -(-longest // long_side_px))


def reduced(image: Image.Image, factor: int) -> Image.Image:
    """``image`` cut down by ``factor`` (a box filter), turned into RGB first when its
    mode cannot be reduced (a palette, so that pieces pasted together keep their
    colours)."""
    if image.mode not in REDUCIBLE_MODES:
        image = opaque_rgb(image)
    return image.reduce(factor) if factor > 1 else image


def small_rgb(image: Image.Image, long_side_px: int) -> Image.Image:
    """``image`` as RGB (transparency on white), box-filtered to at most
    ``long_side_px`` long."""
    rgb = opaque_rgb(image)
    scale = long_side_px / max(rgb.size)
    if scale >= 1:
        return rgb
    size = (max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale)))
    return rgb.resize(size, Image.Resampling.BOX)


def _orientation(image: Image.Image) -> int:
    """``image``'s EXIF orientation (1: upright), read once it is loaded (a PNG's EXIF
    may follow its pixels)."""
    try:
        return int(image.getexif().get(ExifTags.Base.Orientation, 1))
    except Exception:  # noqa: BLE001 - a damaged EXIF block: the picture as stored
        return 1


def _bgr(image: Image.Image) -> np.ndarray:
    """An opaque RGB picture as the BGR array OpenCV works on (swapped by OpenCV: the
    bytes numpy's reversed copy gives, in half its time)."""
    import cv2
    import numpy as np

    return cv2.cvtColor(np.asarray(opaque_rgb(image)), cv2.COLOR_RGB2BGR)


@dataclass(slots=True)
class _Decode:
    """The data decoded at one scale, as stored (not yet upright)."""

    image: Image.Image
    #: The EXIF orientation when read at the decode (the check's, whose pixels are cut
    #: down and no longer carry it); None: read from ``image`` when a view is made.
    orientation: int | None = None

    def turned(self, image: Image.Image | None = None) -> Image.Image:
        """``image`` (by default this decode) upright per this decode's EXIF orientation,
        as ``ImageOps.exif_transpose`` turns it; the very image when it is upright.

        The orientation is read here, when a view is made, not at the decode: a damaged
        EXIF block must not fail the pre-flight check, which never read it.
        """
        source = self.image if image is None else image
        orientation = self.orientation
        if orientation is None:
            orientation = self.image.getexif().get(ExifTags.Base.Orientation, 1)
        turn = _UPRIGHT.get(orientation)
        return source.transpose(turn) if turn is not None else source


def _shrunk(image: Image.Image, long_side_px: int,
            resample: Image.Resampling = Image.Resampling.BICUBIC) -> Image.Image:
    """What ``image.thumbnail((long_side_px, long_side_px), resample)`` makes of a loaded
    image, as a new image (``image`` is left as it is: it may be a held decode)."""
    final = thumbnail_size(image.size, long_side_px)
    if final is None:
        return image
    return image.resize(final, resample, reducing_gap=THUMBNAIL_REDUCING_GAP)


class Picture:
    """An image's bytes and the decodes made of them, each at most once until released.

    Views are made afresh from the held decode at each call and belong to the caller
    (nothing but the decodes is kept: a view held beside them would only add memory).
    Thread-safe: decodes are made under one lock (two threads wanting the same decode
    would otherwise both make it).
    """

    def __init__(self, data: bytes, *, preview: Image.Image | None = None) -> None:
        self.data = data
        #: The pre-flight decode in grey when that was a JPEG at 1/8 scale, else None.
        self.preview = preview
        #: Decodes made so far (each scale once until released): what tests count.
        self.decodes = 0
        self._lock = threading.RLock()
        self._held: dict[tuple[tuple[int, int], str], _Decode] = {}
        #: The pre-flight check's decode while it is held (``for_blank_check``).
        self._checked: _Decode | None = None

    # -- the decoder ---------------------------------------------------------------------

    def _open(self) -> Image.Image:
        """The image's header read (no pixels decoded yet)."""
        return Image.open(io.BytesIO(self.data))

    def _decode(self, opened: Image.Image, request: tuple[int, int] | None,
                mode: str | None = "RGB"
                ) -> tuple[_Decode, tuple[float, float, float, float] | None]:
        """``opened`` decoded at the scale ``draft`` picks for ``request`` (None: whole),
        or the decode held at that scale; and the draft's box (the original's extent in
        the decode's pixels), which a thumbnail resizes from."""
        with self._lock:
            drafted = opened.draft(mode, request) if request is not None else None
            key = (opened.size, opened.mode)  # after the draft: its scale (or HEIC thumbnail)
            held = self._held.get(key)
            if held is None:
                opened.load()
                held = _Decode(opened)
                self._held[key] = held
                self.decodes += 1
            return held, drafted[1] if drafted is not None else None

    def _decoded_for(self, draft_px: int | None) -> _Decode:
        """The decode a draft to ``draft_px`` picks (None: full scale)."""
        request = (draft_px, draft_px) if draft_px is not None else None
        held, _ = self._decode(self._open(), request)
        return held

    def release(self) -> None:
        """Let go of every decode (the bytes and the preview stay)."""
        with self._lock:
            self._held.clear()
            self._checked = None

    def holds_pixels(self) -> bool:
        """Whether any decode is held (none once released)."""
        with self._lock:
            return bool(self._held)

    def holds_decode_for_warnings(self) -> bool:
        """Whether ``for_warnings`` would cost no decode now (one it uses is held)."""
        with self._lock:
            if not self._held:
                return False
            try:
                opened = self._open()
                opened.draft("RGB", (WARNINGS_LONG_SIDE_PX, WARNINGS_LONG_SIDE_PX))
            except Exception:  # noqa: BLE001 - held decodes mean the header reads; be safe
                return False
            return (opened.size, opened.mode) in self._held

    # -- views ---------------------------------------------------------------------------

    def check(self, *, max_pixels: int, jpeg: bool,
              admit: Callable[[str, int, int], strips.Admission] | None = None
              ) -> tuple[int, int]:
        """Decode all of the data now, so that a damaged file shows before it is paid for.

        A JPEG (``jpeg``: told by its first bytes) is decoded at 1/8 scale (DCT scaling
        still decodes every coefficient, so truncation is found, at a fraction of the
        cost) and kept in grey as ``preview``. Returns the real size (read before the
        draft shrinks it). Raises ``TooManyPixelsError`` past ``max_pixels`` without
        decoding, else what Pillow raises for damaged data.

        Any other format is first shown to ``admit`` (its mode and size, from the
        header), which raises to refuse it undecoded or says how to decode it
        (``Admission``). Once decoded, it is held cut down to the long side admitted
        (``cut_down``) with its EXIF orientation, so the full pixels are let go at once
        and re-encoding starts from these (``upright``). A picture admitted ``in_bands``
        is never held whole: it is read a band of rows at a time and cut down as read
        (``strips``), or refused (``TooBigToHoldError``) when it is not of a kind read
        so. That held decode stands for the full-scale one until ``release()``: the
        pre-flight check releases it before any other view is asked for.
        """
        opened = self._open()
        width, height = opened.size
        if width * height > max_pixels:
            raise TooManyPixelsError(width, height)
        if jpeg:
            request = (max(1, width // CHECK_SCALE), max(1, height // CHECK_SCALE))
            held, _ = self._decode(opened, request)
            self.preview = held.image.convert("L")
        else:
            admission = (admit(opened.mode, width, height) if admit is not None
                         else strips.Admission())
            keep_px = admission.keep_px
            with self._lock:
                key = (opened.size, opened.mode)
                if admission.in_bands:
                    # A PNG's EXIF after its pixels is read by decoding them all: only
                    # one before them is heeded here.
                    seen = opened.format != "PNG" or "exif" in opened.info
                    banded = strips.read_in_bands(self.data, opened,
                                                  keep_px or max(width, height), reduced)
                    held = _Decode(banded, _orientation(opened) if seen else 1)
                    self.decodes += 1
                else:
                    held, _ = self._decode(opened, None)
                    del opened  # the held decode is its only reference: cut down, it goes
                    kept = held.image if keep_px is None else cut_down(held.image, keep_px)
                    held = _Decode(kept, _orientation(held.image))
                self._held[key] = held
        with self._lock:
            self._checked = held
        return width, height

    def for_blank_check(self, long_side_px: int) -> Image.Image:
        """The check's decode (as stored, not turned upright) in RGB, box-filtered to at
        most ``long_side_px`` long: what the blank check measures (``blank``), made with
        no decode of its own. Only while the check's decode is held."""
        with self._lock:
            checked = self._checked
        if checked is None:
            raise RuntimeError("for_blank_check needs the pre-flight check's decode")
        return small_rgb(checked.image, long_side_px)

    def upright(self, draft_px: int | None = None) -> Image.Image:
        """The whole picture upright per EXIF, a new image the caller may change,
        decoded at the scale a draft to ``draft_px`` picks (None: full scale)."""
        held = self._decoded_for(draft_px)
        turned = held.turned()
        return turned.copy() if turned is held.image else turned

    def take_upright(self, draft_px: int | None = None) -> Image.Image:
        """``upright``, for a caller done with the picture's pixels: every decode is let
        go and the one asked for is handed over, not copied (a copy beside it would
        double a full-scale decode's memory for a moment)."""
        with self._lock:
            held = self._decoded_for(draft_px)
            self.release()
        return held.turned()

    def search(self) -> tuple[np.ndarray, float]:
        """BGR pixels at most ``SEARCH_LONG_SIDE_PX`` on the long side, upright, and their
        scale to ``full``'s. Raises ``UnreadableImageError``.

        Made as ``opened.thumbnail`` then ``exif_transpose`` make it: the decoder's draft
        from the thumbnail's request, the resize from the draft's box.
        """
        try:
            opened = self._open()
            decoded_long_side = min(FULL_LONG_SIDE_PX, max(opened.size))
            final = thumbnail_size(opened.size, SEARCH_LONG_SIDE_PX)
            if final is None:
                held, _ = self._decode(opened, None)
                small = held.image
            else:
                request = int(SEARCH_LONG_SIDE_PX * THUMBNAIL_REDUCING_GAP)
                held, box = self._decode(opened, (request, request), mode=None)
                small = held.image
                if small.size != final:
                    small = small.resize(final, Image.Resampling.BICUBIC, box=box,
                                         reducing_gap=THUMBNAIL_REDUCING_GAP)
            pixels = _bgr(held.turned(small))
        except Exception as exc:  # Pillow raises many types for bad data: all "unreadable"
            raise UnreadableImageError(f"cannot decode image: {exc}") from exc
        return pixels, max(pixels.shape[:2]) / decoded_long_side

    def full(self) -> np.ndarray:
        """BGR pixels, upright, at most ``FULL_LONG_SIDE_PX`` on the long side, from a
        full-scale decode (as ``exif_transpose`` then ``thumbnail`` make them). Raises
        ``UnreadableImageError``."""
        return self._bgr_at(None, FULL_LONG_SIDE_PX)

    def for_reading(self, min_scale: float = 1.0) -> np.ndarray:
        """What the offline engine reads, which knows how large its cards are: ``full``,
        or given a ``min_scale`` under 1, the same from the JPEG's smallest decode that
        keeps at least that share of each side (a 2,500 px photo whose card fills it is
        decoded at half scale, in a quarter of the time). Raises
        ``UnreadableImageError``."""
        if min_scale >= 1:
            return self.full()
        try:
            width, height = self._open().size
            request = (math.ceil(width * min_scale), math.ceil(height * min_scale))
            held, _ = self._decode(self._open(), request)
            return _bgr(_shrunk(held.turned(), FULL_LONG_SIDE_PX))
        except Exception as exc:  # Pillow raises many types for bad data: all "unreadable"
            raise UnreadableImageError(f"cannot decode image: {exc}") from exc

    def size(self) -> tuple[int, int]:
        """The picture's size as stored (from its header: nothing is decoded)."""
        with self._open() as opened:
            return opened.size

    def small(self, long_side_px: int) -> tuple[np.ndarray, float]:
        """BGR pixels, upright, at most ``long_side_px`` on the long side, from the JPEG's
        smallest decode that size allows on both sides (a draft sized to the picture's
        own proportions, where ``search`` asks for a square), box-filtered; and their
        scale to the picture's real size. Raises ``UnreadableImageError``."""
        try:
            opened = self._open()
            width, height = opened.size
            share = min(1.0, long_side_px / max(width, height))
            request = (max(1, math.ceil(width * share)), max(1, math.ceil(height * share)))
            held, _ = self._decode(opened, request)
            pixels = _bgr(small_rgb(held.turned(), long_side_px))
        except Exception as exc:  # Pillow raises many types for bad data: all "unreadable"
            raise UnreadableImageError(f"cannot decode image: {exc}") from exc
        return pixels, max(pixels.shape[:2]) / max(width, height)

    def for_warnings(self) -> np.ndarray:
        """BGR pixels, upright, at most ``WARNINGS_LONG_SIDE_PX`` on the long side, from
        the JPEG's smallest decode that size allows (a draft, ``exif_transpose``, then
        ``thumbnail``). Raises ``UnreadableImageError``."""
        return self._bgr_at(WARNINGS_LONG_SIDE_PX, WARNINGS_LONG_SIDE_PX)

    def _bgr_at(self, draft_px: int | None, long_side_px: int) -> np.ndarray:
        try:
            return _bgr(_shrunk(self._decoded_for(draft_px).turned(), long_side_px))
        except Exception as exc:  # Pillow raises many types for bad data: all "unreadable"
            raise UnreadableImageError(f"cannot decode image: {exc}") from exc

    def thumbnail(self, max_px: int) -> Image.Image:
        """An RGB thumbnail at most ``max_px`` on a side, upright, transparency on white,
        resized with Lanczos from the JPEG's smallest decode that size allows (``draft``
        never goes below the size asked: a 4000 px scan is not decoded in full only to
        be thrown away). Raises what Pillow raises for a damaged image (``OSError``,
        ``ValueError``, ``DecompressionBombError``)."""
        held = self._decoded_for(max_px)
        thumb = _shrunk(opaque_rgb(held.turned()), max_px, Image.Resampling.LANCZOS)
        return thumb.copy() if thumb is held.image else thumb
