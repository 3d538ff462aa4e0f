"""A picture too big to hold decoded, read a band of rows at a time and cut down as read.

A flat 8,900 x 8,900 px PNG is 250 KB on disk and 227 MB of colour pixels; decoded
whole, with the copies made of it, it took 1.5 GB. Here a PNG (not interlaced, 8 bits
a sample) or a striped TIFF frame is decoded a band of rows at a time, and each band is
cut down at once by whole steps (``Image.reduce``, a box filter, as ``cut_down`` cuts a
whole decode), so memory holds one band and the cut-down picture, never the whole
(docs/survives.md, "Memory"). The result is the same pixels ``cut_down`` makes of the
whole decode: bands are whole multiples of the step, and a box filter's blocks never
straddle two bands.

Each band is handed to Pillow as a small file of its own, made from the original's
bytes: for a PNG, the band's rows as the original compresses them, after the row above
it (every PNG filter refers at most to the row above), which the band before gave;
for a TIFF frame, a directory naming only the band's strips. ``None`` when a picture is
of another kind (interlaced, 16-bit, tiled, planar): the caller then refuses it as
before.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from PIL import Image


class TooBigToHoldError(ValueError):
    """The picture's pixels would pass the memory budget decoded, and it is not of a kind
    read a band of rows at a time."""

    def __init__(self, mode: str, width: int, height: int) -> None:
        super().__init__(f"{width}x{height} px ({mode})")
        self.mode = mode
        self.width = width
        self.height = height


@dataclass(frozen=True, slots=True)
class Admission:
    """How the pre-flight check decodes a picture that is not a JPEG
    (``picture.Picture.check``)."""

    #: The long side kept of it once decoded (None: all of it).
    keep_px: int | None = None
    #: Too big to hold decoded: read a band of rows at a time, cut down to ``keep_px``
    #: as it is read (``read_in_bands``).
    in_bands: bool = False


#: Raw bytes of one band (its rows as decoded): what a band costs beside the result.
BAND_BYTES = 8 * 2**20
#: PNG colour types read in bands, with their samples per pixel (8 bits a sample): grey,
#: RGB, palette, grey with alpha, RGBA. Pillow decodes these to exactly the bytes the
#: rows hold, which is what the next band's first row refers to.
_PNG_SAMPLES = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
#: Chunks copied to each band's PNG: palette and transparency.
_PNG_KEPT = (b"PLTE", b"tRNS")
#: A TIFF frame is read in bands only from a file this large at most (each band's file
#: is a copy of it).
MAX_TIFF_BYTES = 64 * 2**20
_TIFF_IMAGE_LENGTH = 257
_TIFF_STRIP_OFFSETS = 273
_TIFF_ROWS_PER_STRIP = 278
_TIFF_STRIP_BYTE_COUNTS = 279
_TIFF_PLANAR = 284
_TIFF_TILE_WIDTH = 322
_TIFF_LONG = 4


def _band_rows(row_bytes: int, factor: int) -> int:
    """Rows in a band: a whole multiple of ``factor`` within ``BAND_BYTES``."""
    return max(factor, BAND_BYTES // max(1, row_bytes) // factor * factor)


#: How a band is cut down: ``picture.reduced`` by the step asked (a box filter).
Reduce = Callable[[Image.Image, int], Image.Image]


def _assemble(bands: Iterator[Image.Image], width: int, height: int,
              factor: int, reduce: Reduce) -> Image.Image:
    """The bands, each cut down by ``factor``, stacked into one picture."""
    out: Image.Image | None = None
    top = 0
    for band in bands:
        small = reduce(band, factor)
        if out is None:
            out = Image.new(small.mode, (-(-width // factor), -(-height // factor)))
        out.paste(small, (0, top))
        top += small.height
    if out is None:
        raise ValueError("no pixel data")
    return out


def read_in_bands(data: bytes, opened: Image.Image, keep_px: int,
                  reduce: Reduce) -> Image.Image:
    """``opened`` (a PNG or a TIFF frame, from ``data``) read a band of rows at a time,
    cut down to at most ``keep_px`` by whole steps as ``picture.cut_down`` cuts it.
    Raises ``TooBigToHoldError`` when it is not of a kind read so."""
    factor = max(1, -(-max(opened.size) // keep_px))
    image = None
    if opened.format == "PNG":
        image = png(data, factor, reduce)
    elif opened.format == "TIFF":
        image = tiff_frame(data, opened, factor, reduce)
    if image is None:
        raise TooBigToHoldError(opened.mode, *opened.size)
    return image


# -- PNG -------------------------------------------------------------------------------


def _png_chunks(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    offset = 8
    while offset + 8 <= len(data):
        (length,) = struct.unpack_from(">I", data, offset)
        kind = data[offset + 4 : offset + 8]
        yield kind, data[offset + 8 : offset + 8 + length]
        if kind == b"IEND":
            return
        offset += 12 + length


def _chunk(kind: bytes, body: bytes) -> bytes:
    return (struct.pack(">I", len(body)) + kind + body
            + struct.pack(">I", zlib.crc32(kind + body)))  # fmt: skip


def png(data: bytes, factor: int, reduce: Reduce) -> Image.Image | None:
    """The PNG ``data`` decoded band by band, cut down by ``factor``; None when it is
    not a kind read in bands (interlaced, not 8 bits a sample)."""
    header = b""
    kept: list[bytes] = []
    compressed: list[bytes] = []
    for kind, body in _png_chunks(data):
        if kind == b"IHDR":
            header = body
        elif kind in _PNG_KEPT:
            kept.append(_chunk(kind, body))
        elif kind == b"IDAT":
            compressed.append(body)
    if len(header) != 13:
        return None
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    if depth != 8 or interlace or colour not in _PNG_SAMPLES:
        return None
    stride = 1 + width * _PNG_SAMPLES[colour]  # the filter byte, then the samples
    rows = _band_rows(stride, factor)

    def bands() -> Iterator[Image.Image]:
        inflate = zlib.decompressobj()
        pending = b"".join(compressed)
        above: bytes | None = None  # the row before the band, as decoded (filter 0)
        done = 0
        while done < height:
            count = min(rows, height - done)
            raw = inflate.decompress(pending, count * stride)
            pending = inflate.unconsumed_tail
            if len(raw) < count * stride:
                raise ValueError("PNG data ends early")
            if above is not None:
                raw = b"\x00" + above + raw
            band_height = count + (above is not None)
            band_header = struct.pack(">IIBBBBB", width, band_height, 8, colour, 0, 0, 0)
            band_png = b"".join([b"\x89PNG\r\n\x1a\n", _chunk(b"IHDR", band_header), *kept,
                                 _chunk(b"IDAT", zlib.compress(raw, 0)),
                                 _chunk(b"IEND", b"")])  # fmt: skip
            del raw
            with Image.open(io.BytesIO(band_png)) as opened:
                opened.load()
                band = opened.copy()
            if above is not None:
                band = band.crop((0, 1, width, band_height))
            above = band.crop((0, count - 1, width, count)).tobytes()
            done += count
            yield band

    return _assemble(bands(), width, height, factor, reduce)


# -- TIFF ------------------------------------------------------------------------------


def _ifd_offsets(data: bytes, order: str) -> list[int]:
    """Offsets of the frames' directories (classic TIFF), in order."""
    (offset,) = struct.unpack_from(order + "I", data, 4)
    found: list[int] = []
    while offset and offset + 2 <= len(data) and offset not in found:
        found.append(offset)
        (count,) = struct.unpack_from(order + "H", data, offset)
        end = offset + 2 + 12 * count
        if end + 4 > len(data):
            break
        (offset,) = struct.unpack_from(order + "I", data, end)
    return found


