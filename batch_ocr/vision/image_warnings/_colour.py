"""Photocopy and reshoot: how much colour the card has, and screen moiré in it.

``chroma_p90`` decides ``copy``, ``moire_peak`` decides ``reshoot``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

#: The moiré search: bands fainter than this (a*b* units) are not seen; the channels
#: it looks in.
MOIRE_MIN_AMPLITUDE = 0.5
MOIRE_CHANNELS = (1, 2)  # a* and b*: text and guilloche fill the L channel


def chroma_p90(region: np.ndarray) -> float:
    """90th percentile of how far each pixel's colour is from the region's typical one.

    Measured in the CIELAB a*b* plane, from the median a*b*, so a colour cast of the
    light or the scanner (a grey copy photographed under warm light) does not count as
    colour. A colour card's tints, blue labels, red emblem and portrait keep it well
    above a grey copy's; the 90th percentile ignores a red stamp put on the copy later.
    """
    import cv2
    import numpy as np

    # Every third pixel each way: a percentile needs no more, and it is 9x cheaper.
    sample = np.ascontiguousarray(region[::3, ::3])
    lab = cv2.cvtColor(sample.astype(np.float32) / 255.0, cv2.COLOR_BGR2LAB)
    chroma = lab[:, :, 1:].reshape(-1, 2)
    spread = np.linalg.norm(chroma - np.median(chroma, axis=0), axis=1)
    return float(np.percentile(spread, 90))


def moire_peak(region: np.ndarray) -> float:
    """How far the strongest periodic component of the colour stands out (screen moiré).

    A screen photographed by a camera shows the beat of its pixel grid against the
    sensor's as regular bands with colour fringes: sharp, isolated peaks in the 2-D
    spectrum of the chroma channels. Printed cards, text, guilloche and edges spread
    their energy over many frequencies. Returns the share of the band's energy (periods
    of 2.5 to 16 px, on a patch of the picture at its own resolution) held by the
    strongest peak and its neighbours, as a percentage; 0 when the colour does not
    vary enough for bands to be seen.
    """

    height, width = region.shape[:2]
    size = min(128, 1 << (min(height // 2, width // 2).bit_length() - 1))
    if size < 32:
        return 0.0
    # Four patches around the centre: moiré covers the whole screen, while a stamp or
    # an edge that happens to look periodic is in one of them at most.
    cy, cx = height // 2, width // 2
    scores = sorted(
        _moire_share(region[y : y + size, x : x + size], size)
        for y in (cy - size, cy)
        for x in (cx - size, cx)
    )
    return (scores[1] + scores[2]) / 2


def _moire_share(patch_bgr: np.ndarray, size: int) -> float:
    import cv2
    import numpy as np

    patch = patch_bgr.astype(np.float32) / 255.0
    lab = cv2.cvtColor(patch, cv2.COLOR_BGR2LAB)
    window = np.outer(np.hanning(size), np.hanning(size)).astype(np.float32)
    freq_y = np.fft.fftfreq(size)[:, None]
    freq_x = np.fft.fftfreq(size)[None, :]
    radius = np.hypot(freq_y, freq_x)
    band = (radius >= 1 / 16) & (radius <= 1 / 2.5)
    best = 0.0
    for channel in MOIRE_CHANNELS:
        values = lab[:, :, channel]
        values = values - cv2.GaussianBlur(values, (0, 0), 6)
        power = np.abs(np.fft.fft2(values * window)) ** 2 * band
        total = float(power.sum())
        # Bands too faint to see (under ~1 a*b* unit) are no moiré, whatever their shape.
        if total <= 0 or np.sqrt(total) / window.sum() < MOIRE_MIN_AMPLITUDE:
            continue
        peak_y, peak_x = np.unravel_index(int(np.argmax(power)), power.shape)
        # The peak and its mirror image (a real signal's spectrum is symmetric), each
        # with the neighbours the window spreads it over.
        peak = 0.0
        for y, x in ((peak_y, peak_x), (-peak_y % size, -peak_x % size)):
            rows = [(y + dy) % size for dy in (-1, 0, 1)]
            cols = [(x + dx) % size for dx in (-1, 0, 1)]
            peak += float(power[np.ix_(rows, cols)].sum())
        best = max(best, 100.0 * min(1.0, peak / total))
    return best

