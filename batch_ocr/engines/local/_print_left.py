"""The text lines beside a card that its blocks of print did not hold.

``_second_side.beside_the_card`` reads each block of print beside the card it read
(``text_cards.print_blocks``); when none gives a side, the text lines of the rest of the
photo are detected and read group by group (a card in shadow on a busy desk, whose
print the block search joined into the desk's). That detection saw the whole photo at
``PHOTO_DET_LONG_SIDE_PX``, 0.15-0.25 s on one thread, on a third of the harness's phone
photos. Here it sees the same pixels at the same scale, less what was read already:
the blocks are painted over as the card was, and only the part of the photo that still
holds print is detected (none at all when no print is left: the blocks held it all).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


def lines_left(rest: np.ndarray, blocks: Sequence[tuple[int, int, int, int]],
               desk: Sequence[int], holds_print: Callable[[np.ndarray], bool],
               long_side_px: int) -> list[np.ndarray]:  # fmt: skip
    """Text lines (4x2, ``rest``'s pixels) of ``rest`` (the photo with the card read
    painted over in the ``desk``'s colour) outside ``blocks`` (left, top, right, bottom;
    read already), detected as ``_ocr.detect`` at ``long_side_px`` detects them, within
    the part that holds print (``_ocr._inked_part``, at the detector's scale); none
    when ``holds_print`` (the caller's cheap look for print) sees none once the blocks
    are painted over."""
    import numpy as np

    from batch_ocr.engines.local import _ocr

    left_over = rest
    if blocks:
        left_over = rest.copy()
        for x0, y0, x1, y1 in blocks:
            left_over[y0:y1, x0:x1] = desk
        if not holds_print(left_over):
            return []  # every stroke beside the card lay in a block read already
    scale = min(1.0, long_side_px / max(rest.shape[:2]))
    # The part's margin is the detector's (``_ocr.INK_MARGIN_PX`` at its scale), as a
    # page's inked part has.
    grow = max(0, round(_ocr.INK_MARGIN_PX / scale) - _ocr.INK_MARGIN_PX)
    x0, y0, x1, y1 = _ocr._inked_part(left_over)
    x0, y0 = max(0, x0 - grow), max(0, y0 - grow)
    part = left_over[y0 : y1 + grow, x0 : x1 + grow]
    offset = np.array([x0, y0], np.float32)
    det_side = max(1, round(max(part.shape[:2]) * scale))
    return [box + offset for box in _ocr.detect(part, long_side_px=det_side)]
