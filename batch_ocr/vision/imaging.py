"""Pre-flight checks and fitting: what we can refuse or fix before paying for a call.

The provider accepts JPEG, PNG, BMP, GIF and TIFF, more than 8 px and at most 4000 px on
each side, at most 1 MB (``API_CONTRACT.md``, "Image limits"). A file that breaks a limit
we can fix (too big, too many pixels) is re-encoded in memory as a JPEG that fits; the
original is never touched. Phones save WebP and HEIC/HEIF, which the API does not take:
those are always re-encoded the same way (HEIC through pillow-heif, loaded only when a
HEIC file turns up). Everything else is an ``ImageRejected`` with a specific code.

The decoding is the image's ``Picture``'s (``vision.picture``): the check's decode also
serves the re-encoding when their scales agree (a PNG, WebP or HEIC is decoded once, not
twice), and the prepared image carries the picture on with its job, holding only its
bytes and the check's small grey preview.
"""

from __future__ import annotations

import io
import struct
import warnings
import zlib
from dataclasses import dataclass, field

from PIL import Image, UnidentifiedImageError

from batch_ocr.errors import ImageRejected
from batch_ocr.vision.blank import BLANK_CHECK_SIDE_PX, NoCard, no_card
from batch_ocr.vision.picture import (
    REDUCIBLE_MODES,
    WORK_MAX_SIDE_PX,
    Picture,
    TooManyPixelsError,
    cut_down,
    opaque_rgb,
)
from batch_ocr.vision.strips import Admission, TooBigToHoldError

# The common formats' plugins now, at start-up: Pillow loads them at the first open,
# where they held the import lock while every reading thread waited (20 ms at the start
# of a run, in tests/benchmarks, throughput).
Image.preinit()

MAX_BYTES = 1024 * 1024
MAX_SIDE_PX = 4000
MIN_SIDE_PX = 9  # "greater than 8 px"
#: Past this many pixels we refuse to decode at all (decompression bombs).
MAX_DECODE_PIXELS = 80_000_000
#: The memory one picture's pixels may take while decoded whole (docs/survives.md,
#: "Memory"): a JPEG is decoded scaled down from its DCT, so only other formats can come
#: near it. A 600 dpi A4 colour scan takes 100 MB; a flat 8,900 x 8,900 px PNG of 250 KB
#: would take 227 MB in colour, so it is read a band of rows at a time instead, cut down
#: as it is read (``vision.strips``), or refused undecoded when it cannot be.
DECODE_BUDGET_BYTES = 128 * 2**20
#: What the offline engine is handed whole: a picture whose colour pixels would take
#: more is handed over cut down to ``WORK_MAX_SIDE_PX``, the pixels the pre-flight
#: check keeps once it has decoded a picture (``Picture.check``; a 12 MP phone photo is
#: 36 MB and goes as it is).
LOCAL_MAX_DECODED_BYTES = 64 * 2**20
#: Bytes per pixel once decoded, by Pillow mode; other modes count as 4.
_BYTES_PER_PIXEL = {"1": 1, "L": 1, "P": 1, "LA": 2, "PA": 2, "I;16": 2, "I;16B": 2,
                    "I;16L": 2, "I;16N": 2, "RGB": 3, "YCbCr": 3, "LAB": 3, "HSV": 3}
#: Long side of a fitted image: plenty for card text, well under the 1 MB limit.
FIT_LONG_SIDE_PX = 2400
FIT_QUALITIES = (88, 80, 70, 60)
#: Smaller long sides tried when no quality fits at ``FIT_LONG_SIDE_PX`` (a noisy scan,
#: film grain): a smaller picture the API can read beats a row saying it cannot be sent.
FIT_FALLBACK_LONG_SIDES_PX = (1800, 1200)

MIME_BY_FORMAT = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "BMP": "image/bmp",
    "GIF": "image/gif",
    "TIFF": "image/tiff",
}
#: Formats we read but the API does not accept: always re-encoded as a JPEG.
CONVERTED_FORMATS = frozenset({"WEBP", "HEIF"})
#: ISO BMFF brands of HEIC/HEIF stills and sequences (ISO/IEC 23008-12, annex B).
HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1",
                         b"msf1"})


