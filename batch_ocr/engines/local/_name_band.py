"""A name read with a copy's stamp's 效 after it, and its place read again.

Where 复印无效 lies across a name, the recogniser reads its 效 after the name and, under
its ink, a character beside it wrong (邓概效 for 邓杰, 陈鹏希效 for 陈鹏伟). The name's
place read with the print's darkest ink alone (``_bands._read_name_band``) gives the
print without the stamp's lighter ink; what it gives is taken for the name when it is
near what was read (``spoilt_beside_tail``), and given as sure only where it is read so
twice and differs from the first read only where that read was unsure itself
(``read_alike_again``): two looks at the print without the stamp agree, and the first
look doubted what they correct. Else it is a guess (flagged).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from batch_ocr.engines.local._rows import TextLine, clean

if TYPE_CHECKING:
    from batch_ocr.engines.local._ocr import LineRead

#: A name read off its band is taken for one a stamp's 效 spoilt only read at least this
#: surely (its least sure character) ...
SURE_NAME_READ = 0.9
#: ... and slipping from it by at most this many characters.
MAX_NAME_SLIPS = 2
#: It is given as sure where read so again at least this surely, and where the first
#: read's characters it corrects were each read at most this surely.
SURE_AGAIN = 0.95
DOUBTED_AT_MOST = 0.9


def spoilt_beside_tail(name: str, printed: str, least: float) -> bool:
    """Whether ``printed`` (a name read with its darkest ink, its least sure character at
    ``least``) is ``name`` as read with the stamp's 效 at its end and a character or two
    beside it spoilt by the stamp's ink."""
    from batch_ocr.engines.local._front import STAMP_TAIL
    from batch_ocr.run.present.stamps import STAMP_GLYPHS

    own = name.removesuffix(STAMP_TAIL)
    if own == name or len(own) < 2 or len(printed) != len(own) or least < SURE_NAME_READ:
        return False
    if set(printed) & STAMP_GLYPHS:
        return False
    alike = sum(a == b for a, b in zip(own, printed, strict=True))
    return alike >= 1 and len(own) - alike <= MAX_NAME_SLIPS


def read_alike_again(reads: Iterator[LineRead], printed: str, name: str,
                     lines: Sequence[TextLine]) -> bool:  # fmt: skip
    """Whether the next of ``reads`` (the band with more of its ink) gives ``printed``
    again surely, and every character of ``name`` (as first read, in ``lines``) that
    ``printed`` corrects was read unsurely there."""
    from batch_ocr.engines.local._labels import _NAME_LABEL, _cjk_only, after_label

    again = next(reads, None)
    if again is None or again.least < SURE_AGAIN:
        return False
    if _cjk_only(after_label(clean(again.text), _NAME_LABEL), keep="·").strip("·") != printed:
        return False
    corrected = {a for a, b in zip(name, printed, strict=False) if a != b}
    probabilities = [p for line in lines for ch, p in line.chars if ch in corrected]
    return bool(probabilities) and max(probabilities) <= DOUBTED_AT_MOST
