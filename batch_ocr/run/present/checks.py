"""Checks on a recognised card that need no network: the ID number's own rules, and dates.

The provider's ``validity`` object says whether each field *looks* printed correctly;
these checks say whether the fields agree with each other and with the standards:

- the ID number: GB 11643-1999 "Citizen identification number" (structure, and the
  ISO 7064 MOD 11-2 check character) and GB/T 2260 (the province-level code);
- the ethnic group: GB/T 3304 "Names of nationalities of China", short forms as printed;
- the period of validity: the Resident Identity Card Law, article 5 (5, 10, 20 years or
  长期).

``check_row`` runs the checks that fit the row's side and returns the names of those
that failed, in ``CHECKS`` order.
"""

from __future__ import annotations

import contextlib
import datetime
import re

from batch_ocr.id_rules import (
    birth_date_from_id,
    id_checksum_ok,
    id_number_well_formed,
    nation_known,
    region_known,
    sex_from_id,
)
from batch_ocr.run.present.rows import BOTH, LONG_TERM, Row

#: Every check name, in the order ``check_row`` reports them.
CHECKS: tuple[str, ...] = (
    "id_checksum",
    "id_birth_mismatch",
    "id_sex_mismatch",
    "id_region_unknown",
    "nation_unknown",
    "validity_period_invalid",
    "expired",
)


#: Lengths of a valid period (Resident Identity Card Law, art. 5); over 46 it is 长期.
VALIDITY_YEARS: tuple[int, ...] = (5, 10, 20)

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_card_date(text: str) -> datetime.date | None:
    """A ``YYYY-MM-DD`` date, or None when ``text`` is anything else (including 长期)."""
    text = text.strip()
    if not _ISO_DATE.fullmatch(text):
        return None
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:  # 2019-02-30 has the shape but is no date
        return None


def _anniversaries(start: datetime.date, years: int) -> set[datetime.date]:
    """The dates a period of ``years`` starting on ``start`` may end on."""
    year = start.year + years
    if (start.month, start.day) != (2, 29):
        return {start.replace(year=year)}
    # No Feb 29 in a common year; issuing offices have printed both neighbours.
    ends = {datetime.date(year, 2, 28), datetime.date(year, 3, 1)}
    with contextlib.suppress(ValueError):  # Feb 29 itself when that year is leap
        ends.add(datetime.date(year, 2, 29))
    return ends


def validity_period_ok(valid_from: str, valid_to: str) -> bool:
    """True for a start date and an end 5, 10 or 20 years later (same day), or 长期."""
    start = parse_card_date(valid_from)
    if start is None:
        return False
    if valid_to.strip() == LONG_TERM:
        return True
    end = parse_card_date(valid_to)
    if end is None or end <= start:
        return False
    return any(end in _anniversaries(start, years) for years in VALIDITY_YEARS)


def is_expired(valid_to: str, *, as_of: datetime.date) -> bool:
    """True when ``valid_to`` is a date before ``as_of``.

    A card is valid through its last day, so ``valid_to == as_of`` is not expired.
    长期 and unparsable text are never "expired" (the latter fails the period check).
    """
    end = parse_card_date(valid_to)
    return end is not None and end < as_of


def _front_failures(row: Row) -> set[str]:
    failed: set[str] = set()
    if not id_checksum_ok(row.id_number):
        failed.add("id_checksum")
    # A misread number already fails id_checksum; comparing its garbled digits would
    # only add noise, so the cross-field checks need a well-formed number.
    if id_number_well_formed(row.id_number):
        # An empty printed field is a recognition gap (the provider's invalid_fields
        # reports it), not a contradiction, so it is not compared.
        birth_date = row.birth_date.strip()
        if birth_date and birth_date != birth_date_from_id(row.id_number):
            failed.add("id_birth_mismatch")
        sex = row.sex.strip()
        if sex and sex != sex_from_id(row.id_number):
            failed.add("id_sex_mismatch")
        if not region_known(row.id_number):
            failed.add("id_region_unknown")
    if not nation_known(row.nation):
        failed.add("nation_unknown")
    return failed


def _back_failures(row: Row, as_of: datetime.date) -> set[str]:
    failed: set[str] = set()
    if not validity_period_ok(row.valid_from, row.valid_to):
        failed.add("validity_period_invalid")
    if is_expired(row.valid_to, as_of=as_of):
        failed.add("expired")
    return failed


def check_row(row: Row, *, as_of: datetime.date) -> list[str]:
    """Names of the failed checks for ``row``, in ``CHECKS`` order; empty when all pass.

    The side picks the checks: a front gets the ID-number and nation checks, a back
    the validity checks, a ``both`` row all of them. A row without a side (errors,
    other documents) gets none: there is nothing on it these rules describe. ``as_of``
    is the day "expired" is judged against (pass the run's date; never read the clock
    here, so tests pin it).
    """
    if row.side == "front":
        failed = _front_failures(row)
    elif row.side == "back":
        failed = _back_failures(row, as_of)
    elif row.side == BOTH:  # both sides read on one page
        failed = _front_failures(row) | _back_failures(row, as_of)
    else:
        return []
    return [name for name in CHECKS if name in failed]
