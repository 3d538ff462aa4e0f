"""Whether an offline reading can be vouched for, and where two readings disagree.

Pure functions over what the engines read, so the hybrid engine's choice of what to pay
for is the review signal's own (docs/hybrid.md): a card is escalated exactly when the row
its offline reading makes would need review for a reason about the reading
(``review.review_reasons``: a missing or invalid field, a failing cross-check, a low
confidence, an image warning that can take text off a field, a side seen and not read).
What the document is (a copy, an expired card) is no doubt about the reading and costs
nothing. The reasons are those of ``review.py``, never a second list of them.

Where the API answered, the offline reading is a second opinion: every field the offline
engine read that the API read otherwise is named (``disagree:<column>``).
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Sequence

from batch_ocr.columns import CARD_FIELDS, SIDE_FIELDS
from batch_ocr.provider.models import CardData
from batch_ocr.run.cards import SIDE_UNREAD, CardRead, is_id_side
from batch_ocr.run.present.checks import check_row
from batch_ocr.run.present.review import placed_mark, review_reasons
from batch_ocr.run.present.rows import BOTH, Row, row_from_card

#: The review reason of a reading the offline engine failed outright (its ``error`` row).
OFFLINE_FAILED = "status:error"


def _row(data: CardData, *, confidence: dict[str, float] | None = None) -> Row:
    return row_from_card("", data, attempts=0, sha256="", confidence=confidence)


def row_doubts(read: CardRead, page_warnings: Sequence[str], *,
               as_of: datetime.date) -> tuple[str, ...]:
    """Why the row ``read`` makes cannot be vouched for (its review reasons, as the run
    would show them on ``as_of`` with the picture's ``page_warnings``); empty when it can.

    A picture the offline engine read as no ID card, or could not read, is doubted too
    (``status:not_id_card``, ``status:scan_failed``): the API may see the card it missed.
    """
    row = _row(read.data, confidence=dict(read.confidence))
    warnings = [*page_warnings, *read.warnings]
    row = dataclasses.replace(row, warnings=warnings,
                              review_reasons=placed_mark(warnings, read.confidence))
    return tuple(review_reasons(row, checks=check_row(row, as_of=as_of)))


def card_doubts(read: CardRead, page_warnings: Sequence[str], *,
                as_of: datetime.date) -> tuple[str, ...]:
    """Why one card found on a page of several cannot be vouched for.

    A card of another kind (a bank card beside the ID card) is never paid for; a card
    the engine saw as an ID side and could not read is (``warning:side_unread``), and
    so is an ID side whose own row would need review.
    """
    if not is_id_side(read.data):
        return (f"warning:{SIDE_UNREAD}",) if read.side_seen else ()
    return row_doubts(read, page_warnings, as_of=as_of)


def _text(value: str) -> str:
    """A field's value for comparing: line breaks and spaces do not count."""
    return "".join(value.split())


def disagreements(offline: CardData, paid: CardData) -> tuple[str, ...]:
    """The columns on which the offline reading of a card and the API's answer differ.

    Only what the offline engine read counts: a field it left empty, or a card it did
    not see as an ID side, is no opinion. Different sides are one disagreement,
    ``side``: the fields of a front and a back are not compared. A page's front and back
    read as one row (``both``, as a copy page mostly is) are compared field by field.
    """
    if not (is_id_side(offline) or offline.side == BOTH):
        return ()
    mine, theirs = _row(offline), _row(paid)
    if mine.side != theirs.side:
        return ("side",)
    fields = CARD_FIELDS if mine.side == BOTH else SIDE_FIELDS.get(mine.side, ())
    return tuple(column for column in fields
                 if _text(getattr(mine, column))
                 and _text(getattr(mine, column)) != _text(getattr(theirs, column)))


def row_disagreements(offline: Sequence[CardRead], paid: Sequence[CardRead]
                      ) -> list[tuple[str, ...]]:
    """For each of the API's rows of a picture, where the offline rows say otherwise.

    Rows are matched in order when both engines made as many rows (both number the
    cards of a page in reading order); otherwise no row is known to be the same card and
    nothing is said (the API's rows stand as they are).
    """
    if len(offline) != len(paid):
        return [() for _ in paid]
    return [disagreements(mine.data, theirs.data)
            for mine, theirs in zip(offline, paid, strict=True)]