@dataclass(frozen=True, slots=True)
class ImageLimits:
    """What a recogniser accepts; an image outside them is fitted or refused."""

    max_bytes: int
    max_side_px: int
    #: Named in refusals: whose limits these are ("the API").
    owner: str


#: The provider's limits (``API_CONTRACT.md``, "Image limits").
API_LIMITS = ImageLimits(max_bytes=MAX_BYTES, max_side_px=MAX_SIDE_PX, owner="the API")


@dataclass(frozen=True, slots=True)
class PreparedImage:
    """Bytes ready to send, with their real MIME type, and the ``Picture`` of those bytes
    that every part of the run decodes them through (made here when not given)."""

    mime: str
    payload: bytes
    width: int
    height: int
    fitted: bool
    picture: Picture = field(default=None, compare=False, repr=False)  # type: ignore[assignment]
    #: Why the picture holds nothing card-like (``NoCard``), found by the pre-flight
    #: check; None for a picture worth recognising. Decided here, once for every engine.
    no_card: NoCard | None = None
    #: The file's own image when ``payload`` is a fitted re-encoding of it (None: the
    #: payload is the file's own bytes). The cards of a page of several are cut from
    #: its pixels, not the fitted ones (``card_cut.page_pixels``); it holds no decode
    #: until then, only the bytes the run holds anyway while the page is read.
    original: Picture | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.picture is None:
            object.__setattr__(self, "picture", Picture(self.payload))

    @property
    def preview(self) -> Image.Image | None:
        """The picture in grey as the pre-flight check decoded it, when that was at 1/8
        scale (JPEG): lets the card search tell a picture with no card at all without
        decoding it again (``crops``; docs/performance.md). None for other formats."""
        return self.picture.preview


