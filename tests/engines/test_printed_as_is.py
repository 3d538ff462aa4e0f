"""Print what is printed: a card's value that breaks a rule is read as the card shows it.

Cards drawn by ``samples/make_samples.py`` carry a number of 17 or 19 characters, a
wrong check character, a 30 February; the offline engine must give the field as
printed (never cut to 18, never glued to the address above it, never corrected from
another field), say why in ``invalid_fields`` and ``checks``, and flag the row for
review (README, "Review signal").
"""

from __future__ import annotations

import dataclasses
import datetime
import io
import random
from typing import Any

import pytest

from batch_ocr.run.present.checks import check_row
from batch_ocr.run.present.review import with_review
from batch_ocr.run.present.rows import Row, row_from_card
from tests.card_pages import make_samples
from tests.skips import needs_local

pytestmark = [needs_local, pytest.mark.slow]  # ~0.5 s of CPU a card

AS_OF = datetime.date(2026, 1, 1)


def _person() -> Any:
    samples = make_samples()
    return samples.make_person(random.Random(3), long_address=True)


def _row(image: Any, *, copy: bool = False) -> Row:
    """The row a run writes for ``image`` (a grey copy of it with ``copy``)."""
    from batch_ocr.engines.local import recognise

    if copy:
        image = image.convert("L").convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    result = recognise(buffer.getvalue())
    row = row_from_card("card.png", result.data, attempts=1, sha256="",
                        confidence=result.confidence)  # fmt: skip
    row = dataclasses.replace(row, warnings=list(result.warnings or ()))
    return with_review(row, checks=check_row(row, as_of=AS_OF))


def _wrong_check(number: str) -> str:
    samples = make_samples()
    right = samples.ID_CHECK_CHARS.index(number[17])
    return number[:17] + samples.ID_CHECK_CHARS[(right + 1) % 11]


@pytest.mark.parametrize(
    ("what", "number_of"),
    [
        ("17 characters", lambda n: n[:17]),
        ("19 characters (its first 18 pass the check)", lambda n: n + "7"),
        ("a wrong check character", _wrong_check),
    ],
)
def test_a_number_breaking_its_rule_is_read_as_printed(what: str, number_of: Any) -> None:
    samples = make_samples()
    person = _person()
    printed = dataclasses.replace(person, number=number_of(person.number))
    row = _row(samples.draw_front(printed)[0], copy=what.startswith("17"))
    assert row.id_number == printed.number, what
    assert row.address == person.address  # no digit of the number in it
    assert row.birth_date == person.birth.isoformat() and row.sex == person.sex
    assert "id_number" in row.invalid_fields and "id_checksum" in row.checks
    assert row.needs_review and "check:id_checksum" in row.review_reasons


def test_a_birth_date_that_does_not_exist_is_read_as_printed() -> None:
    samples = make_samples()
    person = _person()
    first17 = f"{person.number[:6]}19900230{person.number[14:17]}"
    printed = dataclasses.replace(person, number=first17 + samples.id_check_char(first17))
    row = _row(samples.draw_front(printed, birth_printed=("1990", "2", "30"))[0])
    assert (row.birth_date, row.id_number) == ("1990-02-30", printed.number)
    assert {"birth_date", "id_number"} <= set(row.invalid_fields)
    assert row.needs_review and "invalid:birth_date" in row.review_reasons


def test_a_period_with_a_day_that_does_not_exist_is_read_as_printed() -> None:
    samples = make_samples()
    person = _person()
    row = _row(samples.draw_back(person, period_printed="2019.02.30-2029.02.30"))
    assert (row.valid_from, row.valid_to) == ("2019-02-30", "2029-02-30")
    assert row.authority == person.authority
    assert row.invalid_fields == ["valid_from", "valid_to"]
    assert row.checks == ["validity_period_invalid"]
    assert row.needs_review
