"""What the offline engine answers for one image, and the error it raises."""

from __future__ import annotations

from dataclasses import dataclass, field

from batch_ocr.columns import columns_of
from batch_ocr.engines.local._parsed import FRONT_VALIDITY_KEYS, Parsed
from batch_ocr.errors import FileError
from batch_ocr.provider.models import CardData, CardInfo
from batch_ocr.run.cards import CardRead
from batch_ocr.run.present.stamps import clean_info

#: Printed on every front, filled in or blank (the birth row's 年 月 日).
PRINTED_ON_BLANK = str.maketrans("", "", "年月日")


class LocalEngineError(FileError):
    """The offline engine could not process this file (it becomes an ``error`` row)."""


@dataclass(frozen=True)
class LocalRecognition:
    """What the offline engine read: the provider-shaped ``data``, the portrait, and
    the recogniser's 0-1 confidence per output column (empty when no card was read)."""

    data: CardData
    portrait_jpeg: bytes | None
    confidence: dict[str, float] = field(default_factory=dict)
    #: ``image_warnings.detect`` on the decoded picture and the outline found in it.
    warnings: tuple[str, ...] | None = None
    #: One entry per row when the image held several ID card sides that are not one
    #: front and one back (``batch_ocr.run.cards``); ``data`` is then the first's.
    cards: tuple[CardRead, ...] = ()
    #: Each card the layout's finder cut out of a page of several, as read, in reading
    #: order (``EngineResult.found``); empty for an image read whole.
    found: tuple[CardRead, ...] = ()


def column_confidence(parsed: Parsed) -> dict[str, float]:
    """``Parsed.confidence`` keyed by the output columns (``birth_date``, ``id_number``)."""
    if parsed.side == "none":
        return {}
    return {
        column: score
        for key, score in parsed.confidence.items()
        for column in columns_of(key)
    }


def _card_data(parsed: Parsed) -> CardData:
    if parsed.side == "none":
        return CardData(
            result=0,
            side="front",
            info=CardInfo(
                **dict.fromkeys(
                    ("name", "sex", "nation", "year", "month", "day", "address", "number"), ""
                )
            ),  # fmt: skip
            validity=dict.fromkeys(FRONT_VALIDITY_KEYS, False),
            image_url=None,
        )
    # result 1 ("scan failed"): we saw a card but could read nothing believable off it.
    result = 0 if any(parsed.validity.values()) else 1
    info = dict(parsed.info)
    address = info.get("address")
    if address and not address.translate(PRINTED_ON_BLANK).strip():
        # The birth row's printed 年 月 日 read beside 住址 on a card with nothing
        # filled in (a blank copy template): a label, never an address.
        info["address"] = ""
    return CardData(
        result=result,
        side=parsed.side,
        info=clean_info(CardInfo(**info)),
        validity=dict(parsed.validity),
        image_url=None,
    )
