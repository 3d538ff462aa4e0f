"""Local ID checks: each rule passing and failing, and how check_row combines them."""

from __future__ import annotations

import dataclasses
import datetime

import pytest

from batch_ocr import id_rules
from batch_ocr.run.present import checks
from batch_ocr.run.present.rows import Row

AS_OF = datetime.date(2024, 6, 1)

# The examples published with GB 11643-1999 (both carry a correct check character).
EXAMPLE_X = "11010519491231002X"  # Beijing 110105, born 1949-12-31, sequence 002 -> 女
EXAMPLE_4 = "440524188001010014"  # Guangdong 440524, born 1880-01-01, sequence 001 -> 男

FRONT = Row(
    file="a_front.jpg",
    status="ok",
    side="front",
    name="王小丽",
    sex="女",
    nation="汉",
    birth_date="1949-12-31",
    address="北京市朝阳区0号",
    id_number=EXAMPLE_X,
)
BACK = Row(
    file="a_back.jpg",
    status="ok",
    side="back",
    authority="北京市公安局朝阳分局",
    valid_from="2015-03-01",
    valid_to="2035-03-01",
)


def _with_check_char(first17: str) -> str:
    return first17 + id_rules.check_char(first17)


@pytest.mark.parametrize(
    ("number", "ok"),
    [
        (EXAMPLE_X, True),
        (EXAMPLE_4, True),
        ("11010519491231002x", True),  # lowercase x is the same character
        (" 11010519491231002X ", True),  # OCR padding
        ("110105194912310021", False),  # wrong check character
        ("440524188001010015", False),
        ("44052418800101001X", False),  # X where a digit belongs
        ("11010519491231002", False),  # 17 digits: check character missing
        ("11010519491231002XX", False),  # 19 characters
        ("110105194912310", False),  # 15-digit first-generation number
        ("1101051949123100AX", False),  # letter among the digits
        ("11010519491231002Y", False),
        ("１１０１０５１９４９１２３１００２X", False),  # full-width digits are not ASCII
        ("", False),
    ],
)
def test_id_checksum_ok(number: str, ok: bool) -> None:
    assert id_rules.id_checksum_ok(number) is ok


@pytest.mark.parametrize(
    ("first17", "char"),
    [("11010519491231002", "X"), ("44052418800101001", "4"), ("11010519900307123", "9")],
)
def test_check_char(first17: str, char: str) -> None:
    # The third case by hand: weighted sum 190, 190 mod 11 = 3, "10X98765432"[3] = "9".
    assert id_rules.check_char(first17) == char


@pytest.mark.parametrize("bad", ["1101051949123100", "110105194912310021", "1101051949123100a", ""])
def test_check_char_rejects_anything_but_17_digits(bad: str) -> None:
    with pytest.raises(ValueError, match="17 digits"):
        id_rules.check_char(bad)


def test_check_char_covers_every_remainder() -> None:
    # Every value of the mod-11 sum maps to its character; brute-force the last digit
    # pair so all 11 remainders occur, and verify against the definition.
    seen = set()
    for n in range(100):
        first17 = f"110105199001011{n:02d}"
        total = sum(int(d) * w for d, w in zip(first17, id_rules.CHECK_WEIGHTS, strict=True))
        seen.add(total % 11)
        assert id_rules.check_char(first17) == "10X98765432"[total % 11]
    assert seen == set(range(11))


def test_there_are_56_nations() -> None:
    assert len(id_rules.NATIONS) == 56
    assert len(set(id_rules.NATIONS)) == 56


@pytest.mark.parametrize(
    ("nation", "ok"),
    [
        ("汉", True),
        ("汉族", True),
        ("维吾尔", True),
        ("柯尔克孜族", True),
        ("基诺", True),
        (" 蒙古 ", True),
        ("穿青人", True),
        ("其他", True),
        ("外国血统", True),
        ("外国血统中国籍人士", True),
        ("汊", False),  # a lookalike OCR misread
        ("汉汉", False),
        ("穿青人族", False),
        ("族", False),
        ("", False),
    ],
)
def test_nation_known(nation: str, ok: bool) -> None:
    assert id_rules.nation_known(nation) is ok


@pytest.mark.parametrize(
    ("number", "ok"),
    [
        (EXAMPLE_X, True),
        (EXAMPLE_4, True),
        ("650102199001011234", True),
        ("710000199001011234", True),
        ("810000199001011234", True),
        ("830000199001011234", True),
        ("100000199001011234", False),
        ("160000199001011234", False),
        ("550102199001011234", False),
        ("910000199001011234", False),
        ("000000199001011234", False),
    ],
)
def test_region_known(number: str, ok: bool) -> None:
    assert id_rules.region_known(number) is ok


@pytest.mark.parametrize(
    ("valid_from", "valid_to", "ok"),
    [
        ("2015-03-01", "2020-03-01", True),  # 5 years
        ("2015-03-01", "2025-03-01", True),  # 10 years
        ("2015-03-01", "2035-03-01", True),  # 20 years
        ("2015-03-01", "长期", True),
        ("2015-03-01", " 长期 ", True),
        ("2016-02-29", "2026-02-28", True),  # Feb 29 start, common-year end: either neighbour
        ("2016-02-29", "2026-03-01", True),
        ("2016-02-29", "2021-03-01", True),
        ("2016-02-29", "2036-02-29", True),  # 20 years on is a leap year again
        ("2016-02-29", "2026-03-02", False),
        ("2016-02-28", "2026-03-01", False),  # the quirk is only for a Feb 29 start
        ("2015-03-01", "2030-03-01", False),  # 15 years is no period
        ("2015-03-01", "2025-03-02", False),  # off by a day
        ("2015-03-01", "2015-03-01", False),  # end not after start
        ("2035-03-01", "2015-03-01", False),
        ("2015-03-01", "", False),
        ("", "2025-03-01", False),
        ("长期", "2025-03-01", False),
        ("2015.03.01", "2025.03.01", False),  # not YYYY-MM-DD
        ("2015-3-1", "2025-3-1", False),
        ("2015-02-30", "2025-02-30", False),  # right shape, no such day
        ("2015-03-01", "永久", False),
    ],
)
def test_validity_period_ok(valid_from: str, valid_to: str, ok: bool) -> None:
    assert checks.validity_period_ok(valid_from, valid_to) is ok