def sniff_format(head: bytes) -> str | None:
    """The image format from the first bytes (extensions lie), or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "GIF"
    if head.startswith(b"BM"):
        return "BMP"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "TIFF"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "WEBP"
    if head[4:8] == b"ftyp" and head[8:12] in HEIF_BRANDS:
        return "HEIF"
    return None


def _register_heif() -> None:
    """Teach Pillow HEIC/HEIF (pillow-heif); imported only when a HEIC file turns up."""
    from pillow_heif import register_heif_opener

    register_heif_opener()


def _describe_non_image(head: bytes) -> str:
    text = head[:512].lstrip().lower()
    if text.startswith((b"<!doctype html", b"<html")) or b"<html" in text:
        return "an HTML page"
    if head.startswith(b"%PDF"):
        return "a PDF document"
    try:
        head[:512].decode("utf-8")
    except UnicodeDecodeError:
        return "an unknown binary format"
    return "a text file"


def _check_png_crcs(raw: bytes) -> None:
    """Raise ``ImageRejected`` when a PNG chunk's CRC is wrong.

    Pillow checks the CRCs of the header chunks but not of IDAT (the pixels), so a PNG
    damaged in transit there decodes "fine" and would be paid for; libpng, and so many
    servers, refuse it (PNG spec, section 5.3: "CRC ... to check for corrupted data").
    """
    offset = 8
    while offset + 12 <= len(raw):
        (length,) = struct.unpack_from(">I", raw, offset)
        end = offset + 12 + length
        if end > len(raw):
            return  # truncated: the decoder says so with its own message
        kind = raw[offset + 4 : offset + 8]
        (stored,) = struct.unpack_from(">I", raw, end - 4)
        if zlib.crc32(raw[offset + 4 : end - 4]) != stored:
            name = kind.decode("ascii", "backslashreplace")
            raise ImageRejected("corrupt_image",
                                f"PNG data is damaged: bad CRC in its {name} chunk")
        if kind == b"IEND":
            return
        offset = end


def decode_cost(mode: str, width: int, height: int) -> int:
    """The bytes a picture of ``mode`` takes decoded and made ready to cut down."""
    per_pixel = _BYTES_PER_PIXEL.get(mode, 4)
    if mode not in REDUCIBLE_MODES:
        per_pixel += 4  # turned into RGB first
    return per_pixel * width * height


def decode_refusal(mode: str, width: int, height: int) -> ImageRejected:
    """The refusal (``image_too_large``) of a picture whose pixels would pass the budget
    and that cannot be read a band at a time."""
    cost = decode_cost(mode, width, height)
    return ImageRejected(
        "image_too_large",
        f"{width}x{height} px would take {cost / 2**20:.0f} MB of memory to decode; "
        f"at most {DECODE_BUDGET_BYTES // 2**20} MB is decoded for one picture "
        "(scan at 600 dpi or less)")


def admission(mode: str, width: int, height: int) -> Admission:
    """How a picture that is not a JPEG is decoded: whole while its pixels fit the
    budget, else a band of rows at a time; kept whole while it can be handed over whole
    (``LOCAL_MAX_DECODED_BYTES``), else cut down to ``WORK_MAX_SIDE_PX``."""
    keep_px = WORK_MAX_SIDE_PX if 3 * width * height > LOCAL_MAX_DECODED_BYTES else None
    in_bands = decode_cost(mode, width, height) > DECODE_BUDGET_BYTES
    return Admission(WORK_MAX_SIDE_PX if in_bands else keep_px, in_bands=in_bands)


def _decode(picture: Picture, fmt: str) -> tuple[int, int]:
    """Decode all of it, so truncated or corrupt files are caught here, not billed.

    Returns the real size. A JPEG's 1/8-scale decode stays in grey as the picture's
    ``preview``; any other format is decoded as ``admission`` says and kept until
    ``prepare`` is done, so the file is never decoded twice (``Picture.check``).
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return picture.check(max_pixels=MAX_DECODE_PIXELS, jpeg=fmt == "JPEG",
                                 admit=admission)
    except ImageRejected:
        raise
    except TooBigToHoldError as exc:
        raise decode_refusal(exc.mode, exc.width, exc.height) from None
    except TooManyPixelsError as exc:
        raise ImageRejected("image_too_large", f"{exc.width}x{exc.height} px is too many "
                            "pixels to decode safely") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRejected("image_too_large", "too many pixels to decode safely") from None
    except UnidentifiedImageError:
        raise ImageRejected("corrupt_image", f"{fmt} header found but the image cannot be "
                            "read") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageRejected("corrupt_image", f"{fmt} data is damaged: {exc}") from None


def _fit(picture: Picture, limits: ImageLimits) -> bytes:
    """Re-encode as a JPEG within the limits (EXIF orientation applied, alpha on white):
    from the check's decode of any format but JPEG, which is decoded again scaled down
    from its DCT to what is needed."""
    image = opaque_rgb(picture.upright(FIT_LONG_SIDE_PX))
    for long_side_px in (FIT_LONG_SIDE_PX, *FIT_FALLBACK_LONG_SIDES_PX):
        image.thumbnail((long_side_px, long_side_px), Image.Resampling.LANCZOS)
        for quality in FIT_QUALITIES:
            buffer = io.BytesIO()
            image.save(buffer, "JPEG", quality=quality, optimize=False)
            if buffer.tell() <= limits.max_bytes:
                return buffer.getvalue()
    raise ImageRejected("cannot_fit", f"could not re-encode the image under "
                        f"{limits.max_bytes // 1024} KB for {limits.owner}")


def _lossless(picture: Picture) -> PreparedImage:
    """A PNG for an engine without size limits: a WebP or HEIC photo (the offline engine
    reads PNG; HEIC would need pillow-heif in every worker), or a picture too big to
    hand over whole (``LOCAL_MAX_DECODED_BYTES``), cut down to ``WORK_MAX_SIDE_PX``."""
    image = opaque_rgb(picture.upright(WORK_MAX_SIDE_PX))
    if 3 * image.width * image.height > LOCAL_MAX_DECODED_BYTES:
        image = cut_down(image)
    if image.mode != "RGB":
        image = opaque_rgb(image)
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=1)  # fast: it only crosses to a worker
    return PreparedImage("image/png", buffer.getvalue(), image.width, image.height, fitted=True)


