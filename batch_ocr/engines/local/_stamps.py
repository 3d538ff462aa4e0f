"""Stamps and watermarks that copies carry over the card's text, removed line by line.

A 身份证复印件 is stamped 复印无效 ("invalid if copied") or watermarked 仅限…使用 /
仅供…使用 ("for … only"), often right across a field: the recogniser then reads
``蒙古印无效`` as a nation or ``…村复印无效`` as the end of an address. None of these words
is ever part of a field, so they are cut out of each recognised line before the
fields are parsed; a line that was only a stamp disappears.

The recogniser often loses or misreads one character of a stamp under the printed text,
so 复印无效 is also matched with one of its four characters missing or wrong, but a
partial match never takes a character that is not the stamp's own (``蒙古印无效`` loses
``印无效``, not ``古``).
"""

from __future__ import annotations

import re

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff"
#: 复印无效 and 再复印无效, whole or with one character lost or misread.
_COPY_INVALID = re.compile(
    r"(?:再次?)?(?:复印无效|复.无效|复印.效|复印无.|复印无|印无效)"
)
#: 仅限…使用, 仅供…使用 / 之用 / 用, 仅用于… (a purpose of up to 16 characters), also cut short at
#: a line's end ("仅限BDCI比" when the rest ran off the card), and 此复印件 before them.
_FOR_USE_ONLY = re.compile(
    rf"(?:此?复印件)?仅(?:限|供|用于)[{_CJK}A-Za-z0-9（）()·、]{{0,16}}?(?:使用|之用|用途|用|$)"
)
#: What is left of a line once its stamps are cut: only punctuation is no text.
_ONLY_PUNCTUATION = re.compile(r"^[\s\W_]*$")


def strip_stamps(text: str) -> str:
    """``text`` without the stamps and watermarks copies carry; may be empty."""
    cleaned = _FOR_USE_ONLY.sub("", text)
    cleaned = _COPY_INVALID.sub("", cleaned)
    if cleaned != text and _ONLY_PUNCTUATION.match(cleaned):
        return ""
    return cleaned


def is_stamp(text: str) -> bool:
    """Whether the whole line is a stamp or watermark."""
    return bool(text.strip()) and not strip_stamps(text).strip()
