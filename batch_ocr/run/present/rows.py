"""One output row per image (a page of a document is an image), and how an answer becomes one.

Its columns, their order and what each holds are those of ``batch_ocr.columns`` (a test
holds ``Row`` to that table).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from batch_ocr.columns import JSONL_COLUMNS, invalid_columns
from batch_ocr.provider.models import CardData
from batch_ocr.run.present.stamps import clean_info
from batch_ocr.statuses import NOT_ID_CARD, OK, SCAN_FAILED, Status

LONG_TERM = "长期"
#: ``side`` of a row holding both sides of one card read on one image.
BOTH = "both"
#: What ``side`` may hold: one side, or ``both``.
SIDES: tuple[str, ...] = ("front", "back", BOTH)


@dataclass(frozen=True, slots=True)
class Row:
    """What the table says about one image; change it with ``dataclasses.replace``."""

    file: str
    status: Status
    side: str = ""
    name: str = ""
    sex: str = ""
    nation: str = ""
    birth_date: str = ""
    address: str = ""
    id_number: str = ""
    authority: str = ""
    valid_from: str = ""
    valid_to: str = ""
    invalid_fields: list[str] = field(default_factory=list)
    order_no: str = ""
    portrait_url: str = ""
    error_code: str = ""
    error_message: str = ""
    attempts: int = 0
    sha256: str = ""
    # --- columns added after the pinned ones ---
    fitted: bool = False
    engine: str = ""
    checks: list[str] = field(default_factory=list)
    portrait_file: str = ""
    portrait_error: str = ""
    # The provider's validity object: JSONL only (CSV has invalid_fields for it).
    validity: dict[str, bool] = field(default_factory=dict)
    # --- appended after ``validity`` (so after ``portrait_error`` in CSV) ---
    #: 1-based page of a multi-page file (a PDF, a multi-page TIFF); None (an empty cell)
    #: for a file that is one image (docs/documents.md).
    page: int | None = None
    # The engine's 0-1 confidence per column: JSONL only, and empty for the API,
    # which gives none (docs/offline-engine.md).
    confidence: dict[str, float] = field(default_factory=dict)
    #: What the picture shows beyond its text (``image_warnings.WARNINGS``, then
    #: ``cards.SIDE_UNREAD``), for every engine; computed at recognition and journaled
    #: with the row.
    warnings: list[str] = field(default_factory=list)
    #: Whether a person should look at the row, and why (``review.py``); computed as
    #: rows are written, like ``checks``.
    needs_review: bool = False
    review_reasons: list[str] = field(default_factory=list)
    #: The card's number on its image (1-based, reading order) when the image held
    #: several cards that are not one front and one back; None (an empty cell) otherwise
    #: (docs/documents.md).
    card: int | None = None
    #: Why the offline reading of this card was not vouched for and the API read it
    #: instead (``--engine hybrid``: the offline reading's review reasons); empty for
    #: every other row.
    escalated_for: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A shallow dict in column order (JSONL shape); lists and dicts are shared.

        Not ``dataclasses.asdict``: its deep copy was a third of the CPU of a no-op
        rerun over 20,000 rows (tests/benchmarks), and writers only read the record.
        """
        return dict(zip(JSONL_COLUMNS, _field_values(self), strict=True))


_field_values = operator.attrgetter(*JSONL_COLUMNS)


def _ymd(year: str | None, month: str | None, day: str | None) -> str:
    """``1990``/``10``/``9`` -> ``1990-10-09``; anything unparsable is kept as printed."""
    parts = [p.strip() for p in (year or "", month or "", day or "")]
    if not any(parts):
        return ""
    if all(p.isdigit() for p in parts) and len(parts[0]) == 4:
        return f"{parts[0]}-{int(parts[1]):02d}-{int(parts[2]):02d}"
    return "-".join(parts)


_COMPACT_DATE = re.compile(r"^\s*(\d{4})\D?(\d{1,2})\D?(\d{1,2})\s*$")


def _date(text: str) -> str:
    """``20180727`` or ``2018.07.27`` -> ``2018-07-27``; ``长期`` stays; other text is kept."""
    text = text.strip()
    if LONG_TERM in text:
        return LONG_TERM
    match = _COMPACT_DATE.match(text)
    if match:
        year, month, day = match.groups()
        return f"{year}-{int(month):02d}-{int(day):02d}"
    return text


def split_timelimit(timelimit: str | None) -> tuple[str, str]:
    """``20180727-20380727`` -> (``2018-07-27``, ``2038-07-27``); ``...-长期`` keeps 长期."""
    if not timelimit:
        return "", ""
    start, sep, end = timelimit.partition("-")
    if not sep:
        return _date(start), ""
    return _date(start), _date(end)


def classify(data: CardData) -> Status:
    """The row status of a successful call (``API_CONTRACT.md``, "Response")."""
    if data.result == 1:
        return SCAN_FAILED
    if not data.validity or not any(data.validity.values()):
        return NOT_ID_CARD
    return OK


def row_from_card(
    file: str, data: CardData, *, attempts: int, sha256: str, fitted: bool = False,
    engine: str = "", confidence: Mapping[str, float] | None = None,
    card: int | None = None, page: int | None = None,
) -> Row:
    """Build the row of a successful recognition (``card``: its number on the image,
    ``page``: its page in a document)."""
    # Stamps and watermarks never reach a field, whichever engine read the card: the
    # API reads stamped copies too (docs/documents.md).
    info = clean_info(data.info)
    valid_from, valid_to = split_timelimit(info.timelimit)
    status = classify(data)
    # No ID card, so no field of one to call invalid: the provider's all-false flags and
    # the offline engine's own would otherwise make two engines' rows of one page differ.
    validity = dict(data.validity) if status != NOT_ID_CARD else {}
    return Row(
        file=file,
        status=status,
        side=data.side if data.side in SIDES and status != NOT_ID_CARD else "",
        name=info.name or "",
        sex=info.sex or "",
        nation=info.nation or "",
        birth_date=_ymd(info.year, info.month, info.day),
        address=info.address or "",
        id_number=info.number or "",
        authority=info.authority or "",
        valid_from=valid_from,
        valid_to=valid_to,
        invalid_fields=invalid_columns(k for k, ok in validity.items() if not ok),
        order_no=data.order_no or "",
        portrait_url=data.image_url or "",
        attempts=attempts,
        sha256=sha256,
        fitted=fitted,
        engine=engine,
        validity=validity,
        confidence=dict(confidence or {}) if status == OK else {},
        card=card,
        page=page,
    )
