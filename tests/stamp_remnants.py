"""What is left of a copy's stamps in a field: the test side's counter of them.

A field read off a stamped copy (复印无效, 仅限…使用, 仅供…) must hold none of the
stamp's text (docs/documents.md). This checker compares a field as read with its
truth: a character of a stamp that the truth does not have at that place, or a piece
of a stamp (``无效``, ``印无``...) the truth does not hold, is a remnant. Misreads of a
stamp's characters (``节无效`` for 印无效) are caught by the pieces they leave.

Used by the accuracy harness (a "stamp remnants" count per set) and by the tests.
"""

from __future__ import annotations

import difflib

#: Characters of the stamps and watermarks copies carry.
STAMP_CHARACTERS = frozenset("复印无效仅限供使用")
#: Two-character pieces of a stamp: one of them in a field that does not truly hold it
#: is a remnant, whatever the characters around it were read as.
STAMP_PIECES = ("复印", "印无", "无效", "仅限", "仅供", "使用", "之用", "用于")


def remnants(truth: str, read: str, stamp_texts: tuple[str, ...] = ()) -> list[str]:
    """The stamp remnants in ``read`` (a field as read) against ``truth``; [] if none.

    Each remnant is a piece of ``read``: a run of characters the truth does not have
    there that holds a stamp's character (``STAMP_CHARACTERS``, and those of
    ``stamp_texts``, the stamps and watermarks the picture carries: 仅供银行开户使用
    leaves 开户 too), or a stamp's piece the truth does not hold.
    """
    characters = STAMP_CHARACTERS.union(*stamp_texts)
    found: list[str] = []
    matcher = difflib.SequenceMatcher(None, truth, read, autojunk=False)
    for tag, _, _, start, end in matcher.get_opcodes():
        extra = read[start:end]
        if tag in ("insert", "replace") and characters.intersection(extra):
            found.append(extra)
    for piece in STAMP_PIECES:
        if piece in read and piece not in truth and not any(piece in f for f in found):
            found.append(piece)
    return found


def count_remnants(pairs: list[tuple[str, str]], stamp_texts: tuple[str, ...] = ()) -> int:
    """How many (truth, read) fields carry a stamp remnant."""
    return sum(bool(remnants(truth, read, stamp_texts)) for truth, read in pairs)
