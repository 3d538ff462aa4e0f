"""The review signal: whether a row needs a person to look at it, and why.

A row that needs nothing is one a back office can accept without looking
(docs/warnings-and-review.md). Reasons are short, stable codes, in this order:

==========================  =========================================================
``status:<status>``         the row is not ``ok`` (an error, a refusal, a failed scan,
                            not an ID card): there is no card to accept
``missing:<column>``        a field printed on that side came out empty
``invalid:<column>``        the engine or the provider marked the field invalid
``check:<check>``           a check of ``checks.py`` failed (``expired`` included)
``warning:<warning>``       an image warning (``image_warnings/``)
``low_confidence:<column>`` the engine's confidence in the field is under
                            ``LOW_CONFIDENCE_BELOW``
``disagree:<column>``       two engines read the field differently (the API's answer
                            and the offline engine's reading: hybrid, ``--verify``)
``pair:<pair_status>``      ``--pair`` only: the card is not ``complete``
                            (``front_only``, ``back_only``, ``ambiguous``)
==========================  =========================================================

Computed as rows are written (``runner.Runner.present``), after the checks, so it
follows the run date as ``expired`` does. ``disagree:<column>`` alone is found when the
card is read, the only time both readings exist, and kept with the row's reasons.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence

from batch_ocr.columns import SIDE_FIELDS, columns_of
from batch_ocr.run.present.rows import Row
from batch_ocr.statuses import COMPLETE, OK

#: A field whose confidence (0-1) is under this is a reason to review. The offline
#: engine's recognition scores sit at 0.95-1.0 on clean text; misreads fall below.
LOW_CONFIDENCE_BELOW = 0.85
#: The reason a field two engines read differently gives, before the column's name.
DISAGREE = "disagree:"


def _unique(codes: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(codes))


def review_reasons(row: Row, *, checks: Sequence[str] | None = None,
                   confidence: Mapping[str, float] | None = None) -> list[str]:
    """The reasons ``row`` needs review, in the module docstring's order; empty if none.

    ``checks`` are the failed checks as of the run date (by default ``row.checks``,
    which must then hold them). ``confidence`` maps
    a field (a column, or the provider's key for it) to the engine's 0-1 confidence;
    by default the row's own ``confidence`` column (empty for the API: nothing is then
    low). The row's own ``disagree:`` reasons, found when it was read, are kept.
    """
    if confidence is None:
        confidence = row.confidence
    reasons: list[str] = []
    if row.status != OK:
        reasons.append(f"status:{row.status}")
    else:
        missing = [c for c in SIDE_FIELDS.get(row.side, ()) if not str(getattr(row, c)).strip()]
        reasons += [f"missing:{column}" for column in missing]
        invalid = [c for key in row.invalid_fields for c in columns_of(key) if c not in missing]
        reasons += [f"invalid:{column}" for column in invalid]
        reasons += [f"check:{check}" for check in (row.checks if checks is None else checks)]
    reasons += [f"warning:{warning}" for warning in row.warnings]
    low = [
        column
        for key, score in confidence.items()
        if isinstance(score, int | float) and score < LOW_CONFIDENCE_BELOW
        for column in columns_of(key)
    ]
    reasons += [f"low_confidence:{column}" for column in low]
    reasons += [reason for reason in row.review_reasons if reason.startswith(DISAGREE)]
    return _unique(reasons)


def with_review(row: Row, *, checks: Sequence[str] | None = None,
                confidence: Mapping[str, float] | None = None) -> Row:
    """A copy of ``row`` with ``needs_review`` and ``review_reasons`` filled in, and
    ``checks`` when given (one copy: rows are copied on their way to every output)."""
    reasons = review_reasons(row, checks=checks, confidence=confidence)
    changes: dict[str, object] = {"needs_review": bool(reasons), "review_reasons": reasons}
    if checks is not None:
        changes["checks"] = list(checks)
    return dataclasses.replace(row, **changes)  # type: ignore[arg-type]


def card_reasons(members: Iterable[Row], pair_status: str) -> list[str]:
    """The reasons of a ``--pair`` card: its images' reasons, then an incomplete pair.

    ``members`` are rows already through ``with_review``.
    """
    reasons = [reason for row in members for reason in row.review_reasons]
    if pair_status != COMPLETE:
        reasons.append(f"pair:{pair_status}")
    return _unique(reasons)


def card_warnings(members: Iterable[Row]) -> list[str]:
    """The warnings of a card's images, each once, in order."""
    return _unique(warning for row in members for warning in row.warnings)


__all__ = [
    "DISAGREE",
    "LOW_CONFIDENCE_BELOW",
    "card_reasons",
    "card_warnings",
    "review_reasons",
    "with_review",
]
