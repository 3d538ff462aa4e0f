"""How sure the offline engine is of each field it read, as the share of such fields right.

A field's ``confidence`` means what it says (README, "Review signal"): of the fields
given 0.95 or more, at least 99.5% are right on the accuracy harness's sets
(``tests/benchmarks/accuracy.py`` prints the share per set), and a row whose every
field is at 0.95 or more and cross-checks needs no one to look at it.

It starts from the recogniser's least sure character among the lines the field was
read from (RapidOCR's line score is the mean over the characters, which one misread
character in a long address hardly moves), then weighs what else is known:

- the characters of an address or an office's name that name a chain of divisions
  (``regions.place_prefix``: 福建省厦门市思明区, 厦门市) are confirmed by the GB/T 2260
  table and leave the recogniser's doubt of them out (``rows_evidence``);
- a field that fails its own rule (``_checks``) is doubtful whatever the recogniser
  says: at most ``INVALID_AT_MOST``;
- a field a check confirms (a checksummed number; a period of validity of a lawful
  length; a nation read as one of the 56 names) keeps a tenth of the recogniser's
  doubt: a misread passes such a check about once in ten; a birth date and sex read as
  that number encodes them are as sure as its digits (what a stamp did to their own
  row no longer matters);
- a field the engine did not read as it gives it (a nation taken as the listed one a
  misread away, a name whose last character may be a stamp's or the holder's), or an
  address a line of which seems lost (its lines apart, or stopping among its divisions:
  ``regions.divisions_cut``), is at most ``AMENDED_AT_MOST``: what it gives is
  a guess. (A birth date or sex taken from a checksummed number is no guess: the
  number confirms it.)
- a field a copy's stamp crossed (its text cut out of one of the field's lines, or the
  field read again off its place because something lay across it) is judged on what
  is known beside the recogniser's word, since under a stamp the recogniser can be sure
  of a wrong character. A check confirms it as on any card: a checksummed number and
  the birth date and sex it encodes, a nation read as one of the names (none other
  listed holding it: 土 may be 土家 with 家 under the stamp), a dated period of a lawful
  length (长期 says nothing of the start date's digits). Unconfirmed, it keeps the
  recogniser's least sure character only where the field's shape leaves no room for
  a piece of the stamp at its edges: a field of a fixed form (sex, a date, the number,
  the period), a name neither starting nor ending with a stamp's character (``次陈超``
  kept 再次复印无效's 次 at 0.997), an address ending as addresses end
  (``ADDRESS_END``), an office's name starting with its place
  (``_back.office_start``); otherwise it is at most ``AMENDED_AT_MOST``. On the
  harness's copy pages and stamped copies (tuning seeds) every stamped field so
  confirmed, and every unconfirmed one at 0.95 or more with clean edges, was right;
  the stamped fields read wrong had a remnant at an edge (``…22号双``, ``入上海市…``,
  ``次陈超``) or a least sure character under 0.9.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from batch_ocr.engines.local._labels import digits
from batch_ocr.engines.local._rows import Row, clean
from batch_ocr.run.present.stamps import ADDRESS_END_CHARACTERS

#: Confidence a field failing its own rule can have at most.
INVALID_AT_MOST = 0.5
#: The share of the recogniser's doubt a confirming check leaves.
CONFIRMED_DOUBT_SHARE = 0.1
#: Confidence a field amended, stamped over or missing a line can have at most: under
#: the 0.95 a row is accepted at.
AMENDED_AT_MOST = 0.9
#: How an address ends (a number, a house, a room, a village or its group, ...): one a
#: stamped copy's address ends otherwise holds what the stamp left (``…22号双``).
ADDRESS_END = re.compile(rf"[{ADDRESS_END_CHARACTERS}]$")
#: Address lines further apart than this many line heights have lost one between them.
ADDRESS_LINE_GAP = 1.5


@dataclass(frozen=True, slots=True)
class Evidence:
    """What is known about one field beside its text."""

    #: The recogniser's least sure character among the field's lines (0: none read).
    least: float
    #: The field passes its own rule.
    valid: bool
    #: Another field, or a rule across fields, confirms it.
    confirmed: bool = False
    #: Not what was read (a nation snapped to the list, a stamp's end cut off a name,
    #: a tail cut after an office's name), or a line lost between its lines.
    amended: bool = False
    #: A copy's stamp or watermark was cut out of one of its lines, or the field was
    #: read again off its place because something lay across it.
    stamped: bool = False
    #: For a stamped field: its edges are as its kind's are (nothing of the stamp seen
    #: left at its start or end), so the recogniser's word may stand unconfirmed.
    clean_edges: bool = False


def field_confidence(evidence: Evidence) -> float:
    """The 0-1 confidence of a field (rounded to 3 places): see the module docstring."""
    score = evidence.least
    if evidence.confirmed:
        score = 1.0 - CONFIRMED_DOUBT_SHARE * (1.0 - score)
    if not evidence.valid:
        score = min(score, INVALID_AT_MOST)
    if evidence.amended or (
        evidence.stamped and not evidence.confirmed and not evidence.clean_edges
    ):
        score = min(score, AMENDED_AT_MOST)
    return round(max(0.0, min(1.0, score)), 3)


def rows_evidence(
    rows: Sequence[Row], indices: Sequence[int | None], value: str, *, valid: bool,
    confirmed: bool = False, amended: bool = False, stamped: bool = False,
    clean_edges: bool = False, places: str = "",
) -> Evidence:  # fmt: skip
    """The evidence of ``value``, read from ``rows[i]`` for each of ``indices`` (None:
    not found): the least sure of its characters, and whether a stamp crossed it (any
    of those rows stamped over, or ``stamped``: a stamp's end cut off the value itself)
    or another card's text was cut off one of its rows (amended: what it hid is not
    known).

    A character of the rows counts when ``value`` holds it: the label read in the same
    box (签发机关 before the office's name), a space or a stamp's remnant cut out do not.
    Nor does a name's middle dot: the recogniser spreads its probability over the
    several dots it knows (· • ・ ‧ ...), which are all read as the one dot. Nor do the
    characters of ``places``, the start of ``value`` that names a chain of divisions
    (``regions.place_prefix``: 福建省厦门市思明区 of an address, 厦门市 of an office),
    unless the rest of ``value`` holds them too: a misread seldom lands on a real name
    inside the one read before it, so the table confirms them (the recogniser reads 厦
    right at 0.82-0.87); a line holding nothing else counts as sure. Rows whose
    characters the recogniser did not give count whole (``Row.least``).
    """
    found = [rows[i] for i in indices if i is not None]
    named = set(_comparable(places)) if value.startswith(places) else set()
    held = set(_comparable(value[len(places):] if named else value)) - {"·"}
    scores = []
    for row in found:
        own = [p for ch, p in row.chars if set(_comparable(ch)) & held]
        if not own and named and any(set(_comparable(ch)) & named for ch, _ in row.chars):
            continue  # a line of place names only (an address's first), all confirmed
        scores.append(min(own) if own else row.least)
    stamped = stamped or any(row.stamped for row in found)
    amended = amended or any(row.overlapped for row in found)
    least = min(scores, default=1.0 if found else 0.0)
    return Evidence(least, valid, confirmed, amended, stamped, clean_edges)


def _comparable(text: str) -> str:
    """``text`` as the fields hold it: cleaned, digits for their look-alikes."""
    return digits(clean(text))


def lines_lost_between(rows: Sequence[Row], indices: Sequence[int]) -> bool:
    """Whether the rows of a field of several lines lie further apart than its lines do
    (``ADDRESS_LINE_GAP`` line heights): a line between them was not read."""
    found = [rows[i] for i in indices]
    if len(found) < 2:
        return False
    height = sorted(row.bottom - row.top for row in found)[len(found) // 2]
    pairs = zip(found, found[1:], strict=False)
    return any(below.top - above.top > ADDRESS_LINE_GAP * height for above, below in pairs)
