"""The review signal: whether a person must check a row's reading, and why.

``needs_review`` answers one question: may this row's reading be wrong? A row that
needs nothing is one a back office can accept without looking
(docs/warnings-and-review.md): every field printed on its side was read, each passes
its own rule and the checks across fields, and the engine is sure of it. What the
document *is* (a copy, a photo of a screen, an expired card) is no doubt about the
reading: it stays on every row in ``warnings`` and ``checks`` and flags the row only
when the office asks for it (``review_on``, ``DOCUMENT_RISKS``). Reasons are short,
stable codes, in this order:

==========================  =========================================================
``status:<status>``         the row is not ``ok`` (an error, a refusal, a failed scan,
                            not an ID card): there is no card to accept
``missing:<column>``        a field printed on that side came out empty
``invalid:<column>``        the engine or the provider marked the field invalid
``check:<check>``           a check of ``checks.py`` failed (``expired`` only when asked)
``warning:<warning>``       an image warning (a document risk only when asked)
``low_confidence:<column>`` the engine's confidence in the field is under
                            ``LOW_CONFIDENCE_BELOW``
``disagree:<column>``       two engines read the field differently (the API's answer
                            and the offline engine's reading: hybrid, ``--verify``)
``pair:<pair_status>``      ``--pair`` only: the card is not ``complete``
                            (``front_only``, ``back_only``, ``ambiguous``)
==========================  =========================================================

Computed as rows are written (``runner.Runner.present``), after the checks, so it
follows the run date as ``expired`` does, and the office's ``review_on`` of each run.
``disagree:<column>`` alone is found when the card is read, the only time both readings
exist, and kept with the row's reasons.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable, Mapping, Sequence

from batch_ocr.columns import CARD_FIELDS, SIDE_FIELDS, columns_of
from batch_ocr.run.present.rows import BOTH, Row
from batch_ocr.statuses import COMPLETE, OK

#: A field whose confidence (0-1) is under this is a reason to review. The offline
#: engine's confidence is calibrated so that at least 99.5% of the fields at 0.95 or
#: more are right (docs/warnings-and-review.md, measured on the accuracy harness's sets).
LOW_CONFIDENCE_BELOW = 0.95
#: The reason a field two engines read differently gives, before the column's name.
DISAGREE = "disagree:"

#: What a document is or how it was captured, not how it was read: kept in
#: ``warnings`` (``copy``, ``reshoot``, ``blur``, ``border_incomplete``) and ``checks``
#: (``expired``) on every row, a reason to review only when ``review_on`` names it. Every
#: other warning can take text off a field without the reading showing it (a glare spot
#: or a finger over the middle of a field, a side seen and not read) and flags the row
#: (a glare spot or an object, through the fields it lies on where the engine placed it:
#: ``PLACED_RISKS``); a blurred field the recogniser was unsure of is flagged by its confidence
#: already, and a card's edge cut off shows in the reading: the fields run out to the
#: card's edges behind their labels, so what an edge takes is a label first, then a
#: field's start (missing), or an end the field's rule needs (the number's check
#: character, the office's 分局, the period's end date).
DOCUMENT_RISKS: tuple[str, ...] = ("copy", "reshoot", "blur", "border_incomplete", "expired")
#: Warnings whose cause lies somewhere on the card: a glare spot (``glare``) or an object
#: (``occluded``) takes text off the fields it lies on, and nothing off the portrait, the
#: emblem or an empty margin. An engine that gives a confidence per field (the offline
#: one) places them on the card's layout and lowers the confidence of each field they
#: lie on (under ``LOW_CONFIDENCE_BELOW``), so its row is flagged for those fields
#: (``low_confidence:<column>``) or not at all; a row without confidence (the API's) is
#: flagged by the warning itself, wherever the spot lies.
PLACED_RISKS: tuple[str, ...] = ("glare", "occluded")
#: Kept in the ``review_reasons`` a row is recorded with when its engine placed the
#: picture's ``PLACED_RISKS`` on the card's fields (``placed_mark``); never shown, since
#: the reasons are computed again on the way out. A row an earlier version recorded
#: lacks it (its glare was placed nowhere), so its warning still flags it on a rerun.
PLACED = "placed:spots"


def placed_mark(warnings: Iterable[str], confidence: Mapping[str, float]) -> list[str]:
    """``[PLACED]`` for a row read with a confidence per field (the offline engine's,
    which lowers the fields a glare spot or an object lies on) whose picture has one."""
    return [PLACED] if confidence and any(w in PLACED_RISKS for w in warnings) else []

#: The fields printed on each side, as columns, and on a row of both sides.
_ROW_FIELDS: Mapping[str, tuple[str, ...]] = {**SIDE_FIELDS, BOTH: CARD_FIELDS}


def _unique(codes: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(codes))


def _flags(risk: str, review_on: Collection[str]) -> bool:
    """Whether a failed check or a warning flags the row: a document risk only when asked."""
    return risk not in DOCUMENT_RISKS or risk in review_on


def review_reasons(row: Row, *, checks: Sequence[str] | None = None,
                   confidence: Mapping[str, float] | None = None,
                   review_on: Collection[str] = ()) -> list[str]:
    """The reasons ``row`` needs review, in the module docstring's order; empty if none.

    ``checks`` are the failed checks as of the run date (by default ``row.checks``,
    which must then hold them). ``confidence`` maps
    a field (a column, or the provider's key for it) to the engine's 0-1 confidence;
    by default the row's own ``confidence`` column (empty for the API: nothing is then
    low). ``review_on`` names the ``DOCUMENT_RISKS`` that flag the row too.
    The row's own ``disagree:`` reasons, found when it was read, are kept.
    """
    if confidence is None:
        confidence = row.confidence
    reasons: list[str] = []
    if row.status != OK:
        reasons.append(f"status:{row.status}")
    else:
        missing = [c for c in _ROW_FIELDS.get(row.side, ()) if not str(getattr(row, c)).strip()]
        reasons += [f"missing:{column}" for column in missing]
        invalid = [c for key in row.invalid_fields for c in columns_of(key) if c not in missing]
        reasons += [f"invalid:{column}" for column in invalid]
        reasons += [f"check:{check}" for check in (row.checks if checks is None else checks)
                    if _flags(check, review_on)]  # fmt: skip
    placed = PLACED in row.review_reasons  # glare and objects lowered their fields
    reasons += [f"warning:{warning}" for warning in row.warnings if _flags(warning, review_on)
                and not (placed and warning in PLACED_RISKS)]  # fmt: skip
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
                confidence: Mapping[str, float] | None = None,
                review_on: Collection[str] = ()) -> Row:
    """A copy of ``row`` with ``needs_review`` and ``review_reasons`` filled in, and
    ``checks`` when given (one copy: rows are copied on their way to every output)."""
    reasons = review_reasons(row, checks=checks, confidence=confidence, review_on=review_on)
    changes: dict[str, object] = {"needs_review": bool(reasons), "review_reasons": reasons}
    if checks is not None:
        changes["checks"] = list(checks)
    return dataclasses.replace(row, **changes)  # type: ignore[arg-type]


def parse_review_on(value: str | Iterable[str]) -> tuple[str, ...]:
    """``copy,expired`` (or a list of names) -> the document risks, each once, in order.

    Raises ``ValueError`` naming the valid ones for anything else (settings turn it
    into a configuration error).
    """
    names = value.split(",") if isinstance(value, str) else list(value)
    risks = _unique(str(name).strip() for name in names if str(name).strip())
    unknown = [risk for risk in risks if risk not in DOCUMENT_RISKS]
    if unknown:
        raise ValueError(f"unknown risk(s) {', '.join(unknown)}; "
                         f"valid: {', '.join(DOCUMENT_RISKS)}")  # fmt: skip
    return tuple(risks)


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


def card_escalations(members: Iterable[Row]) -> list[str]:
    """Why the hybrid engine paid for a card's sides (``escalated_for``), each once."""
    return _unique(reason for row in members for reason in row.escalated_for)


__all__ = [
    "DISAGREE",
    "DOCUMENT_RISKS",
    "LOW_CONFIDENCE_BELOW",
    "PLACED",
    "PLACED_RISKS",
    "card_escalations",
    "card_reasons",
    "card_warnings",
    "parse_review_on",
    "placed_mark",
    "review_reasons",
    "with_review",
]
