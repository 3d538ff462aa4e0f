"""The row statuses and what each means for the exit code, the journal and reruns.

One table (docs/reference.md, "Statuses"; docs/resume.md): every module that asks "is this status
clean?", "may this answer be reused for the same content?" or "does a later run try
this again?" asks here.

========== ====== ====== ================ =======================================
status     clean  final  --retry-failed   meaning
========== ====== ====== ================ =======================================
ok         yes    yes    no               the card was read
not_id_card yes   yes    no               no ID card: the API says so, or the picture
                                            is blank or tiny (no call made)
scan_failed yes   yes    redone           an ID card, but no field could be read
rejected   no     no     redone           refused before any call (bad file)
error      no     yes    redone           the API or the engine failed it
========== ====== ====== ================ =======================================

A ``--pair`` table's ``pair_status`` says what became of a card's images:

=========== =================================================================
pair_status meaning
=========== =================================================================
complete    one front and one back (or one image holding both sides)
front_only  a front alone
back_only   a back alone
ambiguous   images that cannot be told apart (two fronts, three images, ...)
unpaired    a record of an image that is no card side (an error, a receipt)
=========== =================================================================

*clean* rows leave the exit code at 0; *final* rows answer for their content, so the
same bytes under another name are never paid for again. Rows whose error was
transient are retried by the next run whatever their status says: the run's own
(the file was busy or vanished, a bug of ours) are listed here; the engine's (the API's
attempts ran out, a worker died) are the engine's to say (``Engine.retried_next_run``).
"""

from __future__ import annotations

from collections.abc import Set
from typing import Final, Literal

Status = Literal["ok", "not_id_card", "scan_failed", "rejected", "error"]
OK: Final = "ok"
NOT_ID_CARD: Final = "not_id_card"
SCAN_FAILED: Final = "scan_failed"
REJECTED: Final = "rejected"
ERROR: Final = "error"
STATUSES: tuple[Status, ...] = (OK, NOT_ID_CARD, SCAN_FAILED, REJECTED, ERROR)
#: Statuses that mean "this image was handled"; anything else makes the exit code 1.
CLEAN_STATUSES: frozenset[str] = frozenset({OK, NOT_ID_CARD, SCAN_FAILED})
#: Statuses of a file that failed with an error code: the ones not clean.
FAILED_STATUSES: frozenset[str] = frozenset(STATUSES) - CLEAN_STATUSES
#: Statuses whose row answers for the content: reused for the same bytes, never re-paid.
FINAL_STATUSES: tuple[Status, ...] = (OK, NOT_ID_CARD, SCAN_FAILED, ERROR)
#: Statuses ``--retry-failed`` sends again although they are final.
REDONE_BY_RETRY_FAILED: frozenset[str] = frozenset({REJECTED, ERROR, SCAN_FAILED})
#: Statuses whose pictures get image warnings (docs/warnings-and-review.md): a card was
#: read, or tried for and not read (blur or glare says why). Another picture's
#: warnings would mean nothing; every status but ``ok`` needs review anyway.
WARNED_STATUSES: frozenset[str] = frozenset({OK, SCAN_FAILED})

#: A ``--pair`` card's ``pair_status`` (the second table of the module docstring).
PairStatus = Literal["complete", "front_only", "back_only", "ambiguous"]
COMPLETE: Final = "complete"
FRONT_ONLY: Final = "front_only"
BACK_ONLY: Final = "back_only"
AMBIGUOUS: Final = "ambiguous"
PAIR_STATUSES: tuple[PairStatus, ...] = (COMPLETE, FRONT_ONLY, BACK_ONLY, AMBIGUOUS)
#: Cards that are not complete: a side is missing or the images clash.
INCOMPLETE_PAIR_STATUSES: frozenset[str] = frozenset(PAIR_STATUSES) - {COMPLETE}
#: The ``pair_status`` of a ``--pair`` record of an image that is no card side.
UNPAIRED: Final = "unpaired"

#: Row error codes of the run's own whose cause was transient: the file vanished or
#: could not be read (busy, locked), or an unexpected bug of ours struck. A later run
#: tries these again, and those the engine names (``Engine.retried_next_run``).
RUN_RETRY_NEXT_RUN_CODES: frozenset[str] = frozenset(
    {"file_vanished", "unreadable", "internal_error"}
)


def is_clean(status: str) -> bool:
    """True when a row of this status leaves the exit code at 0."""
    return status in CLEAN_STATUSES


def retry_next_run(status: str, error_code: str, engine_codes: Set[str] = frozenset()) -> bool:
    """True when a row's failure should be retried by the next run: a transient cause
    of the run's own, or one of ``engine_codes`` (its engine's ``retried_next_run``)."""
    return status in FAILED_STATUSES and (
        error_code in RUN_RETRY_NEXT_RUN_CODES or error_code in engine_codes)


def redone_by_retry_failed(status: str) -> bool:
    """True when ``--retry-failed`` sends a row of this status again."""
    return status in REDONE_BY_RETRY_FAILED
