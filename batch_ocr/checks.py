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

from batch_ocr.rows import LONG_TERM, Row

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

#: GB 11643-1999, 6.2: weight of each of the first 17 digits (2^(18-i) mod 11).
CHECK_WEIGHTS: tuple[int, ...] = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
#: Check character for each value of the weighted sum mod 11.
CHECK_CHARS = "10X98765432"

#: First two digits of a province-level division (GB/T 2260). 71 (Taiwan) is listed
#: by GB/T 2260 though no mainland card carries it. 81/82/83 are not resident-card
#: codes at all: they prefix the 18-digit numbers of the residence permits for Hong
#: Kong, Macao and Taiwan residents (2018), which use the same number format and are
#: often scanned in the same batches. 9x (foreigners' permanent residence cards,
#: 2023 edition) is deliberately absent: those are not resident ID cards.
PROVINCE_CODES: frozenset[str] = frozenset({
    "11", "12", "13", "14", "15",
    "21", "22", "23",
    "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46",
    "50", "51", "52", "53", "54",
    "61", "62", "63", "64", "65",
    "71", "81", "82", "83",
})

#: The 56 ethnic groups, as the 民族 field prints them (GB/T 3304 without the 族).
NATIONS: tuple[str, ...] = (
    "汉", "蒙古", "回", "藏", "维吾尔", "苗", "彝", "壮", "布依", "朝鲜",
    "满", "侗", "瑶", "白", "土家", "哈尼", "哈萨克", "傣", "黎", "傈僳",
    "佤", "畲", "高山", "拉祜", "水", "东乡", "纳西", "景颇", "柯尔克孜", "土",
    "达斡尔", "仫佬", "羌", "布朗", "撒拉", "毛南", "仡佬", "锡伯", "阿昌", "普米",
    "塔吉克", "怒", "乌孜别克", "俄罗斯", "鄂温克", "德昂", "保安", "裕固", "京", "塔塔尔",
    "独龙", "鄂伦春", "赫哲", "门巴", "珞巴", "基诺",
)
#: What else a genuine card may print in the 民族 field. 穿青人 is printed on cards
#: issued in Guizhou to people of that undetermined group; GB/T 3304 code 97 is 其他
#: (其他未识别民族) and code 98 外国血统中国籍人士, which cards shorten to 外国血统
#: (both spellings accepted). Anything else is more likely an OCR error than a card.
OTHER_NATIONS: frozenset[str] = frozenset({
    "穿青人", "其他", "未识别民族", "外国血统", "外国血统中国籍人士",
})
#: Every accepted 民族 value: the short forms, the same with 族 (汉族, as some
#: recognisers and forms spell it), and ``OTHER_NATIONS``.
KNOWN_NATIONS: frozenset[str] = (
    frozenset(NATIONS) | frozenset(n + "族" for n in NATIONS) | OTHER_NATIONS
)

#: Lengths of a valid period (Resident Identity Card Law, art. 5); over 46 it is 长期.
VALIDITY_YEARS: tuple[int, ...] = (5, 10, 20)

# [0-9], not \d: \d also matches full-width and other Unicode digits.
_ID_SHAPE = re.compile(r"[0-9]{17}[0-9X]")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def normalize_id_number(number: str) -> str:
    """Surrounding whitespace removed, ``x`` upper-cased (cards print ``X``)."""
    return number.strip().upper()


def id_number_well_formed(number: str) -> bool:
    """True for 17 digits followed by a digit or X (lowercase x accepted)."""
    return bool(_ID_SHAPE.fullmatch(normalize_id_number(number)))


def check_char(first17: str) -> str:
    """The check character (``0``-``9`` or ``X``) for the first 17 digits of a number.

    Raises ``ValueError`` unless ``first17`` is exactly 17 ASCII digits.
    """
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError(f"expected 17 digits, got {first17!r}")
    total = sum(int(digit) * weight for digit, weight in zip(first17, CHECK_WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def id_checksum_ok(number: str) -> bool:
    """True when ``number`` is well formed and its 18th character is the right check char."""
    if not id_number_well_formed(number):
        return False
    normalized = normalize_id_number(number)
    return check_char(normalized[:17]) == normalized[17]


def birth_date_from_id(number: str) -> str:
    """``YYYY-MM-DD`` from digits 7-14 of a well-formed number, as printed (not validated)."""
    digits = normalize_id_number(number)[6:14]
    return f"{digits[:4]}-{digits[4:6]}-{digits[6:]}"


def sex_from_id(number: str) -> str:
    """``男`` when the 17th digit is odd, ``女`` when even (GB 11643-1999, 5.3)."""
    return "男" if int(normalize_id_number(number)[16]) % 2 else "女"


def region_known(number: str) -> bool:
    """True when the first two characters are a province-level code (``PROVINCE_CODES``)."""
    return normalize_id_number(number)[:2] in PROVINCE_CODES


def nation_known(nation: str) -> bool:
    """True for one of the 56 groups (with or without 族) or another printed form."""
    return nation.strip() in KNOWN_NATIONS


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
    the validity checks. A row without a side (errors, other documents) gets none:
    there is nothing on it these rules describe. ``as_of`` is the day "expired" is
    judged against (pass the run's date; never read the clock here, so tests pin it).
    """
    if row.side == "front":
        failed = _front_failures(row)
    elif row.side == "back":
        failed = _back_failures(row, as_of)
    else:
        return []
    return [name for name in CHECKS if name in failed]
