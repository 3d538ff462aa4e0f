"""Reading every card on a page: each outline cut out, straightened, read and judged.

``_layout.page_cards`` says where the cards are (by their outline, or by their print
where no outline shows); here each one is read like a card photo of its own (turned
upright by its text), and judged by what is printed on it: an ID card side shows its
labels (at least two of the front's, or one of the back's) and at least one value. A
bank card has none of the labels; a blank copy template has the labels and no value.
Both are "another kind" (``batch_ocr.run.cards``): never a row of ID fields. A card found
by its print, or whose labels were read, that gives no ID side is a side seen and not
read: the page's rows say so (``cards.SIDE_UNREAD``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

from batch_ocr.engines.local import _fields, _labels, _second_look, _spots
from batch_ocr.engines.local._parsed import Parsed
from batch_ocr.engines.local._reading import _read_card, _Reading
from batch_ocr.engines.local._result import PRINTED_ON_BLANK, _card_data, column_confidence
from batch_ocr.engines.local._rows import Row as TextRow
from batch_ocr.run.cards import CardRead
from batch_ocr.vision import layout as _layout
from batch_ocr.vision import photo as _vision

if TYPE_CHECKING:
    import numpy as np

FRONT_LABELS = ("姓名", "性别", "民族", "出生", "住址")
NUMBER_LABEL = "公民身份号码"
BACK_LABELS = ("中华人民共和国", "签发机关", "有效期限")
#: The back's title, matched exactly: one misread away it is the front's 公民身份号码.
BACK_TITLE = "居民身份"
#: Front labels (of the five short ones and the number's) an ID card front shows at least.
MIN_FRONT_LABELS = 2


def label_counts(rows: Sequence[TextRow]) -> tuple[int, int]:
    """How many of the front's and of the back's printed labels the text holds."""
    texts = [r.text for r in rows]
    joined = "".join(texts)
    front = sum(label in joined for label in FRONT_LABELS)
    front += any(_labels.find_label(t, NUMBER_LABEL) is not None for t in texts)
    back = sum(
        any(_labels.find_label(t, label) is not None for t in texts) for label in BACK_LABELS
    ) + (BACK_TITLE in joined)
    return front, back


def is_id_card(reading: _Reading) -> bool:
    """Whether the card read shows an ID card side with something filled in."""
    parsed = reading.parsed
    if parsed.side not in ("front", "back"):
        return False
    if not any(value.translate(PRINTED_ON_BLANK) for value in parsed.info.values()):
        return False  # a blank template: labels and nothing else
    front, back = label_counts(reading.rows)
    if parsed.side == "front":
        return front >= MIN_FRONT_LABELS or parsed.validity.get("number", False)
    # A back whose office and lawful period both check out is one even when its title
    # was not read (``_reading`` puts it off when the fields need it not).
    return back >= 1 or all(parsed.validity.values())


def read_cards(image: np.ndarray, cards: Sequence[_layout.FoundCard],
               warnings: Collection[str] | None) -> list[CardRead] | None:  # fmt: skip
    """What each card found on ``image`` holds, or None when none holds card text.

    None lets the caller read the picture whole: the outlines may have been wrong. A
    card found by its print, or whose ID labels were read, that gives no ID side is a
    side seen and not read (``CardRead.side_seen``): too pale or too faint to read.
    ``warnings``: the picture's image warnings (``card_of``).
    """
    reads: list[CardRead] = []
    any_text = False
    for card in cards:
        reading = _read_card(_layout.crop_card(image, card.quad), by_print=card.by_print)
        if reading.parsed.side in ("front", "back"):
            any_text = True
        if not is_id_card(reading):
            front, back = label_counts(reading.rows)
            seen = card.by_print or front >= MIN_FRONT_LABELS or back >= 1
            reads.append(dataclasses.replace(card_read(Parsed(side="none")), side_seen=seen))
            continue
        reads.append(card_of(reading, warnings))
    return reads if any_text else None


def card_of(reading: _Reading, warnings: Collection[str] | None) -> CardRead:
    """The card side read, in the provider's shape: with its portrait when it shows one,
    and its fields' confidence lowered where a glare spot or an object named in the
    picture's ``warnings`` lies on them (``_spots.placed``; None: not measured)."""
    parsed = _spots.placed(_second_look.surer(reading), warnings)
    portrait = None
    if parsed.side == "front" and reading.card_frame:
        portrait = _vision.portrait_jpeg(reading.upright)
    return card_read(parsed, portrait)


def card_read(parsed: Parsed, portrait: bytes | None = None) -> CardRead:
    """One card's answer in the provider's shape, with its fields' confidence."""
    return CardRead(_card_data(parsed), portrait, confidence=column_confidence(parsed))


def split_sides(rows: Sequence[TextRow]) -> tuple[Parsed, Parsed] | None:
    """A front and a back read as one picture, split where one side's text ends.

    The outlines come first; this is for a page whose card edges cannot be seen (a copy
    on paper as pale as the cards), read whole. Text rows run top to bottom; when they
    hold the labels of both sides, each cut between two rows is tried and the one that
    gives a front and a back with the most fields believed is kept. None when the text
    is one side's only (every photo of one card), or no cut separates the sides.
    """
    front_labels, back_labels = label_counts(rows)
    if front_labels < MIN_FRONT_LABELS or back_labels < 1:
        return None
    best: tuple[int, Parsed, Parsed] | None = None
    for cut in range(1, len(rows)):
        top, bottom = _fields.parse(rows[:cut]), _fields.parse(rows[cut:])
        if {top.side, bottom.side} != {"front", "back"}:
            continue
        front_rows, back_rows = (rows[:cut], rows[cut:]) if top.side == "front" else (
            rows[cut:], rows[:cut])  # fmt: skip
        if label_counts(front_rows)[0] < MIN_FRONT_LABELS or label_counts(back_rows)[1] < 1:
            continue
        believed = sum(top.validity.values()) + sum(bottom.validity.values())
        if best is None or believed > best[0]:
            best = (believed, top, bottom)
    return None if best is None else (best[1], best[2])