def _refuse_thin(width: int, height: int, fitted_width: int, fitted_height: int,
                 limits: ImageLimits) -> None:
    """Refuse a long thin strip (6000x12) that shrunk under the limit's long side drops
    below 9 px on its short side: the API would refuse it, and the refusal may be
    billed."""
    if min(fitted_width, fitted_height) < MIN_SIDE_PX:
        raise ImageRejected(
            "bad_dimensions",
            f"the image is {width}x{height} px; shrunk to the {limits.max_side_px} px limit "
            f"of {limits.owner} it would be {fitted_width}x{fitted_height} px, under the "
            "9 px a card needs",
        )


def prepare(raw: bytes, limits: ImageLimits | None = API_LIMITS) -> PreparedImage:
    """Check ``raw`` is a whole image; fit it to ``limits`` when it is only too big.

    ``limits`` are the engine's own (``Engine.image_limits``): the API's for the API,
    none for the offline engine, which then gets the original pixels untouched.
    Raises ``ImageRejected`` for anything no engine could read, or ``limits`` refuse.
    """
    if not raw:
        raise ImageRejected("empty_file", "the file is empty (0 bytes)")
    fmt = sniff_format(raw[:16])
    if fmt is None:
        raise ImageRejected(
            "unsupported_format",
            "not a JPEG/PNG/BMP/GIF/TIFF/WebP/HEIC image: the content looks like "
            f"{_describe_non_image(raw)}",
        )
    if fmt == "PNG":
        _check_png_crcs(raw)
    if fmt == "HEIF":
        _register_heif()
    picture = Picture(raw)
    try:
        return _prepared(picture, fmt, limits)
    finally:
        picture.release()  # the check's decode: only its bytes and preview travel on


def _prepared(picture: Picture, fmt: str, limits: ImageLimits | None) -> PreparedImage:
    """``prepare`` once the format is known: decode, check the size, fit if need be."""
    raw = picture.data
    width, height = _decode(picture, fmt)
    if width < MIN_SIDE_PX or height < MIN_SIDE_PX:
        raise ImageRejected(
            "bad_dimensions",
            f"the image is {width}x{height} px; a card needs more than 8 px on each side",
        )
    needs_fit = limits is not None and (
        fmt in CONVERTED_FORMATS or len(raw) > limits.max_bytes
        or max(width, height) > limits.max_side_px)
    blank = no_card(width, height, picture.for_blank_check(BLANK_CHECK_SIDE_PX))
    if blank is not None:
        if needs_fit:
            assert limits is not None
            scale = min(1.0, FIT_LONG_SIDE_PX / max(width, height))
            _refuse_thin(width, height, round(width * scale), round(height * scale), limits)
        # Nothing to recognise: no engine sees it, so nothing is re-encoded for one.
        return PreparedImage(MIME_BY_FORMAT.get(fmt, "image/jpeg"), raw, width, height,
                             fitted=False, no_card=blank)
    if limits is None and (fmt in CONVERTED_FORMATS
                           or 3 * width * height > LOCAL_MAX_DECODED_BYTES):
        return _lossless(picture)
    if limits is None or not needs_fit:
        return PreparedImage(MIME_BY_FORMAT[fmt], raw, width, height, fitted=False,
                             picture=picture)
    try:
        fitted = _fit(picture, limits)
    except ImageRejected:
        raise
    except (OSError, ValueError) as exc:
        raise ImageRejected("cannot_fit", f"could not re-encode the image: {exc}") from None
    with Image.open(io.BytesIO(fitted)) as check:
        fitted_width, fitted_height = check.size
    _refuse_thin(width, height, fitted_width, fitted_height, limits)
    return PreparedImage("image/jpeg", fitted, fitted_width, fitted_height, fitted=True,
                         picture=Picture(fitted, preview=picture.preview), original=picture)
