"""Several cards on one image: which become rows, and when a front and a back are one.

Pure logic over what an engine read from each card found on an image
(docs/documents.md), shared by the offline engine and the API engine so both give the same
rows:

- a card of another kind (a bank card, a blank copy template: not an ID card side)
  never becomes a row of ID fields; when nothing else is on the image, the image gets
  one ``not_id_card`` row;
- one ID card side alone is the image's row, as for a photo of one card;
- exactly one front and one back (the usual 身份证复印件) are one card: one row with side
  ``both`` and the fields of both sides;
- anything more (two people, four sides, two fronts) is never guessed: each card side
  gets its own row, numbered 1, 2, ... in reading order in the ``card`` column;
- a card the engine saw as an ID side (its print where no outline showed: a side
  copied as pale as the paper; or its printed labels) that reads as no ID side is a
  side seen and not read, not another kind: every ID row of the image carries the
  warning ``side_unread``, so it never passes for the whole card (docs/documents.md);
- when a card could not be read (its call failed), nothing is merged or guessed: each
  card is numbered by its place among every card found, the cards read keep their rows,
  and the failed one gets an ``error`` row (``partly_read``); the next run reads only it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from batch_ocr.errors import FileError
from batch_ocr.provider.models import CardData, CardInfo
from batch_ocr.run.present.rows import BOTH, classify
from batch_ocr.statuses import NOT_ID_CARD

#: The info fields each side prints (the provider's names).
FRONT_INFO = ("name", "sex", "nation", "year", "month", "day", "address", "number")
BACK_INFO = ("authority", "timelimit")
#: Joins the two order numbers of a card read in two calls.
ORDER_NO_SEPARATOR = ";"
#: The warning on the rows of an image on which a card side was seen but not read.
SIDE_UNREAD = "side_unread"


@dataclass(frozen=True, slots=True)
class CardRead:
    """What an engine read from one card found on an image.

    ``card`` is its number in the ``card`` column (1-based, reading order), or None when
    the image is one card, or one front and one back merged into one row.
    """

    data: CardData
    portrait_bytes: bytes | None = None
    card: int | None = None
    #: The engine's own 0-1 confidence per output column (local engine; empty for the API).
    confidence: Mapping[str, float] = field(default_factory=dict)
    #: The engine saw an ID card side here (its print where no outline showed, or its
    #: printed labels): when it reads as no ID side, a side was seen and not read
    #: (``SIDE_UNREAD``), not a card of another kind.
    side_seen: bool = False
    #: Warnings for the row beside the image's own (``SIDE_UNREAD``).
    warnings: tuple[str, ...] = ()
    #: The engine that read it, when an engine of several did (hybrid: ``local`` or
    #: ``api``); empty: the engine the run was handed.
    engine: str = ""
    #: Why the offline reading was not vouched for and the API read the card instead
    #: (review reasons of the offline reading; ``escalated_for``).
    escalated_for: tuple[str, ...] = ()
    #: Columns on which two engines' readings of the card disagree (``disagree:<column>``).
    disagree: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CardFailure:
    """A card found on an image whose reading failed: an ``error`` row numbered ``card``."""

    card: int
    error: FileError


def is_id_side(data: CardData) -> bool:
    """Whether ``data`` is a side of an ID card (recognised or not), not another thing."""
    return data.side in ("front", "back") and classify(data) != NOT_ID_CARD


def merge_sides(front: CardData, back: CardData) -> CardData:
    """One card from its front and its back: every field of both, side ``both``.

    The row is ``scan_failed`` only when neither side could be read; a side that failed
    shows in ``invalid_fields`` (its validity flags are false) and in ``checks``.
    """
    info = {name: getattr(front.info, name) for name in FRONT_INFO}
    info.update({name: getattr(back.info, name) for name in BACK_INFO})
    orders = [o for o in (front.order_no, back.order_no) if o]
    return CardData(
        order_no=ORDER_NO_SEPARATOR.join(orders) or None,
        result=1 if front.result == 1 and back.result == 1 else 0,
        side=BOTH,
        info=CardInfo(**info),
        validity={**front.validity, **back.validity},
        image_url=front.image_url,
    )


def front_side(data: CardData) -> CardData:
    """The front alone of a ``both`` card: what the provider answers for a page it is sent
    whole, since it reads one side per call (the emulator answers so)."""
    if data.side != BOTH:
        return data
    back_keys = set(BACK_INFO)
    return CardData(
        order_no=data.order_no,
        result=data.result,
        side="front",
        info=CardInfo(**{name: getattr(data.info, name) for name in FRONT_INFO}),
        validity={k: v for k, v in data.validity.items() if k not in back_keys},
        image_url=data.image_url,
    )


def _not_a_card(reads: Sequence[CardRead]) -> CardRead:
    """The one row of an image that holds no ID card side: the first card's answer."""
    if reads:
        first = reads[0]
        validity = dict.fromkeys(first.data.validity or ("name",), False)
        return CardRead(first.data.model_copy(update={"validity": validity}))
    return CardRead(CardData(result=0, side="front", info=CardInfo(), validity={"name": False}))