@pytest.mark.parametrize(
    ("valid_to", "expired"),
    [
        ("2024-05-31", True),  # the day before as_of
        ("2024-06-01", False),  # valid through its last day
        ("2024-06-02", False),
        ("长期", False),
        ("garbled", False),  # the period check reports this one
        ("", False),
    ],
)
def test_is_expired(valid_to: str, expired: bool) -> None:
    assert checks.is_expired(valid_to, as_of=AS_OF) is expired


@pytest.mark.parametrize(
    ("changes", "failed"),
    [
        ({}, []),
        ({"id_number": EXAMPLE_4, "sex": "男", "birth_date": "1880-01-01"}, []),
        ({"id_number": "11010519491231002x"}, []),
        ({"nation": "汉族"}, []),
        ({"id_number": "110105194912310021"}, ["id_checksum"]),
        ({"birth_date": "1949-12-30"}, ["id_birth_mismatch"]),
        ({"birth_date": "1949/12/31"}, ["id_birth_mismatch"]),  # not normalised: says so
        ({"sex": "男"}, ["id_sex_mismatch"]),
        ({"sex": "田"}, ["id_sex_mismatch"]),  # neither 男 nor 女
        ({"nation": "汊"}, ["nation_unknown"]),
        ({"nation": ""}, ["nation_unknown"]),
        # Empty printed fields are recognition gaps, not contradictions.
        ({"birth_date": "", "sex": ""}, []),
        # Region 99 with a correct check character: only the region fails.
        ({"id_number": _with_check_char("99010519491231002")}, ["id_region_unknown"]),
        # Everything wrong at once, reported in CHECKS order.
        (
            {
                "id_number": "990105194912310011",
                "birth_date": "1950-01-01",
                "sex": "女",
                "nation": "火星",
            },
            [
                "id_checksum",
                "id_birth_mismatch",
                "id_sex_mismatch",
                "id_region_unknown",
                "nation_unknown",
            ],
        ),
        # A malformed number fails its checksum only: its digits mean nothing.
        ({"id_number": "1101051949123100", "sex": "男"}, ["id_checksum"]),
        ({"id_number": "1101051A49123100X2"}, ["id_checksum"]),
        ({"id_number": ""}, ["id_checksum"]),
        # A front never gets validity flags, whatever its back fields hold.
        ({"valid_from": "2000-01-01", "valid_to": "2001-01-01"}, []),
    ],
)
def test_check_row_front(changes: dict[str, str], failed: list[str]) -> None:
    row = dataclasses.replace(FRONT, **changes)  # type: ignore[arg-type]
    assert checks.check_row(row, as_of=AS_OF) == failed


@pytest.mark.parametrize(
    ("changes", "failed"),
    [
        ({}, []),
        ({"valid_to": "长期"}, []),
        ({"valid_from": "2004-06-01", "valid_to": "2024-06-01"}, []),  # last valid day
        ({"valid_from": "2004-05-31", "valid_to": "2024-05-31"}, ["expired"]),
        ({"valid_to": "2030-03-01"}, ["validity_period_invalid"]),
        ({"valid_from": "2004-03-01", "valid_to": "2019-03-01"}, ["validity_period_invalid", "expired"]),
        ({"valid_to": ""}, ["validity_period_invalid"]),
        ({"valid_from": "", "valid_to": ""}, ["validity_period_invalid"]),
        # A back never gets ID flags, whatever its front fields hold.
        ({"id_number": "garbage", "nation": "火星", "sex": "男"}, []),
    ],
)
def test_check_row_back(changes: dict[str, str], failed: list[str]) -> None:
    row = dataclasses.replace(BACK, **changes)  # type: ignore[arg-type]
    assert checks.check_row(row, as_of=AS_OF) == failed


@pytest.mark.parametrize("status", ["error", "not_id_card", "rejected"])
def test_check_row_without_side_checks_nothing(status: str) -> None:
    row = Row(file="x.jpg", status=status, id_number="garbage", valid_to="2000-01-01")  # type: ignore[arg-type]
    assert checks.check_row(row, as_of=AS_OF) == []


def test_every_reported_name_is_a_known_check() -> None:
    bad_front = dataclasses.replace(FRONT, id_number="990105194912310011", nation="?")
    bad_back = dataclasses.replace(BACK, valid_from="2000-01-01", valid_to="2003-01-01")
    names = checks.check_row(bad_front, as_of=AS_OF) + checks.check_row(bad_back, as_of=AS_OF)
    assert set(names) <= set(checks.CHECKS)


def test_a_row_with_both_sides_gets_the_checks_of_both() -> None:
    both = dataclasses.replace(FRONT, side="both", authority=BACK.authority,
                               valid_from="2015-03-01", valid_to="2025-03-01")  # fmt: skip
    assert checks.check_row(both, as_of=datetime.date(2026, 1, 1)) == ["expired"]
    broken = dataclasses.replace(both, id_number="110105194912310021", valid_to="2025-03-02")
    assert checks.check_row(broken, as_of=datetime.date(2026, 1, 1)) == [
        "id_checksum", "validity_period_invalid", "expired"]