def _entries(data: bytes, order: str, offset: int) -> dict[int, bytes]:
    (count,) = struct.unpack_from(order + "H", data, offset)
    return {struct.unpack_from(order + "H", data, offset + 2 + 12 * i)[0]:
            data[offset + 2 + 12 * i : offset + 14 + 12 * i] for i in range(count)}


def tiff_frame(data: bytes, frame: Image.Image, factor: int,
               reduce: Reduce) -> Image.Image | None:
    """The frame ``frame`` (opened from ``data``, on the frame wanted) decoded band by
    band, cut down by ``factor``; None when it is not a kind read in bands (BigTIFF,
    tiled, planes apart, a file past ``MAX_TIFF_BYTES``)."""
    tags = getattr(frame, "tag_v2", None)
    if tags is None:
        return None
    if (len(data) > MAX_TIFF_BYTES or data[:4] not in (b"II*\x00", b"MM\x00*")
            or _TIFF_TILE_WIDTH in tags or tags.get(_TIFF_PLANAR, 1) != 1):
        return None
    order = "<" if data[:2] == b"II" else ">"
    offsets, counts = tags.get(_TIFF_STRIP_OFFSETS), tags.get(_TIFF_STRIP_BYTE_COUNTS)
    frames = _ifd_offsets(data, order)
    if not offsets or not counts or frame.tell() >= len(frames):
        return None
    width, height = frame.size
    per_strip = int(tags.get(_TIFF_ROWS_PER_STRIP, height)) or height
    strips_total = -(-height // per_strip)
    if len(offsets) != strips_total or len(counts) != strips_total:
        return None
    entries = _entries(data, order, frames[frame.tell()])
    # Whole strips a band, and rows a whole multiple of ``factor``.
    row_bytes = width * len(frame.getbands())
    rows = _band_rows(row_bytes, factor)
    step = per_strip * factor // _gcd(per_strip, factor)
    rows = max(step, rows // step * step)
    strips_per_band = rows // per_strip

    def bands() -> Iterator[Image.Image]:
        for first in range(0, strips_total, strips_per_band):
            last = min(strips_total, first + strips_per_band)
            band_height = min(height, last * per_strip) - first * per_strip
            band_file = _tiff_band(data, order, entries, list(offsets[first:last]),
                                   list(counts[first:last]), band_height)
            with Image.open(io.BytesIO(band_file)) as opened:
                opened.load()
                yield opened.copy()

    return _assemble(bands(), width, height, factor, reduce)


def _gcd(a: int, b: int) -> int:
    while b:
        a, b = b, a % b
    return a


def _tiff_band(data: bytes, order: str, entries: dict[int, bytes], offsets: list[int],
               counts: list[int], band_height: int) -> bytes:
    """``data`` with a new first directory: the frame's, naming only the band's strips."""
    base = len(data) + (len(data) & 1)
    arrays = struct.pack(f"{order}{len(offsets)}I", *offsets)
    arrays += struct.pack(f"{order}{len(counts)}I", *counts)

    def entry(tag: int, count: int, value: int) -> bytes:
        return struct.pack(order + "HHII", tag, _TIFF_LONG, count, value)

    changed = dict(entries)
    changed[_TIFF_IMAGE_LENGTH] = entry(_TIFF_IMAGE_LENGTH, 1, band_height)
    one = len(offsets) == 1
    changed[_TIFF_STRIP_OFFSETS] = entry(_TIFF_STRIP_OFFSETS, len(offsets),
                                         offsets[0] if one else base)
    changed[_TIFF_STRIP_BYTE_COUNTS] = entry(_TIFF_STRIP_BYTE_COUNTS, len(counts),
                                             counts[0] if one else base + 4 * len(offsets))
    directory = struct.pack(order + "H", len(changed))
    directory += b"".join(changed[tag] for tag in sorted(changed)) + b"\x00" * 4
    start = base + len(arrays)
    header = data[:4] + struct.pack(order + "I", start)
    return b"".join([header, data[8:], b"\x00" * (base - len(data)), arrays, directory])