def _unread(reads: Sequence[CardRead]) -> tuple[str, ...]:
    """``(SIDE_UNREAD,)`` when a side seen read as no ID side, else empty."""
    return (SIDE_UNREAD,) if any(r.side_seen and not is_id_side(r.data) for r in reads) else ()


def _read_by(row: CardRead, *sides: CardRead) -> CardRead:
    """``row`` saying who read its ``sides`` and why: the engine of a side escalated to
    it when there is one (a front escalated beside a back read offline), else the
    first side's; each reason and disagreement once."""
    if not any(side.engine for side in sides):
        return row
    escalated = [side.engine for side in sides if side.escalated_for]
    return dataclasses.replace(
        row, engine=(escalated or [sides[0].engine])[0],
        escalated_for=tuple(dict.fromkeys(r for side in sides for r in side.escalated_for)),
        disagree=tuple(dict.fromkeys(c for side in sides for c in side.disagree)))


def assemble(reads: Sequence[CardRead]) -> list[CardRead]:
    """The rows of an image from the cards read on it, in reading order (see above)."""
    sides = [r for r in reads if is_id_side(r.data)]
    if not sides:
        # Its status says already that nothing was read.
        return [_read_by(_not_a_card(reads), *reads[:1])]
    warnings = _unread(reads)
    if len(sides) == 1:
        return [_read_by(CardRead(sides[0].data, sides[0].portrait_bytes,
                                  confidence=sides[0].confidence, warnings=warnings), sides[0])]
    if len(sides) == 2 and {s.data.side for s in sides} == {"front", "back"}:
        front, back = sorted(sides, key=lambda s: s.data.side != "front")
        return [_read_by(CardRead(merge_sides(front.data, back.data), front.portrait_bytes,
                                  confidence={**front.confidence, **back.confidence},
                                  warnings=warnings), front, back)]
    return [_read_by(CardRead(s.data, s.portrait_bytes, card=n, confidence=s.confidence,
                              warnings=warnings), s)
            for n, s in enumerate(sides, start=1)]  # fmt: skip


def partly_read(found: Sequence[CardRead | CardFailure]) -> list[CardRead | CardFailure]:
    """The rows of an image on which some card failed, ``found`` in reading order.

    Every card is numbered by its place among all those found in reading order (a
    failed one may have been either side, or another kind), so an error row's number
    says which card of the page to look at; cards of another kind add no row. Once
    every card is read, ``assemble`` numbers the rows as usual.
    """
    rows: list[CardRead | CardFailure] = []
    warnings = _unread([card for card in found if isinstance(card, CardRead)])
    for number, card in enumerate(found, start=1):
        if isinstance(card, CardFailure):
            rows.append(CardFailure(number, card.error))
        elif is_id_side(card.data):
            rows.append(_read_by(CardRead(card.data, card.portrait_bytes, card=number,
                                          confidence=card.confidence, warnings=warnings),
                                 card))
    return rows
